using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>The pip wrapper and the shell snippet.</summary>
[Trait("Tier", "Binary")]
public class KpyShellTests
{
    // A stand-in `pip` first on PATH that records the arguments it was given (NUL-separated).
    static Dictionary<string, string?> RecordingPip(KpySandbox k, out string log)
    {
        var bin = Path.Combine(k.S.Dir, "recorder");
        Directory.CreateDirectory(bin);
        log = Path.Combine(k.S.Dir, "pip-args");
        File.WriteAllText(Path.Combine(bin, "pip"), $"#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done > {ShellQuote.Quote(log)}\n");
        File.SetUnixFileMode(Path.Combine(bin, "pip"), (UnixFileMode)0b111_101_101);
        return new Dictionary<string, string?> { ["PATH"] = bin + ":" + k.S.Env["PATH"] };
    }

    static string[] Args(string log) => File.ReadAllText(log).TrimEnd('\0').Split('\0');

    [Fact]
    public void Pip_install_in_a_job_adds_no_index_and_the_wheelhouse_keeping_arguments_whole()
    {
        using var k = new KpySandbox();
        var env = RecordingPip(k, out var log);
        env["SLURM_JOB_ID"] = "123";
        Expect.Ok(k.Bash("pip install 'name with space' -r req.txt", env));
        var wheels = Path.Combine(k.Pipdir, "wheels");
        Assert.Equal(["install", "--no-index", "--find-links", wheels, "name with space", "-r", "req.txt"], Args(log));
        Assert.True(Directory.Exists(wheels), "the wheelhouse is created on first use");
    }

    [Fact]
    public void Pip_on_a_login_node_uses_the_wheelhouse_without_no_index()
    {
        using var k = new KpySandbox();
        var env = RecordingPip(k, out var log);
        Expect.Ok(k.Bash("pip install numpy", env));
        Assert.Equal(["install", "--find-links", Path.Combine(k.Pipdir, "wheels"), "numpy"], Args(log));
        Expect.Ok(k.Bash("pip list --outdated", env));
        Assert.Equal(["list", "--outdated"], Args(log));
    }

    [Fact]
    public void Pip_wheel_and_download_default_to_the_wheelhouse_unless_told_otherwise()
    {
        using var k = new KpySandbox();
        var env = RecordingPip(k, out var log);
        var wheels = Path.Combine(k.Pipdir, "wheels");
        Expect.Ok(k.Bash("pip wheel scipy", env));
        Assert.Equal(["wheel", "--find-links", wheels, "--wheel-dir", wheels, "scipy"], Args(log));
        Expect.Ok(k.Bash("pip download -d /elsewhere scipy", env));
        Assert.Equal(["download", "--find-links", wheels, "-d", "/elsewhere", "scipy"], Args(log));
    }

    [Fact]
    public void Real_pip_in_a_job_installs_from_the_wheelhouse_only()
    {
        using var k = new KpySandbox();
        var wheels = Path.Combine(k.Pipdir, "wheels");
        DemoWheel.WriteTo(wheels);
        var r = k.Bash("kpy create offline 2>/dev/null; pip install kslurmdemo 2>&1; kslurm-demo",
            new Dictionary<string, string?> { ["SLURM_JOB_ID"] = "1" });
        Expect.Ok(r);
        Assert.Contains($"prefix={Path.Combine(k.LiveRoot, "offline")}", r.Stdout);
    }

    [Fact]
    public void Zsh_gets_the_same_integration()
    {
        using var k = new KpySandbox();
        var r = k.S.Exec("zsh", ["-f", "-c", """
            eval "$(kpy init zsh)"
            kpy create z 2>/dev/null
            echo "venv=$VIRTUAL_ENV"
            pip --version | cut -d' ' -f1
            deactivate
            echo "after=${VIRTUAL_ENV-unset}"
            """]);
        Expect.Ok(r);
        Assert.Contains($"venv={Path.Combine(k.LiveRoot, "z")}\n", r.Stdout);
        Assert.Contains("pip\n", r.Stdout);
        Assert.Contains("after=unset\n", r.Stdout);
    }

    [Fact]
    public void Sourcing_the_snippet_calls_no_slurm_command()
    {
        using var k = new KpySandbox();
        var fake = Path.Combine(k.S.Dir, "fake-slurm");
        Directory.CreateDirectory(fake);
        var marker = Path.Combine(k.S.Dir, "slurm-was-called");
        foreach (var cmd in new[] { "sinfo", "squeue", "scontrol", "sacctmgr", "sshare", "srun", "sbatch", "salloc" })
        {
            File.WriteAllText(Path.Combine(fake, cmd), $"#!/bin/sh\necho {cmd} >> {ShellQuote.Quote(marker)}\n");
            File.SetUnixFileMode(Path.Combine(fake, cmd), (UnixFileMode)0b111_101_101);
        }
        var r = k.Bash("type kpy pip >/dev/null && echo ok", new Dictionary<string, string?> { ["PATH"] = fake + ":" + k.S.Env["PATH"] });
        Expect.Ok(r);
        Assert.Equal("ok\n", r.Stdout);
        Assert.False(File.Exists(marker), File.Exists(marker) ? File.ReadAllText(marker) : "");
    }

    [Fact]
    public void Kpy_bash_prints_one_line_to_add_and_it_works_in_zsh_form_too()
    {
        using var k = new KpySandbox();
        var r = k.Kpy("bash");
        Expect.Ok(r);
        var line = r.Stdout.TrimEnd('\n');
        Assert.DoesNotContain("\n", line);
        Assert.Contains("init bash", line);
        var use = k.S.Exec("bash", ["-c", line + "\ntype -t kpy; type -t pip"]);
        Assert.Equal("function\nfunction\n", use.Stdout);
        Assert.Contains("init zsh", k.Kpy("zsh").Stdout);
        Expect.Error(k.Kpy("init", "fish"), "kpy", 2, "unsupported shell 'fish'");
    }
}
