namespace Kslurm.Tests.Binaries;

/// <summary>
/// The exit codes that differ from the Python kslurm on purpose (README, "Coming from the Python
/// kslurm"), pinned with what a script written for the old tool relies on: stdout stays empty
/// where it used to be empty, and a failure is non-zero instead of a silent 0.
/// </summary>
[Trait("Tier", "Binary")]
public class OldToolExitCodeTests
{
    [Fact]
    public void Config_of_an_unset_key_prints_nothing_on_stdout_and_exits_1()
    {
        using var s = new Sandbox();
        var r = s.Tool("kslurm", "config", "pipdir");
        Assert.Equal(1, r.Code);
        Assert.Equal("", r.Stdout); // x=$(kslurm config pipdir); [ -z "$x" ] still works
        Assert.StartsWith("kslurm: error: pipdir is not set", r.Stderr);
    }

    [Fact]
    public void Kpy_load_without_a_name_or_of_an_unknown_name_fails()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "pipdir", Path.Combine(s.Dir, "pipdir")));
        Expect.Error(s.Tool("kpy", "load"), "kpy", 2, "missing NAME");           // old: list, exit 0
        Expect.Error(s.Tool("kpy", "load", "nope"), "kpy", 1, "no saved venv called nope"); // old: exit 0, so `kpy load x && python` ran without the venv
    }

    [Fact]
    public void Bad_command_lines_exit_2()
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("krun", "-j", "nope", "true"), "krun", 2, "'nope' is not a job template"); // old: 1
        Expect.Error(s.Tool("kbatch", "4", "3:00"), "kbatch", 2, "missing command");                   // old: 0, nothing submitted
    }
}
