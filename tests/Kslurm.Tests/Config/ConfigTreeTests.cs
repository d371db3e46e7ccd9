using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Slurm;

namespace Kslurm.Tests.Config;

[Trait("Tier", "Unit")]
public class ConfigTreeTests
{
    static TomlText Parse(string text) => TomlText.Parse(text, "t.toml");

    static string Edit(string text, Action<ConfigEdit> change)
    {
        var edit = new ConfigEdit(Parse(text), "t.toml");
        change(edit);
        return edit.Text;
    }

    [Fact]
    public void A_key_with_children_keeps_its_value_under_default_and_folds_back()
    {
        var text = Edit("account = 'a'  # mine\n", e => e.Set("account.gpu", "g"));
        Assert.Equal("account.default = 'a'  # mine\naccount.gpu = \"g\"\n", text);
        var t = Parse(text).Model;
        Assert.Equal("a", ConfigTree.Get(t, "account"));
        Assert.Equal("g", ConfigTree.Get(t, "account.gpu"));
        Assert.Equal([("account", "a"), ("account.gpu", "g")], ConfigTree.Flatten(t).ToList());
        Assert.Equal("account = 'a'  # mine\n", Edit(text, e => Assert.True(e.Unset("account.gpu"))));
    }

    [Fact]
    public void Setting_a_table_key_sets_its_default_first_in_the_table()
    {
        var text = Edit("[account]\ncpu = \"c\"\n", e => e.Set("account", "a"));
        Assert.Equal("[account]\ndefault = \"a\"\ncpu = \"c\"\n", text);
        Assert.Equal([("account", "a"), ("account.cpu", "c")], ConfigTree.Flatten(Parse(text).Model).ToList());
    }

    [Fact]
    public void A_table_left_with_only_default_folds_into_the_table_above()
    {
        var text = "x = 1\n\n# accounts\n[account]\ndefault = \"a\"  # usual\ngpu = \"g\"\n";
        Assert.Equal("x = 1\naccount = \"a\"  # usual\n\n# accounts\n", Edit(text, e => e.Unset("account.gpu")));
    }

    [Fact]
    public void Unset_removes_only_that_line_and_empty_tables()
    {
        var text = "# top\na = 1 # one\n\n[t]  # the t\nk = 'v'\n";
        Assert.Equal("# top\n\n[t]  # the t\nk = 'v'\n", Edit(text, e => Assert.True(e.Unset("a"))));
        Assert.Equal("# top\na = 1 # one\n\n", Edit(text, e => Assert.True(e.Unset("t.k"))));
        Assert.Equal(text, Edit(text, e => Assert.False(e.Unset("nothing.here"))));
    }

    [Fact]
    public void New_keys_go_next_to_their_relatives_or_into_a_new_table_at_the_end()
    {
        var text = "pipdir = \"/p\"\n\n[templates.a]\ncpus = 4\n";
        Assert.Equal("pipdir = \"/p\"\n\n[templates.a]\ncpus = 4\nmem = \"8G\"\n", Edit(text, e => e.Set("templates.a.mem", "8G")));
        Assert.Equal(text + "\n[templates.b]\ncpus = \"2\"\n", Edit(text, e => e.Set("templates.b.cpus", "2")));
        Assert.Equal("pipdir = \"/p\"\naccount = \"x\"\n\n[templates.a]\ncpus = 4\n", Edit(text, e => e.Set("account", "x")));
        // above the comments that belong to the first table
        Assert.Equal("# c\n\nk = \"v\"\n\n# about t\n[t]\n", Edit("# c\n\n# about t\n[t]\n", e => e.Set("k", "v")));
    }

    [Fact]
    public void Replacing_a_value_keeps_its_comment_and_literal_quotes()
    {
        Assert.Equal("  a = 'new' # keep\n", Edit("  a = 'old' # keep\n", e => e.Set("a", "new")));
        Assert.Equal("a = \"it's\" # keep\n", Edit("a = 'old' # keep\n", e => e.Set("a", "it's")));
    }

    [Fact]
    public void Empty_strings_count_as_unset()
    {
        var t = Parse("account = \"x\"\n[sub]\ncpu = \"\"\n").Model;
        Assert.Null(ConfigTree.Get(t, "sub.cpu"));
        Assert.Null(ConfigTree.Get(t, "nothing.here"));
    }

    [Fact]
    public void Children_exclude_the_own_value()
    {
        var t = Parse("[account]\ndefault = \"a\"\ncpu = \"c\"\n[account.extra]\nx = 1\n").Model;
        Assert.Equal([("account.cpu", "c"), ("account.extra.x", "1")], ConfigTree.Children(t, "account").ToList());
    }

    [Fact]
    public void A_list_cannot_gain_children_and_inline_tables_are_left_to_the_user()
    {
        Assert.Throws<KslurmException>(() => Edit("x = [1, 2]\n", e => e.Set("x.y", "1")));
        var err = Assert.Throws<KslurmException>(() => Edit("t = { a = 1 }\n", e => e.Set("t.b", "1")));
        Assert.Contains("inline table", err.Message);
        Assert.Equal("t = { a = \"2\" }\n", Edit("t = { a = 1 }\n", e => e.Set("t.a", "2")));
    }

    [Fact]
    public void Duplicate_keys_are_errors_with_line_and_column()
    {
        var e = Assert.Throws<TomlFileException>(() => Parse("a = 1\n\n  a = 2\n"));
        Assert.StartsWith("t.toml:3:3: ", e.Message);
    }

    [Theory]
    [InlineData(""), InlineData("a..b"), InlineData("a b"), InlineData("a."), InlineData("ä")]
    public void Invalid_keys_are_usage_errors(string key)
        => Assert.Equal(2, Assert.Throws<UsageException>(() => ConfigTree.Split(key)).ExitCode);
}
