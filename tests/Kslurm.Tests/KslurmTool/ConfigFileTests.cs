namespace Kslurm.Tests.KslurmTool;

/// <summary>
/// Settings files written by hand, edited by the real `kslurm config`: what a command does not
/// touch stays byte for byte. Then values of the wrong type, and files that are not files.
/// </summary>
[Trait("Tier", "Binary")]
public class ConfigFileTests
{
    // As a researcher keeps it: comments, blank lines, odd spacing and quoting, a multi-line list.
    const string UserFile = """
        # My kslurm settings -- kept by hand
        #   (see the lab wiki)

        pipdir = '/project/def-lab/me/.kslurm'   # shared storage

        account = "def-lab"  # the usual one

        [templates.gpu-debug]   # krun -j gpu-debug
        cpus = 4
        mem  = "16G"
        extra = [ "--partition=gpu",   # the gpu partition
                  "--qos=debug" ]

        # end

        """;

    static string Write(Sandbox s, string path, string text)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    static void Step(Sandbox s, string path, string expected, params string[] args)
    {
        Expect.Ok(s.Tool("kslurm", ["config", .. args]));
        Assert.Equal(expected, File.ReadAllText(path));
    }

    [Fact]
    public void Commented_user_file_is_edited_in_place()
    {
        using var s = new Sandbox();
        var f = Write(s, s.UserConfig, UserFile);
        var text = UserFile;

        // set an existing key: only its value changes, its comment stays
        text = text.Replace("account = \"def-lab\"  # the usual one", "account = \"rrg-lab\"  # the usual one");
        Step(s, f, text, "account", "rrg-lab");

        // the value gains children: it stays on its line as account.default, the child follows it
        text = text.Replace("account = \"rrg-lab\"  # the usual one\n",
            "account.default = \"rrg-lab\"  # the usual one\naccount.gpu = \"rrg-gpu\"\n");
        Step(s, f, text, "account.gpu", "rrg-gpu");
        Assert.Equal("rrg-lab\naccount.gpu: rrg-gpu\n", s.Tool("kslurm", "config", "account").Stdout);

        // a new key in an existing table goes at its end, after the multi-line list
        text = text.Replace("          \"--qos=debug\" ]\n", "          \"--qos=debug\" ]\ntime = \"1:00\"\n");
        Step(s, f, text, "templates.gpu-debug.time", "1:00");

        // a new table goes at the end of the file
        var withShort = text + "\n[templates.short]\ncpus = \"2\"\n";
        Step(s, f, withShort, "templates.short.cpus", "2");

        // unset removes the line and the table it leaves empty
        Step(s, f, text + "\n", "--unset", "templates.short.cpus");
        text += "\n";

        // the last child goes: the value folds back to a plain key, comment and all
        text = text.Replace("account.default = \"rrg-lab\"  # the usual one\naccount.gpu = \"rrg-gpu\"\n",
            "account = \"rrg-lab\"  # the usual one\n");
        Step(s, f, text, "--unset", "account.gpu");

        // a literal string stays literal
        Step(s, f, text.Replace("'/project/def-lab/me/.kslurm'", $"'{s.Dir}/store'"), "pipdir", Path.Combine(s.Dir, "store"));
        Expect.Ok(s.Tool("krun", "-j", "gpu-debug", "-t", "true")); // and the file still reads as a whole
    }

    // As an admin keeps the site file: a quoted table name, aligned values, a comment about a key to come.
    const string SiteFile = """
        ## Site settings for kslurm on this cluster -- managed by rc-admins
        ## Do not edit without a ticket.

        [account]
        default = "def-group"        # everyone
        cpu     = 'def-group_cpu'
        # gpu comes later

        [templates."big-mem"]   # quoted name
        mem = "500G"
        time = "24:00"

        """;

