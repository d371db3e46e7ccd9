namespace Kslurm.Tests.KslurmTool;

[Trait("Tier", "Binary")]
public class DispatchTests
{
    [Theory]
    [InlineData("krun"), InlineData("kbatch"), InlineData("kjupyter"), InlineData("kpy"), InlineData("kapp")]
    public void Kslurm_dispatches_to_the_sibling_binary(string tool)
    {
        using var s = new Sandbox();
        var direct = s.Tool(tool, "--version");
        var viaKslurm = s.Tool("kslurm", tool, "--version");
        Expect.Ok(viaKslurm);
        Assert.Equal(direct.Stdout, viaKslurm.Stdout);
        Assert.Equal($"{tool} {Repo.Version}\n", viaKslurm.Stdout);
    }

    [Fact]
    public void Dispatch_passes_arguments_and_exit_code_through()
    {
        using var s = new Sandbox();
        var r = s.Tool("kslurm", "kpy", "--no-such-option");
        Expect.Error(r, "kpy", 2, "--no-such-option");
    }

    [Fact]
    public void Dispatch_through_a_symlinked_kslurm_finds_the_real_siblings()
    {
        using var s = new Sandbox();
        var link = Path.Combine(s.Dir, "kslurm");
        File.CreateSymbolicLink(link, Repo.Tool("kslurm"));
        var r = s.Exec(link, ["kapp", "--version"]);
        Expect.Ok(r);
        Assert.Equal($"kapp {Repo.Version}\n", r.Stdout);
    }

    [Fact]
    public void Missing_sibling_is_a_clear_error()
    {
        using var s = new Sandbox();
        var lone = Path.Combine(s.Dir, "kslurm");
        Repo.CopyExecutable(Repo.Tool("kslurm"), lone);
        Expect.Error(s.Exec(lone, ["krun", "--help"]), "kslurm", 1, "krun is not installed next to kslurm");
    }

    [Fact]
    public void Unknown_command_lists_the_valid_ones()
    {
        using var s = new Sandbox();
        var r = s.Tool("kslurm", "neuroglia-helpers"); // the Python kslurm had it; `update` now exists
        Expect.Error(r, "kslurm", 2, "unknown command 'neuroglia-helpers'");
        Assert.Contains("config, self, completions, krun, kbatch, kjupyter, kpy, kapp", r.Stderr);
    }
}
