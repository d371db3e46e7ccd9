using System.Diagnostics;

namespace Kslurm.Tests.Krun;

/// <summary>krun on the real cluster, as an unprivileged user.</summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KrunTests
{
    [Fact]
    public void Runs_the_command_on_the_node_and_returns_its_output()
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "1", "0:05", "100M", "hostname");
        Expect.Ok(r);
        Assert.Contains(r.Stdout.TrimEnd('\n'), Cluster.Nodes); // a compute node: on the multi-node cluster not this login node
    }

    [Fact]
    public void Exit_code_is_the_jobs()
    {
        using var u = new ClusterUser();
        Assert.Equal(7, u.Tool("krun", "0:05", "sh", "-c", "exit 7").Code);
    }

    [Fact]
    public void Arguments_reach_the_job_byte_for_byte()
    {
        using var u = new ClusterUser();
        string[] tricky = ["a b", "'q'", "\"dq\"", "$HOME", "*", "", "ünï", "new\nline", "-t", "gpu", "4", "--x11"];
        var r = u.Tool("krun", ["0:05", "python3", "-c", "import sys; sys.stdout.write('\\0'.join(sys.argv[1:]))", .. tricky]);
        Expect.Ok(r);
        Assert.Equal(tricky, r.Stdout.Split('\0'));
    }

    [Fact]
    public void Resources_reach_slurm()
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "2", "0:07", "300M", "sh", "-c", "scontrol -o show job $SLURM_JOB_ID");
        Expect.Ok(r);
        Assert.Contains("TimeLimit=00:07:00", r.Stdout);
        Assert.Contains("NumCPUs=2", r.Stdout);
        Assert.Contains("MinMemoryNode=300M", r.Stdout);
        Assert.Contains("Account=def-lab", r.Stdout); // no setting: Slurm's default for the user
    }

    [Theory]
    [InlineData("gpu", "0")]
    [InlineData("gpu:2", "0,1")]
    public void Gpu_words_give_gpus(string word, string visible)
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "0:05", word, "printenv", "CUDA_VISIBLE_DEVICES");
        Expect.Ok(r);
        Assert.Equal(visible + "\n", r.Stdout);
    }

    [Fact]
    public void Accounts_come_from_settings_by_kind_of_job()
    {
        using var u = new ClusterUser();
        Expect.Ok(u.Tool("kslurm", "config", "account", "rrg-lab"));
        Expect.Ok(u.Tool("kslurm", "config", "account.gpu", "def-lab_gpu"));
        Assert.Equal("rrg-lab\n", u.Tool("krun", "0:05", "printenv", "SLURM_JOB_ACCOUNT").Stdout);
        Assert.Equal("def-lab_gpu\n", u.Tool("krun", "0:05", "gpu", "printenv", "SLURM_JOB_ACCOUNT").Stdout);
        Assert.Equal("def-lab\n", u.Tool("krun", "-a", "def-lab", "0:05", "gpu", "printenv", "SLURM_JOB_ACCOUNT").Stdout);
    }

    [Fact]
    public void Refused_account_from_settings_names_the_setting()
    {
        using var u = new ClusterUser();
        Expect.Ok(u.Tool("kslurm", "config", "account", "no-such-account"));
        var r = u.Tool("krun", "0:05", "true");
        Assert.NotEqual(0, r.Code);
        Assert.Contains("Invalid account", r.Stderr);
        Assert.Contains("krun: hint: the account 'no-such-account' comes from your settings (account)", r.Stderr);
    }

    [Fact]
    public void Folder_word_runs_the_job_there()
    {
        using var u = new ClusterUser();
        var sub = Path.Combine(u.Work, "sub dir");
        Directory.CreateDirectory(sub);
        new Sandbox().Exec("chown", [$"{u.Name}:", sub]);
        Assert.Equal(sub + "\n", u.Tool("krun", "./sub dir", "0:05", "pwd").Stdout);
    }

    [Fact]
    public void Slurm_options_pass_through()
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "--partition", "gpu", "--job-name=my-job", "0:05", "sh", "-c", "echo $SLURM_JOB_PARTITION $SLURM_JOB_NAME");
        Expect.Ok(r);
        Assert.Equal("gpu my-job\n", r.Stdout);
    }

    [Fact]
    public void Over_asking_is_refused_with_slurms_reason()
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "64", "0:05", "true");
        Assert.NotEqual(0, r.Code);
        Assert.Contains("More processors requested than permitted", r.Stderr);
    }

    [Fact]
    public void Inside_an_allocation_the_command_is_a_job_step_of_it()
    {
        using var u = new ClusterUser();
        var r = u.Run("salloc", ["-t", "5", "-c", "2", Cluster.Tool("krun"), "1", "sh", "-c", "echo $SLURM_JOB_ID $SLURM_STEP_ID $SLURM_CPUS_PER_TASK"]);
        Expect.Ok(r);
        var f = r.Stdout.Trim().Split(' ');
        Assert.Equal(3, f.Length);
        Assert.Equal("0", f[1]);
        Assert.Equal("1", f[2]);
        Assert.Contains($"JobId={f[0]} ", Cluster.ShowJob(f[0]));
        Assert.Contains("salloc: Granted job allocation " + f[0], r.Stderr);
    }

    [Fact]
    public void Interactive_allocation_gives_a_shell_on_the_node()
    {
        using var u = new ClusterUser();
        // no SHELL in the environment (env -i): krun still gets a shell on the node
        var r = u.Tty("echo JOB=$SLURM_JOB_ID CPUS=$SLURM_CPUS_PER_TASK TMP=${SLURM_TMPDIR:+set}\nexit\n", Cluster.Tool("krun"), "2", "0:05");
        Expect.Ok(r);
        Assert.Matches(@"JOB=\d+ CPUS=2 TMP=set", r.Stdout);
    }

    [Fact]
    public async Task Ctrl_c_cancels_the_job()
    {
        using var u = new ClusterUser();
        var marker = $"kslurm-ctrlc-{Guid.NewGuid():N}"[..24];
        // a new session makes krun and srun one process group, like a terminal's foreground job
        var psi = new ProcessStartInfo("setsid", ["runuser", "-u", u.Name, "--", .. u.CleanEnv(),
            Cluster.Tool("krun"), "0:05", "--job-name", marker, "sleep", "300"])
        { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = u.Work };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        using var s = new Sandbox();
        string job = "";
        for (var i = 0; i < 100 && job.Length == 0; i++)
        {
            Thread.Sleep(200);
            job = s.Exec("squeue", ["-h", "-n", marker, "-t", "R", "-o", "%i"]).Stdout.Trim();
        }
        Assert.NotEqual("", job);
        Thread.Sleep(500);
        s.Exec("kill", ["-s", "INT", "--", $"-{p.Id}"]); // the whole group, as a terminal does
        Assert.True(p.WaitForExit(20_000), "krun did not end after Ctrl-C");
        Assert.NotEqual(0, p.ExitCode);
        Cluster.WaitJob(job, 20);
        Assert.DoesNotContain("JobState=RUNNING", Cluster.ShowJob(job));
        Assert.DoesNotContain("Unhandled", await err);
    }

    [Fact]
    public void Test_mode_prints_a_copyable_command_and_submits_nothing()
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "-t", "4", "3:00", "15G", "gpu", "python", "train.py", "a b");
        Expect.Ok(r);
        Assert.Equal("srun --quit-on-interrupt --time=03:00:00 --cpus-per-task=4 --mem=15000 --gres=gpu:1 -- python train.py 'a b'\n", r.Stdout);
        var interactive = u.Tool("krun", "-t", "-j", "Quick");
        Assert.Equal("salloc --time=00:10:00 --cpus-per-task=1 --mem=4000\n", interactive.Stdout);
    }

    [Fact]
    public void Json_plan_matches_the_checked_in_schema()
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "-t", "--json", "gpu:a100:2", "x11", "-j", "Regular", "--qos=high", "python", "x.py");
        Expect.Ok(r);
        JsonSchemaCheck.Valid("docs/schema/job-plan.schema.json", r.Stdout);
        Assert.Contains("\"account_from\": \"slurm default\"", r.Stdout);
    }

    [Fact]
    public void Templates_list_and_unknown_names()
    {
        using var u = new ClusterUser();
        var list = u.Tool("krun", "-J");
        Expect.Ok(list);
        Assert.Equal(26, list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + 25
        Assert.Contains("LongSkinny", list.Stdout);
        Expect.Error(u.Tool("krun", "-j", "nope", "true"), "krun", 2, "'nope' is not a job template");
    }

    [Theory]
    [InlineData(new[] { "3:75", "true" }, "invalid time '3:75'")]
    [InlineData(new[] { "4", "8", "true" }, "CPU count given twice")]
    [InlineData(new[] { "--json", "true" }, "--json goes with -t")]
    [InlineData(new[] { "python a.py && python b.py" }, "no program named 'python a.py && python b.py'")]
    public void Bad_words_are_one_line_usage_errors(string[] argv, string message)
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("krun", argv), "krun", 2, message);
    }
}