    [Fact]
    public void Commented_site_file_is_edited_in_place()
    {
        using var s = new Sandbox();
        var f = Write(s, s.SiteConfig, SiteFile);
        var text = SiteFile;
        var store = Path.Combine(s.Dir, "shared");

        // the first plain key goes above the first table and the comments that belong to it
        text = text.Replace("ticket.\n\n[account]", $"ticket.\n\npipdir = \"{store}\"\n\n[account]");
        Step(s, f, text, "--site", "pipdir", store);

        // a new key in [account]: after the last key, above the comment below it
        text = text.Replace("cpu     = 'def-group_cpu'\n", "cpu     = 'def-group_cpu'\ngpu = \"def-group_gpu\"\n");
        Step(s, f, text, "--site", "account.gpu", "def-group_gpu");

        // a quoted table name is found as the same table
        text = text.Replace("time = \"24:00\"\n", "time = \"24:00\"\ncpus = \"32\"\n");
        Step(s, f, text, "--site", "templates.big-mem.cpus", "32");

        // setting a key that has children sets its default in place, comment kept
        text = text.Replace("default = \"def-group\"        # everyone", "default = \"def-other\"        # everyone");
        Step(s, f, text, "--site", "account", "def-other");

        // unset of one child removes that line only
        text = text.Replace("cpu     = 'def-group_cpu'\n", "");
        Step(s, f, text, "--site", "--unset", "account.cpu");

        Assert.False(File.Exists(s.UserConfig));
        var list = s.Tool("kslurm", "config", "--list");
        Expect.Ok(list);
        Assert.Equal($"pipdir: {store}  (site)\naccount: def-other  (site)\naccount.gpu: def-group_gpu  (site)\n" +
                     "templates.big-mem.mem: 500G  (site)\ntemplates.big-mem.time: 24:00  (site)\ntemplates.big-mem.cpus: 32  (site)\n", list.Stdout);
    }

    [Fact]
    public void A_table_holding_only_default_folds_back_into_a_plain_key()
    {
        using var s = new Sandbox();
        var f = Write(s, s.UserConfig, "pipdir = \"/p\"\n\n[account]\ndefault = 'def-lab'  # mine\ngpu = \"rrg\"\n");
        Step(s, f, "pipdir = \"/p\"\naccount = 'def-lab'  # mine\n\n", "--unset", "account.gpu");
        Assert.Equal("def-lab\n", s.Tool("kslurm", "config", "account").Stdout);
    }

    [Theory]
    [InlineData("[account]\ngpu = true\n", "account.gpu", "2:7", "account.gpu must be an account name in quotes", "not the boolean true")]
    [InlineData("account = 5\n", "account", "1:11", "account must be an account name in quotes", "not the number 5")]
    [InlineData("pipdir = 5\n", "pipdir", "1:10", "pipdir must be an absolute path in quotes", "not the number 5")]
    [InlineData("pipdir = \"store/here\"\n", "pipdir", "1:10", "pipdir must be an absolute path", "not \"store/here\"")]
    public void Values_of_the_wrong_type_are_errors_naming_key_type_and_place(string toml, string key, string at, string what, string got)
    {
        using var s = new Sandbox();
        Write(s, s.UserConfig, toml);
        var r = s.Tool("kslurm", "config", key);
        Expect.Error(r, "kslurm", 1, $"~/.config/kslurm/config.toml:{at}: {what}");
        Assert.Contains(got, r.Stderr);
        Assert.Contains($"kslurm: hint: set it with: kslurm config {key} ", r.Stderr);
        // setting the key repairs the file
        Expect.Ok(s.Tool("kslurm", "config", key, key == "pipdir" ? Path.Combine(s.Dir, "p") : "def-x"));
        Expect.Ok(s.Tool("kslurm", "config", key));
    }

    [Fact]
    public void Jobs_refuse_an_account_of_the_wrong_type()
    {
        using var s = new Sandbox();
        Write(s, s.UserConfig, "[account]\ndefault = \"def-lab\"\ngpu = true\n");
        Expect.Error(s.Tool("krun", "-t", "gpu", "python", "x.py"), "krun", 1, "config.toml:3:7: account.gpu must be an account name in quotes");
        var cpu = s.Tool("krun", "-t", "2", "python", "x.py");
        Expect.Ok(cpu); // CPU jobs do not read account.gpu
        Assert.Contains("--account=def-lab", cpu.Stdout + cpu.Stderr);
        Write(s, s.SiteConfig, "pipdir = 5\n");
        Expect.Error(s.Tool("kpy", "list"), "kpy", 1, "site/config.toml:1:10: pipdir must be an absolute path in quotes");
    }

