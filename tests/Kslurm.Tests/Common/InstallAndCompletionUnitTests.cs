using Kslurm.Completion;
using Kslurm.Install;

namespace Kslurm.Tests.Common;

/// <summary>The pure parts of self update and completion: version order, command-line splitting.</summary>
public sealed class InstallAndCompletionUnitTests
{
    [Theory]
    [InlineData("0.7.1", "0.7.0", 1)]
    [InlineData("0.10.0", "0.9.9", 1)]     // numbers, not text
    [InlineData("1.0.0", "1.0", 0)]
    [InlineData("1.0.0-rc1", "1.0.0", -1)] // a pre-release comes before its release
    [InlineData("1.0.0-rc2", "1.0.0-rc1", 1)]
    [InlineData("1.0.0+abc", "1.0.0", 0)]  // build metadata is ignored
    public void Versions_compare_part_by_part(string a, string b, int expected)
    {
        Assert.Equal(expected, ReleaseVersion.Compare(a, b));
        Assert.Equal(-expected, ReleaseVersion.Compare(b, a));
    }

    [Theory]
    [InlineData("0.7.0", true)]
    [InlineData("1.0.0-rc1+g1", true)]
    [InlineData("../x", false)]
    [InlineData("1 0", false)]
    [InlineData("", false)]
    public void Only_plain_version_labels_reach_a_url(string v, bool ok) => Assert.Equal(ok, ReleaseVersion.IsValid(v));

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
