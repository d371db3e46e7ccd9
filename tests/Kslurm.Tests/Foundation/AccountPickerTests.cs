namespace Kslurm.Tests.Foundation;

/// <summary>`kslurm config account -i` against the real cluster's accounting (sacctmgr, sshare).</summary>
[Collection("slurm")]
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
    public void Several_accounts_without_a_terminal_is_a_clear_error()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kslurm", "config", "account", "-i");
        Expect.Error(r, "kslurm", 1, "several accounts can run CPU jobs (def-lab, rrg-lab) and there is no terminal to ask on");
        Assert.False(File.Exists(u.ConfigFile));
    }

    [Fact]
    public void Terminal_prompt_stores_cpu_and_gpu_accounts()
    {
        using var u = new ClusterUser();
        // CPU: a wrong answer, then 2 (rrg-lab); GPU: Enter takes the first (def-lab)
        var r = u.Tty("9\n2\n\n", Cluster.Tool("kslurm"), "config", "account", "-i");
        Expect.Ok(r);
        Assert.Contains("Select an account for CPU jobs", r.Stdout);
        Assert.Contains("1) def-lab", r.Stdout);
        Assert.Contains("LevelFS inf", r.Stdout);
        Assert.Contains("'9' is not one of 1-2", r.Stdout);
        Assert.Equal("rrg-lab\n", u.Tool("kslurm", "config", "account.cpu").Stdout);
        Assert.Equal("def-lab\n", u.Tool("kslurm", "config", "account.gpu").Stdout);
    }

    [Fact]
    public void Interactive_only_for_account()
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("kslurm", "config", "pipdir", "-i"), "kslurm", 2, "pipdir cannot be set interactively");
    }
}
