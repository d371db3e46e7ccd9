using Kslurm.Cli;

namespace Kslurm.Tests.Cli;

[Trait("Tier", "Unit")]
public class ArgsTests
{
    [Fact]
    public void Options_flags_and_positionals()
    {
        var a = Args.Parse(["save", "-f", "--path=/x", "name", "--", "-dash"], "u", flags: ["-f|--force"], options: ["-p|--path"]);
        Assert.True(a.Has("--force"));
        Assert.Equal("/x", a.Value("--path"));
        Assert.Equal(["save", "name", "-dash"], a.Positionals);
    }

    [Fact]
    public void Option_value_may_look_like_an_option()
    {
        var a = Args.Parse(["-p", "-weird"], "u", options: ["-p|--path"]);
        Assert.Equal("-weird", a.Value("--path"));
    }

    [Fact]
    public void Unknown_option_and_missing_value_are_usage_errors()
    {
        Assert.Contains("'--nope'", Assert.Throws<UsageException>(() => Args.Parse(["--nope"], "u")).Message);
        Assert.Contains("--path needs a value", Assert.Throws<UsageException>(() => Args.Parse(["--path"], "u", options: ["--path"])).Message);
    }

    [Fact]
    public void Rest_keeps_everything_after_the_positionals_verbatim()
    {
        var a = Args.Parse(["run", "img", "-h", "--x"], "u", stopAtPositional: 2);
        Assert.Equal(["run", "img"], a.Positionals);
        Assert.Equal(["-h", "--x"], a.Rest);
        Assert.False(a.Help);
    }
}
