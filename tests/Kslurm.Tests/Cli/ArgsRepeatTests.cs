using Kslurm.Cli;

namespace Kslurm.Tests.Cli;

/// <summary>Options given more than once (kjupyter kernel install --module A --module B --env X=1 --env Y=2).</summary>
public class ArgsRepeatTests
{
    [Fact]
    public void Every_value_of_a_repeated_option_is_kept_in_order()
    {
        var a = Args.Parse(["k", "--module", "gcc", "--env=A=1", "--module=python/3.11", "--purge", "--env", "B=2"], "u",
            flags: ["--purge"], options: ["--module", "--env"]);
        Assert.Equal(["gcc", "python/3.11"], a.Values("--module"));
        Assert.Equal(["A=1", "B=2"], a.Values("--env"));
        Assert.Equal("python/3.11", a.Value("--module")); // the last one, as before
        Assert.Empty(a.Values("--bind"));
        Assert.Equal(["--module", "--env", "--module", "--purge", "--env"], a.Given);
        Assert.Equal(["k"], a.Positionals);
    }

    [Fact]
    public void One_positional_or_a_usage_error()
    {
        Assert.Equal("x", Args.Parse(["x"], "u").OnePositional("NAME", "u"));
        Assert.Contains("missing NAME", Assert.Throws<UsageException>(() => Args.Parse([], "u").OnePositional("NAME", "u")).Message);
        Assert.Contains("unexpected argument 'y'", Assert.Throws<UsageException>(() => Args.Parse(["x", "y"], "u").OnePositional("NAME", "u")).Message);
    }
}
