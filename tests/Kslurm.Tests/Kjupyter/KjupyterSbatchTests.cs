namespace Kslurm.Tests.Kjupyter;

/// <summary>
/// How kjupyter reads sbatch's answer, with the fake Slurm of the binary tier: the same
/// submission as kbatch's (Slurm/Sbatch.cs; see Kbatch/KbatchSbatchTests). kjupyter used to take
/// any answer as the job id and then wait for a job that did not exist.
/// </summary>
[Trait("Tier", "Binary")]
public sealed class KjupyterSbatchTests : IDisposable
{
    readonly Sandbox _s = new();
    readonly FakeSlurm _slurm;

    public KjupyterSbatchTests() => _slurm = new FakeSlurm(_s);

    public void Dispose() => _s.Dispose();

    [Theory]
    [InlineData("Submitted batch job 17\n")]
    [InlineData("")]
    public void Output_that_is_not_a_job_id_is_an_error(string stdout)
    {
        _slurm.Answer("sbatch", 0, stdout);
        Expect.Error(_s.Tool("kjupyter", "0:05"), "kjupyter", 1, "sbatch did not print a job id");
        Assert.Empty(_slurm.CallsOf("scontrol")); // no waiting for a job that is not there
    }

    [Fact]
    public void An_account_refusal_names_where_the_account_came_from()
    {
        Expect.Ok(_s.Tool("kslurm", "config", "account", "def-gone"));
        _slurm.Answer("sbatch", 1, stderr: "sbatch: error: Batch job submission failed: Invalid account or account/partition combination specified\n");
        var r = _s.Tool("kjupyter", "0:05");
        Expect.Error(r, "kjupyter", 1, "sbatch refused the job: Batch job submission failed: Invalid account");
        Assert.Contains("the account 'def-gone' comes from your settings (account)", r.Stderr);
    }
}
