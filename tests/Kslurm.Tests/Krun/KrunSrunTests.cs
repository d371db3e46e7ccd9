namespace Kslurm.Tests.Krun;

/// <summary>
/// What krun hands to srun and salloc, with the fake Slurm of the binary tier (Support/FakeSlurm.cs,
/// whose srun runs the command after `--` right here). The real thing is in KrunTests (cluster tier).
/// </summary>
[Trait("Tier", "Binary")]
public sealed class KrunSrunTests : IDisposable
{
    readonly Sandbox _s = new();
    readonly FakeSlurm _slurm;

    public KrunSrunTests() => _slurm = new FakeSlurm(_s);

    public void Dispose() => _s.Dispose();

    [Fact]
    public void The_command_reaches_srun_verbatim_and_its_exit_code_comes_back()
    {
        var r = _s.Tool("krun", "2", "0:05", "sh", "-c", "printf '[%s]' \"$@\"; exit 7", "zero", "a b", "$HOME", "", "-t");
        Assert.Equal(7, r.Code);
        Assert.Equal("[a b][$HOME][][-t]", r.Stdout);
        var call = _slurm.CallsOf("srun").Single();
        Assert.Equal(["--quit-on-interrupt", "--time=00:05:00", "--cpus-per-task=2"], call.Args.Take(3));
        Assert.Equal(["--", "sh", "-c", "printf '[%s]' \"$@\"; exit 7", "zero", "a b", "$HOME", "", "-t"],
            call.Args.SkipWhile(a => a != "--"));
    }

    [Fact]
    public void Inside_a_job_the_command_is_one_step_of_it()
    {
        Expect.Ok(_s.Tool("kslurm", "config", "account", "def-lab"));
        var r = _s.Exec(Repo.Tool("krun"), ["true"], extraEnv: new Dictionary<string, string?> { ["SLURM_JOB_ID"] = "99" });
        Expect.Ok(r);
        var args = _slurm.CallsOf("srun").Single().Args;
        Assert.Contains("--ntasks=1", args);
        // the allocation already has its account and time limit
        Assert.DoesNotContain(args, a => a.StartsWith("--time") || a.StartsWith("--account"));
    }

    [Fact]
    public void Without_a_command_salloc_gets_the_resources_and_a_shell()
    {
        var r = _s.Exec(Repo.Tool("krun"), ["4", "1:00"], extraEnv: new Dictionary<string, string?> { ["SHELL"] = null });
        Expect.Ok(r);
        var call = _slurm.CallsOf("salloc").Single();
        Assert.Equal(["--time=01:00:00", "--cpus-per-task=4"], call.Args.Take(2));
        Assert.Equal("/bin/bash", call.Env["SHELL"]); // salloc starts $SHELL on the node
        Assert.Empty(_slurm.CallsOf("srun"));
    }

    [Fact]
    public void An_account_refusal_names_the_setting()
    {
        Expect.Ok(_s.Tool("kslurm", "config", "account", "no-such-account"));
        _slurm.Answer("srun", 1, stderr: "srun: error: Unable to allocate resources: Invalid account or account/partition combination specified\n");
        var r = _s.Tool("krun", "0:05", "true");
        Assert.Equal(1, r.Code);
        Assert.Contains("srun: error: Unable to allocate resources: Invalid account", r.Stderr); // Slurm's own words stay
        Assert.Contains("krun: hint: the account 'no-such-account' comes from your settings (account)", r.Stderr);
        Assert.Contains("--account=no-such-account", _slurm.CallsOf("srun").Single().Args);
    }
}
