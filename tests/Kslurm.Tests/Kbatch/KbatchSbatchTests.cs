namespace Kslurm.Tests.Kbatch;

/// <summary>
/// What kbatch hands to sbatch and how it reads sbatch's answer, with the fake Slurm of the binary
/// tier (Support/FakeSlurm.cs): no cluster needed. What Slurm then does with the job is in
/// KbatchTests (cluster tier).
/// </summary>
[Trait("Tier", "Binary")]
public sealed class KbatchSbatchTests : IDisposable
{
    readonly Sandbox _s = new();
    readonly FakeSlurm _slurm;

    public KbatchSbatchTests() => _slurm = new FakeSlurm(_s);

    public void Dispose() => _s.Dispose();

    string StateDir => Path.Combine(_s.Home, ".local", "state", "kslurm", "kbatch");

    [Fact]
    public void A_command_becomes_a_kept_script_that_runs_its_argv_verbatim()
    {
        string[] words = ["python3", "-c", "import sys; print(sys.argv[1:])", "a b", "$HOME", "'", "", "new\nline"];
        var r = _s.Tool("kbatch", ["0:05", "200M", .. words]);
        Expect.Ok(r);
        Assert.Equal($"{FakeSlurm.JobId}\n", r.Stdout); // only the id on stdout
        Assert.Contains($"kbatch: submitted job {FakeSlurm.JobId}", r.Stderr);

        var call = _slurm.CallsOf("sbatch").Single();
        Assert.Equal(_s.Dir, call.Cwd); // the job starts where it was submitted from
        var kept = Path.Combine(StateDir, $"{FakeSlurm.JobId}.sh");
        Assert.Equal(["--parsable", "--time=00:05:00", "--cpus-per-task=1", "--mem=200"], call.Args.Take(4));
        Assert.EndsWith(".sh", call.Args[^1]);
        Assert.Equal(File.ReadAllText(kept), call.Script); // the script sbatch got is the one kept
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(kept));
        Assert.Empty(Directory.GetFiles(StateDir, "pending-*"));

        // run as the job would: the words arrive byte for byte, none re-read by a shell
        var job = _s.Exec("/bin/bash", [kept]);
        Expect.Ok(job);
        Assert.Equal("['a b', '$HOME', \"'\", '', 'new\\nline']\n", job.Stdout);
    }

    [Fact]
    public void A_script_file_is_submitted_itself_with_its_arguments()
    {
        var script = Path.Combine(_s.Dir, "job.sh");
        File.WriteAllText(script, "#!/bin/bash\n#SBATCH --time=0:07:00\necho \"$1|$2\"\n");
        var r = _s.Tool("kbatch", "2", "job.sh", "x y", "z");
        Expect.Ok(r);
        var call = _slurm.CallsOf("sbatch").Single();
        Assert.Equal([script, "x y", "z"], call.Args.TakeLast(3));
        Assert.Contains("--cpus-per-task=2", call.Args);
        Assert.DoesNotContain(call.Args, a => a.StartsWith("--time")); // the script's #SBATCH --time stays in charge
        Assert.Equal(File.ReadAllText(script), call.Script);
        Assert.False(Directory.Exists(StateDir) && Directory.GetFiles(StateDir).Length > 0, "no generated script for a script file");
    }

    [Fact]
    public void A_refusal_is_one_line_and_leaves_no_script_behind()
    {
        _slurm.Answer("sbatch", 1, stderr: "sbatch: error: Batch job submission failed: Requested time limit is invalid (missing or exceeds some limit)\n");
        var r = _s.Tool("kbatch", "0:05", "true");
        Expect.Error(r, "kbatch", 1, "sbatch refused the job: Batch job submission failed: Requested time limit is invalid");
        Assert.Contains("kbatch: hint: check the resources against the partition's limits (sinfo -s)", r.Stderr);
        Assert.Equal("", r.Stdout);
        Assert.Empty(Directory.GetFiles(StateDir));
    }

    [Fact]
    public void An_account_refusal_names_where_the_account_came_from()
    {
        Expect.Ok(_s.Tool("kslurm", "config", "account", "def-gone"));
        _slurm.Answer("sbatch", 1, stderr: "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n");
        var r = _s.Tool("kbatch", "0:05", "true");
        Expect.Error(r, "kbatch", 1, "sbatch refused the job: Batch job submission failed: Invalid account");
        Assert.Contains("the account 'def-gone' comes from your settings (account)", r.Stderr);
        Assert.Contains("--account=def-gone", _slurm.CallsOf("sbatch").Single().Args);
    }

    [Theory]
    [InlineData("Submitted batch job 17\n")] // sbatch without --parsable (a wrapper that drops it)
    [InlineData("")]
    [InlineData("17 18\n")]
    public void Output_that_is_not_a_job_id_is_an_error(string stdout)
    {
        _slurm.Answer("sbatch", 0, stdout);
        var r = _s.Tool("kbatch", "0:05", "true");
        Expect.Error(r, "kbatch", 1, "sbatch did not print a job id");
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void A_cluster_suffix_is_dropped_and_sbatch_warnings_are_passed_on()
    {
        _slurm.Answer("sbatch", 0, "77;beluga\n", "sbatch: warning: the memory was rounded up\n");
        var r = _s.Tool("kbatch", "0:05", "true");
        Expect.Ok(r);
        Assert.Equal("77\n", r.Stdout);
        Assert.Contains("sbatch: warning: the memory was rounded up", r.Stderr);
        Assert.True(File.Exists(Path.Combine(StateDir, "77.sh")));
    }
}
