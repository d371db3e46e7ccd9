using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Kslurm.Tests.Kjupyter;

/// <summary>kjupyter's server in a real Slurm job, with Debian's jupyter-server / notebook.</summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KjupyterServerTests
{
    static string Url(Result r) => Regex.Match(r.Stdout, @"http://localhost:\d+\S*").Value;

    static string Status(string nodeUrl)
    {
        // GET /api/status with the token, from the cluster side
        var m = Regex.Match(nodeUrl, @"^(http://[^/]+)\S*\?token=(\w+)$");
        using var s = new Sandbox();
        return s.Exec("curl", ["-s", "-H", $"Authorization: token {m.Groups[2].Value}", m.Groups[1].Value + "/api/status"]).Stdout;
    }

    static string JobOf(Result r) => Regex.Match(r.Stdout, @"running in job (\d+)").Groups[1].Value;

    static string SubmittedJob(Result r)
    {
        var id = Regex.Match(r.Stderr, @"submitted job (\d+)").Groups[1].Value;
        Assert.NotEqual("", id);
        return id;
    }

    /// <summary>kjupyter ARGS as the test user, in its own process group (for a Ctrl-C to all of it).</summary>
    static Process Foreground(ClusterUser u, params string[] args)
        => Process.Start(new ProcessStartInfo("setsid", ["runuser", "-u", u.Name, "--", .. u.CleanEnv(),
            Cluster.Tool("kjupyter"), .. args])
        { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = u.Work })!;

    static string Queued(string job) => new Sandbox().Exec("squeue", ["-h", "-j", job]).Stdout.Trim();

    [Fact]
    public void Detached_server_answers_with_its_token_and_the_session_commands_find_it()
    {
        using var u = new ClusterUser();
        // the ssh line's host and user: the variable when no setting names them
        u.Env["KSLURM_LOGIN_HOST"] = "login.example.org";
        Expect.Ok(u.Tool("kslurm", "config", "jupyter.login_user", "someone"));
        // a site's wrapper (a module's, say): its text does not tell Notebook 6 from 7, --version does
        var fake = Path.Combine(u.Home, "fakebin");
        Directory.CreateDirectory(fake);
        File.WriteAllText(Path.Combine(fake, "jupyter-notebook"), "#!/bin/sh\nexec /usr/bin/jupyter-notebook \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(fake, "jupyter-notebook"), (UnixFileMode)0b111_101_101);
        u.Env["PATH"] = $"{fake}:/usr/bin:/bin";
        var r = u.Tool("kjupyter", "0:10", "1", "1G", "--detach");
        Expect.Ok(r);
        var job = JobOf(r);
        Assert.NotEqual("", job);
        var node = Cluster.NodeOf(job); // the compute node the server runs on, never the login node
        // Debian has no JupyterLab: the default is the classic Notebook, never the bare server
        Assert.Contains($"Jupyter Notebook 6 (classic) is running in job {job} on {node}", r.Stdout);
        Assert.Matches($@"ssh -N -L (\d+):{node}:\1 someone@login.example.org\n", r.Stdout);
        var nodeUrl = Regex.Match(r.Stdout, $@"http://{node}:\d+/tree\?token=\w+").Value;
        Assert.Contains("\"started\"", Status(nodeUrl));
        if (Cluster.MultiNode) // it answered through the node's address: the login node's loopback has nothing there
            Assert.NotEqual(0, new Sandbox().Exec("curl", ["-s", "-m", "5", "-o", "/dev/null", Regex.Replace(nodeUrl, @"//[^:/]+:", "//127.0.0.1:")]).Code);

        var list = u.Tool("kjupyter", "list");
        Assert.Matches($@"{job}\s+RUNNING\s+{node}\s+\d+\s+notebook6", list.Stdout);
        Assert.Equal(Url(r) + "\n", u.Tool("kjupyter", "url").Stdout);
        Assert.Equal(Url(r) + "\n", u.Tool("kjupyter", "url", job).Stdout);
        Assert.Equal(Url(r) + "\n", u.Tool("kjupyter", "url", "browser").Stdout); // kslurm's words
        Assert.Equal(nodeUrl + "\n", u.Tool("kjupyter", "url", "server", job).Stdout);
        Assert.StartsWith("ssh -N -L ", u.Tool("kjupyter", "tunnel", job).Stdout);
        // a command on the server's node, as a step of its job; argv verbatim
        var step = u.Tool("kjupyter", "shell", "--", "sh", "-c", "echo \"$SLURM_JOB_ID $SLURMD_NODENAME $1\"", "sh", "a  b");
        Expect.Ok(step);
        Assert.Equal($"{job} {node} a  b\n", step.Stdout);
        Assert.Equal(3, u.Tool("kjupyter", "shell", job, "--", "sh", "-c", "exit 3").Code);
        Krun.CommandWordsClusterTests.DashProgram(u); // after --, a word starting with a dash is the command, not srun's option
        Assert.Equal("x\0y y", u.Tool("kjupyter", "shell", job, "--", "--qos=x", "x", "y y").Stdout);
        Expect.Error(u.Tool("kjupyter", "shell", job, "--"), "kjupyter", 2, "missing COMMAND after --");
        Assert.Contains($"kjupyter: starting Jupyter Notebook 6 (classic): {fake}/jupyter-notebook on {node}:", u.Tool("kjupyter", "log", job, "-n", "50").Stdout);
        // the token is in no process's argv
        Assert.DoesNotContain(Regex.Match(nodeUrl, @"token=(\w+)").Groups[1].Value, new Sandbox().Exec("ps", ["-eo", "args"]).Stdout);

        // squeue failing is said, and no session record is thrown away because of it
        File.WriteAllText(Path.Combine(fake, "squeue"), "#!/bin/sh\necho 'squeue: error: Unable to contact slurm controller' >&2\nexit 1\n");
        File.SetUnixFileMode(Path.Combine(fake, "squeue"), (UnixFileMode)0b111_101_101);
        u.Env["PATH"] = $"{fake}:/usr/bin:/bin";
        Expect.Error(u.Tool("kjupyter", "list"), "kjupyter", 1, "squeue failed: squeue: error: Unable to contact slurm controller");
        Expect.Error(u.Tool("kjupyter", "url"), "kjupyter", 1, "squeue failed");
        u.Env.Remove("PATH");
        var record = Path.Combine(u.Home, ".local", "state", "kslurm", "jupyter", job + ".json");
        Assert.True(File.Exists(record));

        Expect.Ok(u.Tool("kjupyter", "stop", job));
        Assert.Equal("", new Sandbox().Exec("squeue", ["-h", "-j", job]).Stdout.Trim());
        Assert.False(File.Exists(record));
        Expect.Error(u.Tool("kjupyter", "url"), "kjupyter", 1, "no running Jupyter session");
    }

    [Fact]
    public async Task Ctrl_c_in_the_foreground_cancels_the_job()
    {
        using var u = new ClusterUser();
        using var p = Foreground(u, "0:10", "1", "1G", "--notebook");
        var err = p.StandardError.ReadToEndAsync();
        string? line;
        var seen = "";
        while ((line = await p.StandardOutput.ReadLineAsync()) is not null && !line.Contains("stop it:"))
            seen += line + "\n";
        Assert.Contains("Jupyter Notebook 6 (classic) is running in job", seen);
        Assert.Matches(@"http://localhost:\d+/tree\?token=\w+", seen);
        var job = Regex.Match(seen, @"running in job (\d+)").Groups[1].Value;
        new Sandbox().Exec("kill", ["-s", "INT", "--", $"-{p.Id}"]);
        Assert.True(p.WaitForExit(30_000), "kjupyter did not end after Ctrl-C");
        Assert.Equal(130, p.ExitCode);
        Assert.Contains($"job {job} is cancelled", await err);
        Assert.Equal("", new Sandbox().Exec("squeue", ["-h", "-j", job]).Stdout.Trim());
    }

    [Fact]
    public async Task A_lost_terminal_ends_the_foreground_session()
    {
        using var u = new ClusterUser();
        using var p = Foreground(u, "0:10", "1", "1G");
        var err = p.StandardError.ReadToEndAsync();
        string? line;
        while ((line = await p.StandardOutput.ReadLineAsync()) is not null && !line.Contains("stop it:")) { }
        Assert.NotNull(line);
        var job = Regex.Match(line, @"kjupyter stop (\d+)").Groups[1].Value;
        new Sandbox().Exec("kill", ["-s", "HUP", "--", $"-{p.Id}"]);
        Assert.True(p.WaitForExit(30_000), "kjupyter did not end after SIGHUP");
        Assert.Contains($"job {job} is cancelled", await err);
        Assert.Equal("", Queued(job));
    }

    [Fact]
    public async Task A_queued_job_says_why_it_waits_and_Ctrl_c_cancels_it()
    {
        using var u = new ClusterUser();
        using var p = Foreground(u, "0:10", "--begin=now+10minutes");
        var output = p.StandardOutput.ReadToEndAsync();
        string? line;
        var seen = "";
        while ((line = await p.StandardError.ReadLineAsync()) is not null && !line.Contains("is pending"))
            seen += line + "\n";
        Assert.NotNull(line);
        var job = Regex.Match(seen, @"submitted job (\d+)").Groups[1].Value;
        Assert.Matches($@"^kjupyter: job {job} is pending \(BeginTime\); Slurm expects it to start at \d{{4}}-\d\d-\d\d \d\d:\d\d$", line);
        new Sandbox().Exec("kill", ["-s", "INT", "--", $"-{p.Id}"]);
        Assert.True(p.WaitForExit(30_000), "kjupyter did not end after Ctrl-C");
        Assert.Equal(130, p.ExitCode);
        Assert.Equal("", await output);
        Assert.Equal("", Queued(job));
    }

    [Fact]
    public void Missing_jupyter_fails_with_the_log_tail_and_no_job_left()
    {
        using var u = new ClusterUser();
        // sessions of long ago: their logs go at the next start (a recent one stays)
        var dir = Path.Combine(u.Home, ".local", "state", "kslurm", "jupyter");
        Directory.CreateDirectory(dir);
        foreach (var id in new[] { "11", "12", "13" })
        {
            File.WriteAllText(Path.Combine(dir, id + ".log"), "old\n");
            File.SetLastWriteTimeUtc(Path.Combine(dir, id + ".log"), DateTime.UtcNow.AddDays(id == "13" ? -2 : -40));
        }
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", Path.Combine(u.Home, ".local")]);
        Assert.Contains("no Jupyter sessions", u.Tool("kjupyter", "list").Stderr);
        var r = u.Tool("kjupyter", "0:10", "--lab"); // Debian ships no JupyterLab
        Expect.ErrorAtEnd(r, "kjupyter", 1, "before Jupyter answered");
        // what is there instead is named, and how to start it
        Assert.Contains("kjupyter: error: no JupyterLab in this environment (looked for jupyter-lab); installed: Jupyter Notebook 6 (classic), Jupyter Server (no web interface)", r.Stderr);
        Assert.Contains("kjupyter: hint: start Jupyter Notebook 6 (classic) with --notebook, or", r.Stderr);
        Assert.False(File.Exists(Path.Combine(dir, "11.log")) || File.Exists(Path.Combine(dir, "12.log")));
        Assert.True(File.Exists(Path.Combine(dir, "13.log")));
        Assert.Equal("", Queued(SubmittedJob(r)));
    }

    [Fact]
    public void A_server_that_never_answers_is_cancelled_after_the_timeout()
    {
        using var u = new ClusterUser();
        var fake = Path.Combine(u.Home, "fakebin");
        Directory.CreateDirectory(fake);
        File.WriteAllText(Path.Combine(fake, "jupyter-server"), "#!/bin/sh\necho 'stand-in jupyter that never listens'\nsleep 600\n");
        File.SetUnixFileMode(Path.Combine(fake, "jupyter-server"), (UnixFileMode)0b111_101_101);
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", fake]);
        u.Env["PATH"] = $"{fake}:/usr/bin:/bin";
        u.Env["KSLURM_JUPYTER_TIMEOUT"] = "4";
        var r = u.Tool("kjupyter", "0:10", "--server");
        Expect.ErrorAtEnd(r, "kjupyter", 1, "did not answer within 4 s");
        Assert.Contains("stand-in jupyter that never listens", r.Stderr);
        Assert.Equal("", Queued(SubmittedJob(r)));
    }

    [Fact]
    public void Venv_without_jupyter_is_said_clearly()
    {
        using var u = new ClusterUser();
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        u.Env["TMPDIR"] = Path.Combine(u.Home, "tmp");
        Expect.Ok(u.Run("bash", ["-c", $"mkdir -p \"$TMPDIR\"; eval \"$({Cluster.Tool("kpy")} init bash)\"; kpy create plain 2>/dev/null && kpy save plain"]));
        var r = u.Tool("kjupyter", "0:10", "--venv", "plain");
        Expect.ErrorAtEnd(r, "kjupyter", 1, "before Jupyter answered");
        Assert.Contains("kjupyter: error: no Jupyter in venv plain (looked for jupyter-lab, jupyter-notebook, jupyter-nbclassic)", r.Stderr);
        Assert.Contains("kpy load plain; pip install jupyterlab", r.Stderr);
    }

    [Fact]
    public void Venv_is_loaded_onto_the_node_and_its_jupyter_runs()
    {
        using var u = new ClusterUser();
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        u.Env["TMPDIR"] = Path.Combine(u.Home, "tmp");
        // a venv that sees Debian's jupyter_server, with its own entry point in bin/
        var kpy = Cluster.Tool("kpy");
        var r0 = u.Run("bash", ["-c", $"""
            set -e
            v="$TMPDIR/kpy-$USER/jv"; mkdir -p "$(dirname "$v")"
            /usr/bin/python3 -m venv --system-site-packages "$v"
            printf '#!%s/bin/python\nimport sys\nfrom jupyter_server.serverapp import main\nsys.exit(main())\n' "$v" > "$v/bin/jupyter-server"
            chmod +x "$v/bin/jupyter-server"
            VIRTUAL_ENV="$v" {kpy} save jv
            rm -rf "$v"
            """]);
        Expect.Ok(r0);
        // a bare Jupyter Server has no web interface: it runs only when asked for
        var bare = u.Tool("kjupyter", "0:10", "--venv", "jv");
        Expect.ErrorAtEnd(bare, "kjupyter", 1, "before Jupyter answered");
        Assert.Contains("no Jupyter interface in venv jv (looked for jupyter-lab, jupyter-notebook, jupyter-nbclassic); installed: Jupyter Server (no web interface)", bare.Stderr);
        Assert.Contains("kjupyter: hint: start Jupyter Server (no web interface) with --server, or", bare.Stderr);
        var r = u.Tool("kjupyter", "0:10", "--venv", "jv", "--detach", "--debug", "--server");
        Expect.Ok(r);
        Assert.Contains("Jupyter Server (no web interface) is running in job", r.Stdout);
        var job = JobOf(r);
        // --debug: the job's log, Jupyter's own lines included, came to stderr while waiting
        Assert.Contains("kpy: unpacking jv", r.Stderr);
        Assert.Contains("ServerApp] Jupyter Server", r.Stderr);
        Assert.DoesNotContain("ServerApp]", r.Stdout);
        var log = u.Tool("kjupyter", "log", job, "-n", "200").Stdout;
        Assert.Contains("kpy: unpacking jv", log);
        Assert.Matches(@"kjupyter: starting Jupyter Server \(no web interface\): /\S+/kpy/jv/bin/jupyter-server on ", log);
        // the node's URL, not the tunnel's localhost one (which is the server only when the login node is the node)
        Assert.Contains("\"started\"", Status(Regex.Match(r.Stdout, $@"http://{Cluster.NodeOf(job)}:\d+/\?token=\w+").Value));
        // the shell of a --venv session has the venv, from the job's scratch
        var prefix = u.Tool("kjupyter", "shell", job, "--", "python", "-c", "import os, sys; print(sys.prefix == os.path.join(os.environ['SLURM_TMPDIR'], 'kpy', 'jv'))");
        Assert.Equal("True\n", prefix.Stdout);
        Expect.Ok(u.Tool("kjupyter", "stop", job));
    }

    [Theory]
    [InlineData("url", "nope")]
    [InlineData("log", "../../etc/x")]
    [InlineData("stop", "12;34")]
    [InlineData("shell", "1x")]
    public void A_job_id_is_a_number(string command, string id)
    {
        using var s = new Sandbox(); // refused before Slurm is asked
        Expect.Error(s.Tool("kjupyter", command, id), "kjupyter", 2, $"invalid job id '{id}'");
    }

    [Fact]
    public void A_login_host_a_shell_would_split_is_refused_before_anything_is_submitted()
    {
        using var s = new Sandbox(); // no Slurm needed: refused first
        Directory.CreateDirectory(Path.GetDirectoryName(s.SiteConfig)!);
        File.WriteAllText(s.SiteConfig, "[jupyter]\nlogin_host = \"login1; rm -rf ~\"\n");
        Expect.Error(s.Tool("kjupyter", "0:10"), "kjupyter", 1, "setting jupyter.login_host: ");
        Assert.Contains("'login1; rm -rf ~' is not a host or user name", s.Tool("kjupyter", "0:10").Stderr);
        File.Delete(s.SiteConfig);
        var r = s.Exec(Repo.Tool("kjupyter"), ["0:10"], extraEnv: new Dictionary<string, string?> { ["KSLURM_LOGIN_USER"] = "me $(id)" });
        Expect.Error(r, "kjupyter", 1, "KSLURM_LOGIN_USER: 'me $(id)' is not a host or user name");
    }

    [Fact]
    public void Test_mode_shows_the_job_without_the_token()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kjupyter", "-t", "2", "1:00");
        Expect.Ok(r);
        Assert.StartsWith("sbatch --parsable --time=01:00:00 --cpus-per-task=2 --mem=4000 --job-name=jupyter --output=", r.Stdout);
        Assert.Contains("kjupyter _serve", r.Stdout);
        Expect.Error(u.Tool("kjupyter", "python"), "kjupyter", 2, "kjupyter runs Jupyter, not a command");
        Assert.Contains("kjupyter _serve --server", u.Tool("kjupyter", "-t", "1:00", "--server").Stdout);
        Expect.Error(u.Tool("kjupyter", "1:00", "--lab", "--server"), "kjupyter", 2, "--lab, --notebook and --server exclude each other");
    }
}
