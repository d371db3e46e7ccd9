namespace Kslurm.Tests.Common;

public class ConfigTreeTests
{
    [Fact]
    public void A_key_with_children_keeps_its_value_under_default()
    {
        var t = new TomlTable();
        ConfigTree.Set(t, "account", "a");
        ConfigTree.Set(t, "account.gpu", "g");
        Assert.Equal("a", ConfigTree.Get(t, "account"));
        Assert.Equal("g", ConfigTree.Get(t, "account.gpu"));
        Assert.Equal("a", ConfigTree.Get(t, "account.default"));
        Assert.Equal([("account", "a"), ("account.gpu", "g")], ConfigTree.Flatten(t).ToList());
        var text = global::Kslurm.Toml.Write(t);
        var back = global::Kslurm.Toml.Parse(text);
        Assert.Equal(ConfigTree.Flatten(t).ToList(), ConfigTree.Flatten(back).ToList());
    }

    [Fact]
    public void Setting_a_table_key_sets_its_default()
    {
        var t = new TomlTable();
        ConfigTree.Set(t, "account.cpu", "c");
        ConfigTree.Set(t, "account", "a");
        Assert.Equal([("account.cpu", "c"), ("account", "a")], ConfigTree.Flatten(t).ToList());
    }

    [Fact]
    public void Unset_folds_back_and_prunes()
    {
        var t = new TomlTable();
        ConfigTree.Set(t, "account", "a");
        ConfigTree.Set(t, "account.gpu", "g");
        Assert.True(ConfigTree.Unset(t, "account.gpu"));
        Assert.Equal("a", t["account"]); // {default = "a"} became a plain value again
        Assert.True(ConfigTree.Unset(t, "account"));
        Assert.Equal(0, t.Count);
        Assert.False(ConfigTree.Unset(t, "account"));
    }

    [Fact]
    public void Empty_strings_count_as_unset()
    {
        var t = global::Kslurm.Toml.Parse("account = \"x\"\n[sub]\ncpu = \"\"\n");
        Assert.Null(ConfigTree.Get(t, "sub.cpu"));
        Assert.Null(ConfigTree.Get(t, "nothing.here"));
    }

    [Fact]
    public void Children_exclude_the_own_value()
    {
        var t = global::Kslurm.Toml.Parse("[account]\ndefault = \"a\"\ncpu = \"c\"\n[account.extra]\nx = 1\n");
        Assert.Equal([("account.cpu", "c"), ("account.extra.x", "1")], ConfigTree.Children(t, "account").ToList());
    }

    [Fact]
    public void A_list_cannot_gain_children()
    {
        var t = global::Kslurm.Toml.Parse("x = [1, 2]\n");
        Assert.Throws<KslurmException>(() => ConfigTree.Set(t, "x.y", "1"));
    }

    [Theory]
    [InlineData(""), InlineData("a..b"), InlineData("a b"), InlineData("a."), InlineData("ä")]
    public void Invalid_keys_are_usage_errors(string key)
        => Assert.Equal(2, Assert.Throws<UsageException>(() => ConfigTree.Split(key)).ExitCode);
}

public class AccountChoicesTests
{
    [Fact]
    public void Suffixed_accounts_split_into_cpu_and_gpu_by_base_name()
    {
        var c = AccountChoices.From([
            new SlurmAccount("def-lab_cpu", 0.5), new SlurmAccount("rrg-lab_cpu", 2.0),
            new SlurmAccount("def-lab_gpu", 1.0)]);
        Assert.True(c.Suffixed);
        Assert.Equal(["rrg-lab", "def-lab"], c.Cpu.Select(a => a.Name)); // best LevelFS first
        Assert.Equal(["def-lab"], c.Gpu.Select(a => a.Name));
    }

    [Fact]
    public void Plain_accounts_serve_both_kinds()
    {
        var c = AccountChoices.From([new SlurmAccount("def-lab", null), new SlurmAccount("rrg-lab", double.PositiveInfinity)]);
        Assert.False(c.Suffixed);
        Assert.Equal(["rrg-lab", "def-lab"], c.Cpu.Select(a => a.Name));
        Assert.Equal(c.Cpu, c.Gpu);
        Assert.Equal("inf", c.Cpu[0].LevelText);
        Assert.Equal("?", c.Cpu[1].LevelText);
    }

    [Fact]
    public void Mixed_accounts_offer_plain_ones_for_both()
    {
        var c = AccountChoices.From([new SlurmAccount("def-lab", 1), new SlurmAccount("def-lab_gpu", 3)]);
        Assert.Equal(["def-lab"], c.Cpu.Select(a => a.Name));
        Assert.Equal(["def-lab"], c.Gpu.Select(a => a.Name)); // one entry per name, the better standing kept first
    }
}

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
