namespace Kslurm.Tests.Kbatch;

/// <summary>kbatch on the real cluster, as an unprivileged user.</summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KbatchTests
{
    static string JobId(Result r)
    {
        Expect.Ok(r);
        Assert.Matches(@"^\d+\n$", r.Stdout); // only the id on stdout
        return r.Stdout.Trim();
    }

    [Fact]
    public void Command_job_prints_only_the_id_and_runs_the_argv_exactly()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kbatch", "0:05", "200M", "python3", "-c", "import sys; print(sys.argv[1:])", "a b", "$HOME", "'");
        var id = JobId(r);
        Assert.Contains($"kbatch: submitted job {id}", r.Stderr);
        Assert.Contains($"output: {u.Work}/slurm-{id}.out", r.Stderr);
        Assert.Contains($"cancel: scancel {id}", r.Stderr);
        Cluster.WaitJob(id);
        Assert.Equal("['a b', '$HOME', \"'\"]\n", File.ReadAllText(Path.Combine(u.Work, $"slurm-{id}.out")));
        var job = Cluster.ShowJob(id);
        Assert.Contains("TimeLimit=00:05:00", job);
        Assert.Contains("MinMemoryNode=200M", job);
        Assert.Contains("JobState=COMPLETED", job);

        var kept = Path.Combine(u.Home, ".local", "state", "kslurm", "kbatch", $"{id}.sh");
        Assert.True(File.Exists(kept), "the generated script is kept");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kept));
        Assert.StartsWith("#!/bin/bash\n", File.ReadAllText(kept));
    }

    [Fact]
    public void Script_file_keeps_its_sbatch_lines_unless_overridden()
    {
        using var u = new ClusterUser();
        var script = Path.Combine(u.Work, "job.sh");
        File.WriteAllText(script, "#!/bin/bash\n#SBATCH --time=0:07:00\n#SBATCH --job-name=from-script\n#SBATCH --mem=250M\n\necho \"args: $1|$2 cpus: $SLURM_CPUS_PER_TASK\"\n");
        new Sandbox().Exec("chown", [$"{u.Name}:", script]);
        var id = JobId(u.Tool("kbatch", "2", "job.sh", "x y", "z"));
        Cluster.WaitJob(id);
        var job = Cluster.ShowJob(id);
        Assert.Contains("TimeLimit=00:07:00", job);     // the script's, not kbatch's default 3:00
        Assert.Contains("JobName=from-script", job);
        Assert.Contains("MinMemoryNode=250M", job);
        Assert.Contains("NumCPUs=2", job);              // typed here
        Assert.Equal("args: x y|z cpus: 2\n", File.ReadAllText(Path.Combine(u.Work, $"slurm-{id}.out")));

        var over = JobId(u.Tool("kbatch", "0:09", "./job.sh"));
        Cluster.WaitJob(over);
        Assert.Contains("TimeLimit=00:09:00", Cluster.ShowJob(over)); // typed words win over #SBATCH
    }

    [Fact]
    public void Wait_returns_the_jobs_exit_code()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kbatch", "0:05", "--wait", "sh", "-c", "exit 5");
        Assert.Equal(5, r.Code);
        Assert.Matches(@"^\d+\n$", r.Stdout);
        Assert.Contains("FAILED, exit code 5", r.Stderr);
        Assert.Equal(0, u.Tool("kbatch", "0:05", "--wait", "true").Code);
    }

    [Theory]
    [InlineData("INT", 130)]  // Ctrl-C
    [InlineData("TERM", 143)] // the session around it ended (a batch job's time limit, a closed tmux)
    public async Task A_signal_stops_the_waiting_not_the_job(string signal, int exitCode)
    {
        using var u = new ClusterUser();
        // setpriv execs (runuser would stay in between, answer SIGTERM itself and hide kbatch's exit code)
        var psi = new System.Diagnostics.ProcessStartInfo("setsid", ["setpriv", $"--reuid={u.Name}", $"--regid={u.Name}", "--init-groups", "--",
            .. u.CleanEnv(), Cluster.Tool("kbatch"), "0:05", "--wait", "sleep", "120"])
        { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = u.Work };
        using var p = System.Diagnostics.Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        var job = (await p.StandardOutput.ReadLineAsync())!.Trim();
        Assert.Matches(@"^\d+$", job);
        for (var i = 0; i < 100 && new Sandbox().Exec("squeue", ["-h", "-j", job, "-o", "%T"]).Stdout.Trim() != "RUNNING"; i++)
            await Task.Delay(100);
        await Task.Delay(800); // into the polling, where a signal may land during scontrol
        new Sandbox().Exec("kill", ["-s", signal, "--", $"-{p.Id}"]);
        Assert.True(p.WaitForExit(30_000), $"kbatch --wait did not end after SIG{signal}");
        Assert.Equal(exitCode, p.ExitCode);
        Assert.Contains($"stopped waiting; job {job} keeps going", await err);
        Assert.Equal("RUNNING", new Sandbox().Exec("squeue", ["-h", "-j", job, "-o", "%T"]).Stdout.Trim());
        new Sandbox().Exec("scancel", [job]);
    }

    [Fact]
    public void No_command_is_a_usage_error()
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("kbatch", "4", "3:00"), "kbatch", 2, "missing command");
    }

    [Fact]
    public void Refusals_are_one_line_with_advice()
    {
        using var u = new ClusterUser();
        var bad = u.Tool("kbatch", "-a", "no-such-account", "0:05", "true");
        Expect.Error(bad, "kbatch", 1, "Invalid account");
        Assert.Equal("", bad.Stdout);
        var big = u.Tool("kbatch", "64", "0:05", "true");
        Expect.Error(big, "kbatch", 1, "sbatch refused the job");
    }

    [Fact]
    public void Test_mode_shows_script_and_command_without_submitting()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kbatch", "-t", "1", "0:10", "100M", "echo", "hello world");
        Expect.Ok(r);
        Assert.StartsWith("sbatch --parsable --time=00:10:00 --cpus-per-task=1 --mem=100 '<script>'\n<script>:\n#!/bin/bash\n", r.Stdout);
        Assert.EndsWith("echo 'hello world'\n", r.Stdout);
        Assert.False(Directory.Exists(Path.Combine(u.Home, ".local", "state", "kslurm", "kbatch")));
        var json = u.Tool("kbatch", "-t", "--json", "gpu", "echo", "x");
        JsonSchemaCheck.Valid("docs/schema/job-plan.schema.json", json.Stdout);
        Assert.Contains("\"script\":", json.Stdout);
    }
}
