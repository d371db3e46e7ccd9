using Kslurm.Shell;

namespace Kslurm.Tests;

/// <summary>Tests that submit jobs share one small node: they run one at a time.</summary>
[CollectionDefinition("slurm")]
public sealed class SlurmCollection;

/// <summary>
/// The real Slurm cluster the tests drive. By default the multi-node one of
/// tests/cluster/multinode.sh: a login node that runs no jobs and compute nodes node1-3, each
/// with its own /tmp and scratch, reached through SLURM_CONF. With KSLURM_TEST_CLUSTER=onenode,
/// the one-node cluster of tests/cluster/slurm.sh (/etc/slurm). make test starts the chosen one
/// when run as root. Commands run as its unprivileged users with a clean environment, from a
/// folder every node sees, as on a cluster.
/// </summary>
public static class Cluster
{
    public const string User = "slurmtest";      // accounts def-lab (default), rrg-lab, def-lab_gpu
    public const string SoloUser = "slurmsolo";  // account rrg-lab only

    static readonly Lazy<string> BinDir = new(CopyBinaries);

    /// <summary>True on the multi-node cluster (the default), false on the one-node one.</summary>
    public static bool MultiNode { get; } = Environment.GetEnvironmentVariable("KSLURM_TEST_CLUSTER") switch
    {
        null or "" or "multinode" => true,
        "onenode" => false,
        var other => throw new InvalidOperationException($"KSLURM_TEST_CLUSTER must be multinode or onenode, not '{other}'"),
    };

    static string MultiNodeDir => Environment.GetEnvironmentVariable("KSLURM_MN_DIR") is { Length: > 0 } d ? d : "/var/tmp/kslurm-multinode";

    /// <summary>The SLURM_CONF every Slurm command of the tests gets (null: Slurm's default, /etc/slurm).</summary>
    public static string? SlurmConf => MultiNode ? Path.Combine(MultiNodeDir, "etc", "slurm.conf") : null;

    /// <summary>
    /// Where test users' homes and binaries go: a folder every compute node sees (each node's /tmp
    /// is its own), like a cluster's /home or /project.
    /// </summary>
    public static string Shared => MultiNode ? Path.Combine(MultiNodeDir, "project") : "/tmp";

    /// <summary>The compute nodes; the login node (this machine) is one of them only on the one-node cluster.</summary>
    public static IReadOnlyList<string> Nodes => MultiNode ? ["node1", "node2", "node3"] : [ShortHostname()];

    /// <summary>The root shell `multinode.sh exec NODE` gives: runs a command inside a node, outside Slurm.</summary>
    public static Result OnNode(string node, params string[] command)
    {
        using var s = new Sandbox();
        return MultiNode
            ? s.Exec("bash", [Path.Combine(Repo.Root, "tests", "cluster", "multinode.sh"), "exec", node, .. command], timeoutMs: 30_000)
            : s.Exec(command[0], command[1..], timeoutMs: 30_000);
    }

    /// <summary>Fails with the way out when the cluster is not running (never skips).</summary>
    public static void Require()
    {
        using var s = new Sandbox();
        Result r;
        try { r = s.Exec("sinfo", ["-h", "-o", "%T"], timeoutMs: 15_000); }
        catch (System.ComponentModel.Win32Exception) { r = new Result(127, "", "sinfo not found"); }
        var states = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (r.Code != 0 || states.Length == 0 || states.Any(state => state.StartsWith("down") || state.StartsWith("drain") || state.EndsWith('*')))
            throw new InvalidOperationException(MultiNode
                ? "the multi-node Slurm test cluster is not running: run `make test` as root, or `sudo bash tests/cluster/multinode.sh up` first (KSLURM_TEST_CLUSTER=onenode uses tests/cluster/slurm.sh)\n" + r
                : "the Slurm test cluster is not running: run `make test` as root, or `sudo bash tests/cluster/slurm.sh up` first\n" + r);
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

    /// <summary>The node a job's batch script runs on (BatchHost); on the multi-node cluster never this login node.</summary>
    public static string NodeOf(string jobId)
    {
        var node = System.Text.RegularExpressions.Regex.Match(ShowJob(jobId), @"\bBatchHost=(\S+)").Groups[1].Value;
        Assert.Contains(node, Nodes);
        return node;
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
        var dir = Path.Combine(Shared, $"kslurm-test-bin-{Environment.ProcessId}");
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        foreach (var t in Repo.Tools)
        {
            Repo.CopyExecutable(Repo.Tool(t), Path.Combine(dir, t));
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
        Home = Path.Combine(Cluster.Shared, $"kslurm-test-home-{user}-{Guid.NewGuid():N}");
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

    /// <summary>`env -i` and the user's clean environment, to start a tool by hand (a background
    /// process), with every signal at its default (see Repo.StartAtDefaultSignals).</summary>
    public string[] CleanEnv() => ["env", "--default-signal", "-i", .. EnvArgs()];

    IEnumerable<string> EnvArgs()
    {
        yield return "PATH=/usr/local/bin:/usr/bin:/bin";
        yield return $"HOME={Home}";
        yield return $"USER={Name}";
        yield return $"LOGNAME={Name}";
        yield return "LANG=C.UTF-8";
        yield return $"KSLURM_SITE_CONFIG={Path.Combine(Home, "site-config.toml")}";
        if (Cluster.SlurmConf is { } conf)
            yield return $"SLURM_CONF={conf}";
        foreach (var (k, v) in Env)
            yield return $"{k}={v}";
    }

    public void Dispose()
    {
        try { Directory.Delete(Home, recursive: true); } catch { /* best effort */ }
        _s.Dispose();
    }
}
