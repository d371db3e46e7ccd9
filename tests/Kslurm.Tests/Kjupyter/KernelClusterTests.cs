using Kslurm.Json;

namespace Kslurm.Tests.Kjupyter;

/// <summary>
/// The case venv kernels exist for: a kernel installed on the login node, started by Jupyter
/// inside a real Slurm job, loads the saved venv onto the job's $SLURM_TMPDIR.
/// </summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KernelClusterTests
{
    [Fact]
    public void Venv_kernel_started_in_a_job_runs_from_the_jobs_scratch()
    {
        using var u = new ClusterUser();
        u.Env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1";
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        var made = Path.Combine(u.Home, "made", "sci");
        Expect.Ok(u.Run(KernelSandbox.SystemPython, ["-m", "venv", "--without-pip", "--system-site-packages", made]));
        Expect.Ok(u.Run("env", [$"VIRTUAL_ENV={made}", Cluster.Tool("kpy"), "save", "sci"]));
        Expect.Ok(u.Run("rm", ["-rf", made]));
        Expect.Ok(u.Tool("kjupyter", "kernel", "install", "sci", "--venv", "sci"));

        var probe = Path.Combine(u.Home, "kernel_probe.py");
        File.Copy(Path.Combine(Repo.Root, "tests", "Kslurm.Tests", "Kjupyter", "kernel_probe.py"), probe);
        File.SetUnixFileMode(probe, (UnixFileMode)0b110_100_100);
        var code = KernelSandbox.Show("SLURM_TMPDIR", "SLURM_JOB_ID", "VIRTUAL_ENV");
        var r = u.Tool("krun", "0:05", KernelSandbox.SystemPython, probe, "sci", code);
        Expect.Ok(r);
        var o = (JsonObject)JsonText.Parse(r.Stdout.Split('\n').Last(l => l.StartsWith('{')))!;
        Assert.True(o["ok"] is true, r.ToString());
        var p = new Probe(true, o.String("stdout")!, null, null, null, r);
        var scratch = p.Value("SLURM_TMPDIR");
        Assert.NotNull(p.Value("SLURM_JOB_ID"));
        Assert.StartsWith("/", scratch);
        Assert.Equal($"{scratch}/kpy/sci", p.Value("prefix"));
        Assert.Equal($"{scratch}/kpy/sci", p.Value("VIRTUAL_ENV"));
    }
}
