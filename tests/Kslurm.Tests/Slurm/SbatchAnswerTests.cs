namespace Kslurm.Tests.Jobs;

/// <summary>
/// kbatch and kjupyter submit through one Sbatch.Submit: the same refusal translation and the same
/// job-id check (kjupyter used to take any answer as the id). A fake sbatch on PATH gives the
/// answers a real one gives on a bad day; no cluster needed.
/// </summary>
public class SbatchAnswerTests
{
    static Sandbox WithSbatch(string script)
    {
        var s = new Sandbox();
        var bin = Path.Combine(s.Dir, "fake-slurm");
        Directory.CreateDirectory(bin);
        var sbatch = Path.Combine(bin, "sbatch");
        File.WriteAllText(sbatch, "#!/bin/sh\n" + script + "\n");
        File.SetUnixFileMode(sbatch, (UnixFileMode)0b111_101_101);
        s.Env["PATH"] = $"{bin}:{Repo.Dist}:/usr/local/bin:/usr/bin:/bin";
        return s;
    }

    public static TheoryData<string[]> Submitters => new() { new[] { "kbatch", "0:05", "true" }, new[] { "kjupyter", "0:05" } };

    [Theory]
    [MemberData(nameof(Submitters))]
    public void An_answer_that_is_not_a_job_id_is_an_error(string[] argv)
    {
        using var s = WithSbatch("echo 'Submitted batch job'");
        Expect.Error(s.Tool(argv[0], argv[1..]), argv[0], 1, "sbatch did not print a job id (it printed 'Submitted batch job')");
    }

    [Theory]
    [MemberData(nameof(Submitters))]
    public void A_refusal_is_one_error_naming_the_account_setting(string[] argv)
    {
        using var s = WithSbatch("echo 'sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified' >&2; exit 1");
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-nobody"));
        var r = s.Tool(argv[0], argv[1..]);
        Expect.Error(r, argv[0], 1, "sbatch refused the job: Batch job submission failed: Invalid account or account/partition combination specified");
        Assert.Contains($"{argv[0]}: hint: the account 'def-nobody' comes from your settings (account)", r.Stderr);
    }
}
