using Kslurm.Config;
using Kslurm.Slurm;

namespace Kslurm.Tests.Slurm;

/// <summary>The resource grammar shared by krun, kbatch and kjupyter (pure logic).</summary>
[Trait("Tier", "Unit")]
public class GrammarTests
{
    [Theory]
    [InlineData("3:00", 180, "03:00:00")]
    [InlineData("0:05", 5, "00:05:00")]
    [InlineData("1-00:00", 1440, "1-00:00:00")]
    [InlineData("1-33:11", 3431, "2-09:11:00")] // hours are not range-checked, as in kslurm
    [InlineData("12:30", 750, "12:30:00")]
    public void Time_words(string token, int minutes, string slurm)
    {
        Assert.Equal(minutes, ResourceTokens.Time(token));
        Assert.Equal(slurm, ResourceTokens.FormatTime(minutes));
    }

    [Theory]
    [InlineData("3"), InlineData("03:00:00"), InlineData("100:00"), InlineData("100-00:00"), InlineData("3:0")]
    public void Not_time_shaped(string token) => Assert.Null(ResourceTokens.Time(token));

    [Theory]
    [InlineData("3:75"), InlineData("0:00")]
    public void Time_shaped_but_invalid_is_a_usage_error(string token)
        => Assert.Contains($"'{token}'", Assert.Throws<UsageException>(() => ResourceTokens.Time(token)).Message);

    [Theory]
    [InlineData("16G", 16000)]
    [InlineData("16GB", 16000)]
    [InlineData("16gb", 16000)]
    [InlineData("500M", 500)]
    [InlineData("500mb", 500)]
    [InlineData("4000K", 4)]
    [InlineData("16GiB", 17179)]
    [InlineData("1T", 1000000)]
    [InlineData("2g", 2000)]
    public void Memory_words_are_whole_megabytes(string token, long mb) => Assert.Equal(mb, ResourceTokens.MemoryMB(token));

    [Theory]
    [InlineData("16"), InlineData("G"), InlineData("1.5G"), InlineData("16GX")]
    public void Not_memory_shaped(string token) => Assert.Null(ResourceTokens.MemoryMB(token));

    [Fact]
    public void Memory_below_a_megabyte_is_refused()
        => Assert.Throws<UsageException>(() => ResourceTokens.MemoryMB("500K"));

    [Theory]
    [InlineData("gpu", 1, null, "gpu:1")]
    [InlineData("gpu:2", 2, null, "gpu:2")]
    [InlineData("gpu:a100:4", 4, "a100", "gpu:a100:4")]
    public void Gpu_words(string token, int count, string? type, string gres)
    {
        var g = ResourceTokens.Gpu(token)!;
        Assert.Equal(count, g.Count);
        Assert.Equal(type, g.Type);
        Assert.Equal(gres, g.Gres);
    }

    [Fact]
    public void Gpu_lookalikes()
    {
        Assert.Null(ResourceTokens.Gpu("gpustat"));
        Assert.Null(ResourceTokens.Gpu("GPU"));
        Assert.Throws<UsageException>(() => ResourceTokens.Gpu("gpu:0"));
        Assert.Throws<UsageException>(() => ResourceTokens.Gpu("gpu:x"));
    }

    [Fact]
    public void Words_in_any_order_then_the_command_verbatim()
    {
        var r = JobRequest.Parse(["gpu", "15G", "3:00", "4", "python", "train.py", "4", "-t", "gpu", "a b"]);
        Assert.Equal(180, r.Minutes);
        Assert.Equal(4, r.Cpus);
        Assert.Equal(15000, r.MemMB);
        Assert.NotNull(r.Gpu);
        Assert.False(r.Test);
        Assert.Equal(["python", "train.py", "4", "-t", "gpu", "a b"], r.Command);
    }

    [Fact]
    public void Slurm_options_pass_through_and_value_options_take_the_next_word()
    {
        var r = JobRequest.Parse(["--partition", "gpu", "--qos=high", "-p", "debug", "--exclusive", "--array=1-10", "4", "cmd"]);
        Assert.Null(r.Gpu); // `gpu` was the partition's value
        Assert.Equal(4, r.Cpus);
        Assert.Equal([["--partition", "gpu"], ["--qos=high"], ["-p", "debug"], ["--exclusive"], ["--array=1-10"]], r.SlurmOptions);
        Assert.Equal(["cmd"], r.Command);
    }

