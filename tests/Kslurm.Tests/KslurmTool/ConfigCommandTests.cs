namespace Kslurm.Tests.KslurmTool;

/// <summary>`kslurm config` through the real binary, on throw-away user and site files.</summary>
[Trait("Tier", "Binary")]
public class ConfigCommandTests
{
    [Fact]
    public void Set_then_get_round_trips_and_writes_toml()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-lab"));
        var r = s.Tool("kslurm", "config", "account");
        Expect.Ok(r);
        Assert.Equal("def-lab\n", r.Stdout);
        Assert.Contains("account = \"def-lab\"", File.ReadAllText(s.UserConfig));
    }

    [Fact]
    public void Get_prints_value_then_dotted_children()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-lab"));
        Expect.Ok(s.Tool("kslurm", "config", "account.cpu", "def-cpu"));
        Expect.Ok(s.Tool("kslurm", "config", "account.gpu", "rrg-gpu"));
        var r = s.Tool("kslurm", "config", "account");
        Expect.Ok(r);
        Assert.Equal("def-lab\naccount.cpu: def-cpu\naccount.gpu: rrg-gpu\n", r.Stdout);
        // a value with children keeps it as account.default, on its own line (valid TOML)
        Assert.Equal("# kslurm settings. Edit by hand or with `kslurm config KEY VALUE`.\n\n" +
                     "account.default = \"def-lab\"\naccount.cpu = \"def-cpu\"\naccount.gpu = \"rrg-gpu\"\n",
                     File.ReadAllText(s.UserConfig));
    }

    [Fact]
    public void Setting_account_warns_when_cpu_or_gpu_accounts_override_it()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "account.gpu", "rrg-gpu"));
        var r = s.Tool("kslurm", "config", "account", "def-lab");
        Expect.Ok(r);
        Assert.Contains("account.gpu = rrg-gpu still applies to GPU jobs", r.Stderr);
    }

    [Fact]
    public void Missing_key_fails_with_hint_and_empty_stdout()
    {
        using var s = new Sandbox();
        var r = s.Tool("kslurm", "config", "pipdir");
        Expect.Error(r, "kslurm", 1, "pipdir is not set");
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Unset_removes_only_the_keys_own_value()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-lab"));
        Expect.Ok(s.Tool("kslurm", "config", "account.cpu", "def-cpu"));
        Expect.Ok(s.Tool("kslurm", "config", "--unset", "account"));
        Assert.Equal("account.cpu: def-cpu\n", s.Tool("kslurm", "config", "account").Stdout);
        Expect.Ok(s.Tool("kslurm", "config", "--unset", "account.cpu"));
        Expect.Error(s.Tool("kslurm", "config", "account"), "kslurm", 1, "account is not set");
        Expect.Error(s.Tool("kslurm", "config", "--unset", "account"), "kslurm", 1, "account is not set");
    }

    [Fact]
    public void List_shows_user_values_over_site_values_and_marks_site_ones()
    {
        using var s = new Sandbox();
        Directory.CreateDirectory(Path.GetDirectoryName(s.SiteConfig)!);
        File.WriteAllText(s.SiteConfig, "account = \"def-site\"\npipdir = \"/project/shared\"\n");
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-mine"));
        var r = s.Tool("kslurm", "config", "--list");
        Expect.Ok(r);
        Assert.Equal("account: def-mine\npipdir: /project/shared  (site)\n", r.Stdout);
        Assert.Equal("/project/shared\n", s.Tool("kslurm", "config", "pipdir").Stdout);
    }

    [Fact]
    public void Site_flag_writes_the_site_file_and_reads_it_alone()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "--site", "account", "def-lab"));
        Assert.Contains("account = \"def-lab\"", File.ReadAllText(s.SiteConfig));
        Assert.False(File.Exists(s.UserConfig));
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-me"));
        Assert.Equal("def-lab\n", s.Tool("kslurm", "config", "--site", "account").Stdout);
        Assert.Equal("def-me\n", s.Tool("kslurm", "config", "account").Stdout);
        Assert.Equal("account: def-lab\n", s.Tool("kslurm", "config", "--list", "--site").Stdout);
    }

    [Fact]
    public void Site_file_defaults_to_prefix_etc_next_to_the_installed_binary()
    {
        using var s = new Sandbox();
        var prefix = Path.Combine(s.Dir, "prefix");
        Directory.CreateDirectory(Path.Combine(prefix, "bin"));
        Directory.CreateDirectory(Path.Combine(prefix, "etc", "kslurm"));
        var bin = Path.Combine(prefix, "bin", "kslurm");
        Repo.CopyExecutable(Repo.Tool("kslurm"), bin);
        File.WriteAllText(Path.Combine(prefix, "etc", "kslurm", "config.toml"), "pipdir = \"/lab/pipdir\"\n");
        var env = new Dictionary<string, string?> { ["KSLURM_SITE_CONFIG"] = null };
        var r = s.Exec(bin, ["config", "pipdir"], extraEnv: env);
        Expect.Ok(r);
        Assert.Equal("/lab/pipdir\n", r.Stdout);
    }

    [Fact]
    public void Site_write_without_permission_is_a_clear_error()
    {
        if (Environment.UserName == "root")
        {
            // root can write anywhere: use a path under a regular file instead, which nobody can create
            using var s0 = new Sandbox();
            File.WriteAllText(Path.Combine(s0.Dir, "blocker"), "");
            s0.Env["KSLURM_SITE_CONFIG"] = Path.Combine(s0.Dir, "blocker", "config.toml");
            var r0 = s0.Tool("kslurm", "config", "--site", "account", "x");
            Assert.Equal(1, r0.Code);
            Assert.StartsWith("kslurm: error: ", r0.Stderr);
            Assert.DoesNotContain("   at ", r0.Stderr);
            return;
        }
        using var s = new Sandbox();
        s.Env["KSLURM_SITE_CONFIG"] = "/etc/kslurm-test-not-writable/config.toml";
        Expect.Error(s.Tool("kslurm", "config", "--site", "account", "x"), "kslurm", 1, "permission denied");
    }

    [Fact]
    public void Xdg_config_home_is_honoured()
    {
        using var s = new Sandbox();
        var xdg = Path.Combine(s.Dir, "xdg");
        s.Env["XDG_CONFIG_HOME"] = xdg;
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-lab"));
        Assert.True(File.Exists(Path.Combine(xdg, "kslurm", "config.toml")));
        Assert.False(File.Exists(s.UserConfig));
    }

    [Fact]
    public void Legacy_json_is_imported_once_without_empty_values()
    {
        using var s = new Sandbox();
        var dir = Path.GetDirectoryName(s.UserConfig)!;
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "config.json"),
            """{"account.cpu": "def-lab", "account.gpu": "", "pipdir": "/project/me/.kslurm"}""");
        var first = s.Tool("kslurm", "config", "--list");
        Expect.Ok(first);
        Assert.Equal("pipdir: /project/me/.kslurm\naccount.cpu: def-lab\n", first.Stdout); // file order: values, then tables
        Assert.Contains("imported your settings from ~/.config/kslurm/config.json", first.Stderr);
        var second = s.Tool("kslurm", "config", "--list");
        Assert.Equal(first.Stdout, second.Stdout);
        Assert.Equal("", second.Stderr);
        Assert.True(File.Exists(Path.Combine(dir, "config.json")), "the legacy file is left in place");
    }

    [Fact]
    public void Broken_config_file_reports_line_and_column()
    {
        using var s = new Sandbox();
        Directory.CreateDirectory(Path.GetDirectoryName(s.UserConfig)!);
        File.WriteAllText(s.UserConfig, "account = \"def-lab\"\npipdir = /no/quotes\n");
        var r = s.Tool("kslurm", "config", "account");
        Expect.Error(r, "kslurm", 1, "config.toml:2:");
    }

    [Fact]
    public void Debug_variable_shows_details()
    {
        using var s = new Sandbox();
        Directory.CreateDirectory(Path.GetDirectoryName(s.UserConfig)!);
        File.WriteAllText(s.UserConfig, "account = \n");
        s.Env["KSLURM_DEBUG"] = "1";
        var r = s.Tool("kslurm", "config", "account");
        Assert.Equal(1, r.Code);
        Assert.Contains("   at ", r.Stderr);
    }

    [Theory]
    [InlineData("bad key!")]
    [InlineData("account..cpu")]
    [InlineData(".account")]
    public void Invalid_key_is_a_usage_error(string key)
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("kslurm", "config", key, "x"), "kslurm", 2, $"invalid config key '{key}'");
    }

    [Fact]
    public void Empty_value_is_refused_with_a_hint_to_unset()
    {
        using var s = new Sandbox();
        var r = s.Tool("kslurm", "config", "account", "");
        Expect.Error(r, "kslurm", 2, "empty value for account");
        Assert.Contains("--unset account", r.Stderr);
    }

    [Fact]
    public void Pipdir_is_stored_absolute_and_created()
    {
        using var s = new Sandbox();
        var r = s.Exec(Repo.Tool("kslurm"), ["config", "pipdir", "store/kslurm"], cwd: s.Home);
        Expect.Ok(r);
        var expected = Path.Combine(s.Home, "store", "kslurm");
        Assert.True(Directory.Exists(expected));
        Assert.Equal(expected + "\n", s.Tool("kslurm", "config", "pipdir").Stdout);
    }

    [Fact]
    public void Unknown_key_is_stored_with_a_warning()
    {
        using var s = new Sandbox();
        var r = s.Tool("kslurm", "config", "acount", "x");
        Expect.Ok(r);
        Assert.Contains("'acount' is not a key kslurm uses", r.Stderr);
    }

    [Fact]
    public async Task Concurrent_writers_all_land_and_leave_no_temp_files()
    {
        using var s = new Sandbox();
        var results = await Task.WhenAll(Enumerable.Range(0, 16)
            .Select(i => Task.Run(() => s.Tool("kslurm", "config", $"templates.t{i}.cpus", $"{i}"))));
        foreach (var r in results)
            Expect.Ok(r);
        var list = s.Tool("kslurm", "config", "--list").Stdout;
        for (var i = 0; i < 16; i++)
            Assert.Contains($"templates.t{i}.cpus: {i}\n", list);
        var dir = Path.GetDirectoryName(s.UserConfig)!;
        Assert.Empty(Directory.GetFiles(dir, ".config.toml.tmp-*"));
    }

    [Fact]
    public void No_arguments_is_a_usage_error()
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("kslurm", "config"), "kslurm", 2, "missing KEY");
        Expect.Error(s.Tool("kslurm"), "kslurm", 2, "missing command");
    }
}
