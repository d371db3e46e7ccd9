namespace Kslurm.Tests.KslurmTool;

/// <summary>`kslurm config account -i` against the real cluster's accounting (sacctmgr, sshare).</summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class AccountPickerTests
{
    [Fact]
    public void Single_account_is_stored_without_asking()
    {
        using var u = new ClusterUser(Cluster.SoloUser);
        var r = u.Tool("kslurm", "config", "account", "-i");
        Expect.Ok(r);
        Assert.Contains("One account for jobs: rrg-lab (LevelFS", r.Stderr);
        Assert.Equal("rrg-lab\n", u.Tool("kslurm", "config", "account").Stdout);
    }

    [Fact]
    public void The_choice_is_written_into_a_commented_file_in_place()
    {
        using var u = new ClusterUser(Cluster.SoloUser);
        const string before = "# my settings\n\naccount = 'old-lab'   # from last year\n\n[templates.x]  # mine\ncpus = 2\n";
        Expect.Ok(u.Run("/bin/sh", ["-c", "mkdir -p ~/.config/kslurm && cat > ~/.config/kslurm/config.toml"], stdin: before));
        Expect.Ok(u.Tool("kslurm", "config", "account", "-i"));
        Assert.Equal(before.Replace("'old-lab'", "'rrg-lab'"), File.ReadAllText(u.ConfigFile));
    }

    [Fact]
    public void Several_accounts_without_a_terminal_is_a_clear_error()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kslurm", "config", "account", "-i");
        // listed best LevelFS first, which depends on what earlier tests ran
        Expect.Error(r, "kslurm", 1, "and there is no terminal to ask on");
        Assert.Matches(@"several accounts can run CPU jobs \((def-lab, rrg-lab|rrg-lab, def-lab)\)", r.Stderr);
        Assert.False(File.Exists(u.ConfigFile));
    }

    [Fact]
    public void Terminal_prompt_stores_cpu_and_gpu_accounts()
    {
        using var u = new ClusterUser();
        // CPU: a wrong answer, then a name; GPU: Enter takes the first offered (the best LevelFS)
        var r = u.Tty("9\nrrg-lab\n\n", Cluster.Tool("kslurm"), "config", "account", "-i");
        Expect.Ok(r);
        Assert.Contains("Select an account for CPU jobs", r.Stdout);
        Assert.Contains("Select an account for GPU jobs", r.Stdout);
        Assert.Matches(@"LevelFS (inf|\d)", r.Stdout);
        Assert.Contains("'9' is not one of 1-2", r.Stdout);
        var firsts = System.Text.RegularExpressions.Regex.Matches(r.Stdout, @"^\s+1\) (\S+)", System.Text.RegularExpressions.RegexOptions.Multiline);
        Assert.Equal(2, firsts.Count);
        Assert.Equal("rrg-lab\n", u.Tool("kslurm", "config", "account.cpu").Stdout);
        Assert.Equal(firsts[1].Groups[1].Value + "\n", u.Tool("kslurm", "config", "account.gpu").Stdout);
    }

    [Fact]
    public void Interactive_only_for_account()
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("kslurm", "config", "pipdir", "-i"), "kslurm", 2, "pipdir cannot be set interactively");
    }
}