    [Fact]
    public void No_modules_goes_with_venv()
    {
        Assert.True(JobRequest.Parse(["--venv", "v", "--no-modules", "cmd"]).NoModules);
        var e = Assert.Throws<UsageException>(() => JobRequest.Parse(["--no-modules", "cmd"]));
        Assert.Contains("--no-modules goes with --venv", e.Message);
    }

    [Fact]
    public void Our_options_in_both_spellings()
    {
        var r = JobRequest.Parse(["-j", "Regular", "--account=def-x", "--venv", "env1", "-t", "--json", "x11"]);
        Assert.Equal("Regular", r.Template);
        Assert.Equal("def-x", r.Account);
        Assert.Equal("env1", r.Venv);
        Assert.True(r.Test && r.Json && r.X11);
        Assert.Empty(r.Command);
        Assert.Equal("y", JobRequest.Parse(["-a", "y"]).Account);
        Assert.Equal("z", JobRequest.Parse(["-Az"]).Account);
    }

    [Fact]
    public void Double_dash_ends_options()
    {
        var r = JobRequest.Parse(["4", "--", "16G", "-t"]);
        Assert.Equal(4, r.Cpus);
        Assert.Null(r.MemMB);
        Assert.Equal(["16G", "-t"], r.Command);
    }

    [Fact]
    public void A_folder_word_needs_a_slash_and_must_exist()
    {
        var dir = Directory.CreateTempSubdirectory("kslurm-grammar-").FullName;
        Directory.CreateDirectory(Path.Combine(dir, "sub"));
        var r = JobRequest.Parse(["./sub", "ls"], cwd: dir);
        Assert.Equal(Path.Combine(dir, "sub"), r.Directory);
        var bare = JobRequest.Parse(["sub", "ls"], cwd: dir);
        Assert.Null(bare.Directory);
        Assert.Equal(["sub", "ls"], bare.Command);
        Directory.Delete(dir, true);
    }

    [Theory]
    [InlineData(new[] { "4", "8", "cmd" }, "CPU count given twice")]
    [InlineData(new[] { "-j" }, "-j needs a value")]
    [InlineData(new[] { "--partition" }, "--partition needs a value")]
    [InlineData(new[] { "--json", "cmd" }, "--json goes with -t")]
    [InlineData(new[] { "gpu:0", "cmd" }, "invalid GPU count")]
    public void Bad_input_is_a_usage_error_naming_it(string[] argv, string message)
        => Assert.Contains(message, Assert.Throws<UsageException>(() => JobRequest.Parse(argv)).Message);
}

/// <summary>Resolution against templates and settings: precedence, defaults, account choice.</summary>
[Trait("Tier", "Unit")]
public class JobSpecTests
{
    static Settings With(string user = "", string site = "")
    {
        var dir = Directory.CreateTempSubdirectory("kslurm-spec-").FullName;
        File.WriteAllText(Path.Combine(dir, "u.toml"), user);
        File.WriteAllText(Path.Combine(dir, "s.toml"), site);
        return new Settings(ConfigFile.Load(Path.Combine(dir, "u.toml")), ConfigFile.Load(Path.Combine(dir, "s.toml")));
    }

    static JobSpec Resolve(string[] argv, Settings? s = null)
    {
        s ??= With();
        return JobSpec.Resolve(JobRequest.Parse(argv), s, JobTemplates.All(s));
    }

    [Fact]
    public void Defaults_are_kslurms()
    {
        var spec = Resolve(["cmd"]);
        Assert.Equal(["--time=03:00:00", "--cpus-per-task=1", "--mem=4000"], spec.SlurmOptions);
        Assert.Equal("slurm default", spec.AccountFrom);
    }

    [Fact]
    public void X11_word_and_flag_both_forward_x11()
    {
        Assert.Contains("--x11", Resolve(["x11", "xclock"]).SlurmOptions);
        Assert.Contains("--x11", Resolve(["--x11", "xclock"]).SlurmOptions);
    }

