using Kslurm.Shell;

namespace Kslurm.Tests.Binaries;

/// <summary>Colour only on a terminal and never with NO_COLOR; errors are plain lines otherwise.</summary>
[Trait("Tier", "Binary")]
public class OutputTests
{
    static Result OnTerminal(Sandbox s, params string[] args)
        => s.Exec("script", ["-qec", ShellQuote.Join([Repo.Tool("kslurm"), .. args]), "/dev/null"]);

    [Fact]
    public void Errors_are_coloured_on_a_terminal()
    {
        using var s = new Sandbox();
        var r = OnTerminal(s, "config", "pipdir");
        Assert.Equal(1, r.Code);
        Assert.Contains("kslurm: \e[31merror:\e[0m pipdir is not set", r.Stdout);
    }

    [Fact]
    public void No_color_turns_colour_off_even_on_a_terminal()
    {
        using var s = new Sandbox();
        s.Env["NO_COLOR"] = "1";
        var r = OnTerminal(s, "config", "pipdir");
        Assert.Equal(1, r.Code);
        Assert.Contains("kslurm: error: pipdir is not set", r.Stdout);
        Assert.DoesNotContain("\e[", r.Stdout);
    }

    [Fact]
    public void Redirected_output_has_no_escape_codes()
    {
        using var s = new Sandbox();
        var r = s.Tool("kslurm", "config", "pipdir");
        Assert.DoesNotContain("\e[", r.Stderr);
    }
}
