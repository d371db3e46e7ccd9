using Kslurm.Shell;

namespace Kslurm.Tests;

/// <summary>Tests that submit jobs share one small node: they run one at a time.</summary>
[CollectionDefinition("slurm")]
public sealed class SlurmCollection;

/// <summary>
/// The real one-node Slurm started by tests/cluster/slurm.sh (make test starts it when run as
/// root). Commands run as its unprivileged users with a clean environment, as on a cluster.
/// </summary>
public static class Cluster
{
    public const string User = "slurmtest";      // accounts def-lab (default), rrg-lab, def-lab_gpu
    public const string SoloUser = "slurmsolo";  // account rrg-lab only

    static readonly Lazy<string> BinDir = new(CopyBinaries);

    /// <summary>Fails with the way out when the cluster is not running (never skips).</summary>
    public static void Require()
    {
        using var s = new Sandbox();
        Result r;
        try { r = s.Exec("sinfo", ["-h", "-o", "%T"], timeoutMs: 15_000); }
        catch (System.ComponentModel.Win32Exception) { r = new Result(127, "", "sinfo not found"); }
        var state = r.Stdout.Trim();
        if (r.Code != 0 || state.Length == 0 || state.StartsWith("down") || state.StartsWith("drain") || state.EndsWith('*'))
            throw new InvalidOperationException(
                "the Slurm test cluster is not running: run `make test` as root, or `sudo bash tests/cluster/slurm.sh up` first\n" + r);
    }

    /// <summary>Waits until Slurm has finished with the job (it left the queue).</summary>
    public static void WaitJob(string jobId, int seconds = 60)
    {
        using var s = new Sandbox();
        for (var i = 0; i < seconds * 5; i++)
        {
            var r = s.Exec("squeue", ["-h", "-j", jobId, "-t", "PD,CF,R,CG,S"]);
            if (r.Code == 0 && r.Stdout.Trim().Length == 0 || r.Code != 0)
                return;
            Thread.Sleep(200);
        }
        throw new TimeoutException($"job {jobId} still queued or running after {seconds} s");
    }

    /// <summary>`scontrol show job` of a job, as one line of fields.</summary>
    public static string ShowJob(string jobId)
    {
        using var s = new Sandbox();
        return s.Exec("scontrol", ["-o", "show", "job", jobId]).Stdout;
    }

    public static string ShortHostname()
    {
        using var s = new Sandbox();
        return s.Exec("hostname", ["-s"]).Stdout.Trim();
    }

    /// <summary>The published binaries, copied where the test users can run them.</summary>
    public static string Tool(string name) => Path.Combine(BinDir.Value, name);

    static string CopyBinaries()
    {
        var dir = Path.Combine("/tmp", $"kslurm-test-bin-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        foreach (var t in Repo.Tools)
        {
            var dest = Path.Combine(dir, t);
            File.Copy(Repo.Tool(t), dest, overwrite: true);
            File.SetUnixFileMode(dest, (UnixFileMode)0b111_101_101);
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => { try { Directory.Delete(dir, true); } catch { } };
        return dir;
    }
}

/// <summary>A throw-away HOME and working folder owned by a cluster user, and a way to run as them.</summary>
public sealed class ClusterUser : IDisposable
{
    readonly Sandbox _s = new();

    public ClusterUser(string user = Cluster.User)
    {
        Cluster.Require();
        Name = user;
        Home = Path.Combine("/tmp", $"kslurm-test-home-{user}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Home);
        Work = Path.Combine(Home, "work");
        Directory.CreateDirectory(Work);
        var chown = _s.Exec("chown", ["-R", $"{user}:", Home]);
        if (chown.Code != 0)
            throw new InvalidOperationException("cannot hand a folder to the test user (tests with Slurm run as root)\n" + chown);
    }

    public string Name { get; }
    public string Home { get; }
    public string Work { get; }
    public Dictionary<string, string> Env { get; } = [];

    public string ConfigFile => Path.Combine(Home, ".config", "kslurm", "config.toml");

    /// <summary>Runs a program as the user: clean environment, HOME = our throw-away folder.</summary>
    public Result Run(string program, IEnumerable<string> args, string? stdin = null, string? cwd = null, int timeoutMs = 120_000)
        => _s.Exec("runuser", ["-u", Name, "--", "env", "-i", .. EnvArgs(), program, .. args], stdin, cwd ?? Work, timeoutMs: timeoutMs);

    public Result Tool(string tool, params string[] args) => Run(Cluster.Tool(tool), args);

    /// <summary>Runs under a pseudo-terminal (util-linux `script`), feeding `input` as typed keys.</summary>
    public Result Tty(string input, string program, params string[] args)
    {
        var command = ShellQuote.Join(["env", "-i", .. EnvArgs(), program, .. args]);
        return _s.Exec("runuser", ["-u", Name, "--", "script", "-qec", command, "/dev/null"], stdin: input, cwd: Work);
    }

    IEnumerable<string> EnvArgs()
    {
        yield return "PATH=/usr/local/bin:/usr/bin:/bin";
        yield return $"HOME={Home}";
        yield return $"USER={Name}";
        yield return $"LOGNAME={Name}";
        yield return "LANG=C.UTF-8";
        yield return $"KSLURM_SITE_CONFIG={Path.Combine(Home, "site-config.toml")}";
        foreach (var (k, v) in Env)
            yield return $"{k}={v}";
    }

    public void Dispose()
    {
        try { Directory.Delete(Home, recursive: true); } catch { /* best effort */ }
        _s.Dispose();
    }
}