    [Fact]
    public void Upstream_example_resolves_as_kslurm_did()
    {
        // kbatch 1-33:11 5G gpu --account some-account -j Regular
        var spec = Resolve(["1-33:11", "5G", "gpu", "--account", "some-account", "-j", "Regular", "cmd"]);
        Assert.Equal(["--account=some-account", "--time=2-09:11:00", "--cpus-per-task=8", "--mem=5000", "--gres=gpu:1"], spec.SlurmOptions);
    }

    [Fact]
    public void Template_values_fill_what_was_not_typed()
    {
        var spec = Resolve(["-j", "Long", "2", "cmd"]);
        Assert.Equal(["--time=3-00:00:00", "--cpus-per-task=2", "--mem=32000"], spec.SlurmOptions);
    }

    [Fact]
    public void Unknown_template_lists_the_valid_ones()
    {
        var e = Assert.Throws<UsageException>(() => Resolve(["-j", "Nope", "cmd"]));
        Assert.Contains("'Nope' is not a job template", e.Message);
        Assert.Contains("Regular", e.Hint);
    }

    [Fact]
    public void User_templates_from_settings_with_extra_options()
    {
        var s = With(user: "[templates.gpu-debug]\ncpus = 4\nmem = \"16G\"\ntime = \"1:00\"\ngpu = true\naccount = \"rrg-x\"\nextra = [\"--partition=gpu\"]\n");
        var spec = Resolve(["-j", "gpu-debug", "cmd"], s);
        Assert.Equal(["--account=rrg-x", "--time=01:00:00", "--cpus-per-task=4", "--mem=16000", "--gres=gpu:1", "--partition=gpu"], spec.SlurmOptions);
    }

    [Fact]
    public void Site_templates_are_overridden_by_user_ones_of_the_same_name()
    {
        var s = With(user: "[templates.t]\ncpus = 2\n", site: "[templates.t]\ncpus = 16\n[templates.s]\ncpus = 3\n");
        Assert.Equal(2, Resolve(["-j", "t", "cmd"], s).Cpus);
        Assert.Equal(3, Resolve(["-j", "s", "cmd"], s).Cpus);
    }

    [Fact]
    public void Bad_template_settings_name_the_template_and_key()
    {
        var s = With(user: "[templates.t]\ncpus = \"many\"\n");
        var e = Assert.Throws<KslurmException>(() => Resolve(["cmd"], s));
        Assert.Contains("template 't'", e.Message);
        Assert.Contains("cpus", e.Message);
    }

    [Fact]
    public void Account_precedence()
    {
        var s = With(user: "[account]\ndefault = \"plain\"\ngpu = \"gpu-acct\"\n", site: "account = \"site\"\n");
        Assert.Equal("plain", Resolve(["cmd"], s).Account);          // no account.cpu: falls back to account
        Assert.Equal("gpu-acct", Resolve(["gpu", "cmd"], s).Account);
        Assert.Equal("gpu-acct", Resolve(["--gpus=1", "cmd"], s).Account); // GPUs asked through a Slurm option
        Assert.Equal("cli", Resolve(["-a", "cli", "gpu", "cmd"], s).Account);
        var site = With(site: "account = \"site\"\n");
        Assert.Equal("site", Resolve(["cmd"], site).Account);
    }

    [Fact]
    public void Empty_account_values_never_block_the_fallback()
    {
        var s = With(user: "[account]\ndefault = \"plain\"\ngpu = \"\"\ncpu = \"\"\n");
        Assert.Equal("plain", Resolve(["gpu", "cmd"], s).Account);
        Assert.Equal("plain", Resolve(["cmd"], s).Account);
    }

    [Fact]
    public void Slurm_options_replace_the_defaults_they_cover_and_come_last()
    {
        var spec = Resolve(["--time=10:00", "-c", "2", "--mem-per-cpu=1G", "-A", "x", "cmd"]);
        Assert.Equal(["--account=x", "--time=10:00", "-c", "2", "--mem-per-cpu=1G"], spec.SlurmOptions);
    }
}
