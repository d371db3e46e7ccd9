using System.Text;
using System.Text.RegularExpressions;
using Kslurm.Json;

namespace Kslurm.Tests.Kjupyter;

/// <summary>
/// kjupyter as a person uses it: start it, run the printed ssh line on their computer, open the
/// printed URL in a browser (headless Chromium), make a notebook, run a cell, read its output from
/// the page. Debian has the classic Notebook 6, so that is what the default starts and what the
/// browser drives. Screenshots: tests/Kslurm.Tests/TestResults/browser/.
/// </summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KjupyterBrowserTests
{
    const string Cell = "import socket, sys; print(socket.gethostname(), sys.prefix)";

    static string Screenshots => Path.Combine(Repo.Root, "tests", "Kslurm.Tests", "TestResults", "browser");

    [Fact]
    public void The_kernel_of_a_venv_server_runs_on_the_node_from_its_scratch()
    {
        using var u = new ClusterUser();
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        // a venv made as users do (pip install notebook): pip's entry script, and the kernelspec
        // ipykernel's wheel puts into the venv (argv "python": Jupyter runs its own interpreter)
        var made = Path.Combine(u.Home, "made", "jv");
        Expect.Ok(u.Run("/usr/bin/python3", ["-m", "venv", "--without-pip", "--system-site-packages", made]));
        File.WriteAllText(Path.Combine(made, "bin", "jupyter-notebook"), $"""
            #!{made}/bin/python3
            # -*- coding: utf-8 -*-
            import re
            import sys
            from notebook.notebookapp import main
            if __name__ == '__main__':
                sys.argv[0] = re.sub(r'(-script\.pyw|\.exe)?$', '', sys.argv[0])
                sys.exit(main())

            """);
        File.SetUnixFileMode(Path.Combine(made, "bin", "jupyter-notebook"), (UnixFileMode)0b111_101_101);
        var spec = Path.Combine(made, "share", "jupyter", "kernels", "python3");
        Directory.CreateDirectory(spec);
        File.WriteAllText(Path.Combine(spec, "kernel.json"),
            """{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python 3 (ipykernel)", "language": "python", "metadata": {"debugger": true}}""");
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", made]);
        Expect.Ok(u.Run("env", [$"VIRTUAL_ENV={made}", Cluster.Tool("kpy"), "save", "jv"]));
        Expect.Ok(u.Run("rm", ["-rf", made]));

        // the admin's site file names the login node as users reach it; it comes before the variable
        File.WriteAllText(Path.Combine(u.Home, "site-config.toml"), $"[jupyter]\nlogin_host = \"{Laptop.LoginAlias}\"\n");
        u.Env["KSLURM_LOGIN_HOST"] = "not-this-name.example.org";
        RunCellInBrowser(u, "Python 3 (ipykernel)", "jv", "venv-server", "--venv", "jv");
    }

    [Fact]
    public void A_kernel_installed_for_a_venv_is_chosen_by_name_and_runs_from_the_jobs_scratch()
    {
        using var u = new ClusterUser();
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        var made = Path.Combine(u.Home, "made", "sci");
        Expect.Ok(u.Run("/usr/bin/python3", ["-m", "venv", "--without-pip", "--system-site-packages", made]));
        Expect.Ok(u.Run("env", [$"VIRTUAL_ENV={made}", Cluster.Tool("kpy"), "save", "sci"]));
        Expect.Ok(u.Run("rm", ["-rf", made]));
        Expect.Ok(u.Tool("kjupyter", "kernel", "install", "sci", "--venv", "sci", "--display-name", "Science (sci)"));

        // the user's own file wins over the site's and over the variable
        File.WriteAllText(Path.Combine(u.Home, "site-config.toml"), "[jupyter]\nlogin_host = \"site.example.org\"\n");
        u.Env["KSLURM_LOGIN_HOST"] = "not-this-name.example.org";
        Expect.Ok(u.Tool("kslurm", "config", "jupyter.login_host", Laptop.LoginAlias));
        Expect.Ok(u.Tool("kslurm", "config", "jupyter.login_user", u.Name));
        RunCellInBrowser(u, "Science (sci)", "sci", "venv-kernel");
    }

    /// <summary>
    /// Starts kjupyter (detached), runs its ssh line on the laptop, and in the browser makes a
    /// notebook with the kernel shown as `kernel`, runs <see cref="Cell"/> and checks it ran on the
    /// node from the venv loaded onto the job's scratch. The job is stopped in any case.
    /// </summary>
    static void RunCellInBrowser(ClusterUser u, string kernel, string venv, string shot, params string[] options)
    {
        using var laptop = new Laptop(u);
        var r = u.Tool("kjupyter", ["0:10", "1", "1G", "--detach", .. options]);
        Expect.Ok(r);
        var job = Regex.Match(r.Stdout, @"^Jupyter Notebook 6 \(classic\) is running in job (\d+) on ", RegexOptions.Multiline).Groups[1].Value;
        Assert.True(job.Length > 0, r.ToString());
        try
        {
            var output = InBrowser(u, laptop, r, job, kernel, shot);
            Assert.Equal($"{Cluster.NodeOf(job)} {Scratch(u, job)}/kpy/{venv}", output);
        }
        finally
        {
            u.Tool("kjupyter", "stop", job);
        }
    }

    static string InBrowser(ClusterUser u, Laptop laptop, Result r, string job, string kernel, string shot)
    {
        var node = Cluster.NodeOf(job);
        var tunnel = Regex.Match(r.Stdout, $@"on your computer:\s+(ssh -N -L (\d+):{node}:\2 {u.Name}@{Laptop.LoginAlias})\n");
        Assert.True(tunnel.Success, r.ToString());
        var url = Regex.Match(r.Stdout, @"then open (http://localhost:\d+/tree\?token=\w+)\n").Groups[1].Value;
        Assert.StartsWith($"http://localhost:{tunnel.Groups[2].Value}/", url);

        // without the tunnel the laptop cannot reach the server
        var direct = laptop.Run("curl", ["-s", "-o", "/dev/null", "--max-time", "5", url], 20_000);
        Assert.NotEqual(0, direct.Code);

        var sshLog = new StringBuilder();
        using var ssh = laptop.Ssh(tunnel.Groups[1].Value, sshLog);
        var script = Path.Combine(laptop.Home, "browser_notebook.py");
        File.Copy(Path.Combine(Repo.Root, "tests", "Kslurm.Tests", "Kjupyter", "browser_notebook.py"), script);
        File.SetUnixFileMode(script, (UnixFileMode)0b110_100_100);
        var png = Path.Combine(laptop.Home, shot + ".png");
        var b = laptop.Run("/usr/bin/python3", [script, url, kernel, Cell, png], 200_000);
        if (File.Exists(png))
        {
            Directory.CreateDirectory(Screenshots);
            File.Copy(png, Path.Combine(Screenshots, shot + ".png"), overwrite: true);
        }
        var context = $"{b}\n--- ssh\n{sshLog}\n--- sshd\n{laptop.SshdLog}\n--- job log\n{u.Tool("kjupyter", "log", job, "-n", "40").Stdout}";
        Assert.True(b.Code == 0, context);
        Assert.False(ssh.HasExited, "the tunnel ended early\n" + context);
        var page = (JsonObject)JsonText.Parse(b.Stdout.Trim().Split('\n')[^1])!;
        Assert.Equal(kernel, page.String("kernel"));
        Assert.Equal(Cell, page.String("input"));
        Assert.Matches(@"^http://localhost:\d+/notebooks/Untitled\d*\.ipynb$", page.String("url"));
        // the tunnel was what carried it: sshd forwarded to the node's port
        Assert.Contains($"target {node} port {tunnel.Groups[2].Value}", laptop.SshdLog);
        return page.String("output")!.Trim();
    }

    /// <summary>The job's $SLURM_TMPDIR, asked on the node.</summary>
    static string Scratch(ClusterUser u, string job)
    {
        var r = u.Tool("kjupyter", "shell", job, "--", "printenv", "SLURM_TMPDIR");
        Expect.Ok(r);
        var scratch = r.Stdout.Trim();
        Assert.StartsWith("/", scratch);
        return scratch;
    }
}
