using Kslurm.Completion;

namespace Kslurm.Tests.Completion;

/// <summary>Completion without a shell: command-line splitting, bash word breaks, the command trees.</summary>
[Trait("Tier", "Unit")]
public sealed class CompleterTests
{
    [Theory]
    [InlineData("kpy load ", new[] { "kpy", "load", "" })]
    [InlineData("kpy  load an", new[] { "kpy", "load", "an" })]
    [InlineData("krun 'a b' \"c\\\"d\" e\\ f g", new[] { "krun", "a b", "c\"d", "e f", "g" })]
    [InlineData("kapp run docker://ubu", new[] { "kapp", "run", "docker://ubu" })]
    public void Bash_lines_split_as_the_shell_would(string line, string[] words) => Assert.Equal(words, Completer.SplitLine(line));

    [Theory]
    [InlineData("docker://ubuntu:22.04", "docker://ubu", "//ubuntu:22.04")]
    [InlineData("--venv=torch2", "--venv=to", "torch2")]
    [InlineData("torch2", "to", "torch2")]
    public void Bash_gets_the_part_after_the_last_word_break(string candidate, string cur, string expected)
        => Assert.Equal(expected, Completer.BashTail(candidate, cur, " \t\n\"'><=;|&(:"));

    [Fact]
    public void Every_tool_has_a_command_tree_and_options_are_offered()
    {
        foreach (var t in CommandTree.Tools)
            Assert.NotNull(CommandTree.For(t));
        var c = Completer.Complete(["kbatch", "--w"], _ => []);
        Assert.Equal(["--wait"], c.Candidates);
        Assert.Equal(NameKind.Files, Completer.Complete(["krun", "4", "-j", "gpu", "py"], _ => []).Fallback);
        Assert.Equal(NameKind.Dirs, Completer.Complete(["kpy", "export", "x", "--path", ""], _ => []).Fallback);
    }
}