    [Fact]
    public void A_named_pipe_instead_of_the_file_is_an_error_not_a_hang()
    {
        using var s = new Sandbox();
        Directory.CreateDirectory(Path.GetDirectoryName(s.UserConfig)!);
        Mkfifo(s.UserConfig);
        var r = s.Exec(Repo.Tool("kslurm"), ["config", "--list"], timeoutMs: 20_000);
        Expect.Error(r, "kslurm", 1, "~/.config/kslurm/config.toml is a named pipe, not a settings file");
        Expect.Error(s.Exec(Repo.Tool("kslurm"), ["config", "account", "x"], timeoutMs: 20_000), "kslurm", 1, "is a named pipe");
    }

    [Fact]
    public void A_link_to_dev_zero_or_a_huge_file_is_refused_without_reading_it()
    {
        using var s = new Sandbox();
        Directory.CreateDirectory(Path.GetDirectoryName(s.UserConfig)!);
        File.CreateSymbolicLink(s.UserConfig, "/dev/zero");
        Expect.Error(s.Exec(Repo.Tool("kslurm"), ["config", "--list"], timeoutMs: 20_000), "kslurm", 1, "config.toml is a device, not a settings file");
        File.Delete(s.UserConfig);
        File.WriteAllText(s.UserConfig, "# " + new string('x', 1 << 20) + "\n");
        Expect.Error(s.Tool("kslurm", "config", "--list"), "kslurm", 1, "config.toml is larger than 1 MiB");
    }

    [Fact]
    public void A_folder_instead_of_the_file_is_named_as_such()
    {
        using var s = new Sandbox();
        Directory.CreateDirectory(s.UserConfig);
        var r = s.Tool("kslurm", "config", "--list");
        Expect.Error(r, "kslurm", 1, "~/.config/kslurm/config.toml is a folder, not a settings file");
        Assert.DoesNotContain("permission denied", r.Stderr);
    }

    [Fact]
    public void Symlinked_file_is_written_through_and_a_dangling_link_is_a_clear_error()
    {
        using var s = new Sandbox();
        var real = Write(s, Path.Combine(s.Dir, "dotfiles", "kslurm.toml"), "# in my dotfiles\naccount = \"a\"\n");
        Directory.CreateDirectory(Path.GetDirectoryName(s.UserConfig)!);
        File.CreateSymbolicLink(s.UserConfig, real);
        Expect.Ok(s.Tool("kslurm", "config", "account", "b"));
        Assert.Equal(real, new FileInfo(s.UserConfig).LinkTarget); // still a link
        Assert.Equal("# in my dotfiles\naccount = \"b\"\n", File.ReadAllText(real));

        File.Delete(real);
        Expect.Ok(s.Tool("kslurm", "config", "--list")); // reads as no settings
        var r = s.Tool("kslurm", "config", "account", "c");
        Expect.Error(r, "kslurm", 1, $"~/.config/kslurm/config.toml is a symbolic link to {real}, which does not exist");
        Assert.False(File.Exists(real));
    }

    [Fact]
    public void Temp_files_of_killed_writers_are_removed_by_the_next_write()
    {
        using var s = new Sandbox();
        var dir = Path.GetDirectoryName(s.UserConfig)!;
        Directory.CreateDirectory(dir);
        // what a writer killed between creating and renaming its temp file leaves
        var stale = Path.Combine(dir, ".config.toml.tmp-999999-0badf00d");
        File.WriteAllText(stale, "account = \"half");
        Expect.Ok(s.Tool("kslurm", "config", "account", "x"));
        Assert.Empty(Directory.GetFiles(dir, ".config.toml.tmp-*"));
        Assert.Equal("x\n", s.Tool("kslurm", "config", "account").Stdout);
    }

    static void Mkfifo(string path)
    {
        using var p = System.Diagnostics.Process.Start("mkfifo", [path]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
