using System.Diagnostics;
using System.Text.RegularExpressions;
using Kslurm.Shell;

namespace Kslurm.Tests.Krun;

/// <summary>
/// Jobs that span nodes, on the multi-node cluster (tests/cluster/multinode.sh: a login node that
/// runs no jobs, node1-3 with their own /tmp and scratch): krun's, and with them kbatch's, kpy's
/// --all-nodes and kjupyter's from a node, since the point is the same in all (what lands on
/// which node). They need that cluster: with KSLURM_TEST_CLUSTER=onenode, leave them out with
/// --filter "cluster!=multinode".
/// </summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
[Trait("cluster", "multinode")]
public class MultiNodeTests
{
    public MultiNodeTests()
    {
        if (!Cluster.MultiNode)
            throw new InvalidOperationException("these tests need the multi-node cluster; with KSLURM_TEST_CLUSTER=onenode run with --filter \"cluster!=multinode\"");
    }

    /// <summary>Lines "node rank prefix tmp" printed by the job's tasks, one per task.</summary>
    const string WhereAmI = "echo \"@ $(hostname) ${SLURM_PROCID:-b} $(python -c 'import sys; print(sys.prefix)') $SLURM_TMPDIR $(ls \"$SLURM_TMPDIR/kpy\" | paste -sd,)\"";

    static List<string[]> Tasks(string output)
        => output.Split('\n').Where(l => l.StartsWith("@ ", StringComparison.Ordinal)).Select(l => l.Split(' ')[1..]).ToList();

    /// <summary>The same path on the login node: no job scratch, no loaded venv there.</summary>
    static void NothingOnTheLogin(string scratch)
    {
        Assert.False(Directory.Exists(scratch), $"{scratch} exists on the login node");
        var root = Path.GetDirectoryName(scratch)!;
        Assert.Empty(Directory.Exists(root) ? Directory.EnumerateFileSystemEntries(root) : []);
    }

    [Fact]
    public void Krun_on_two_nodes_loads_the_venv_once_per_node_and_every_task_runs_in_it()
    {
        using var u = Kslurm.Tests.Kpy.KpyClusterTests.WithSavedDemo("wide");
        var r = u.Tool("krun", "-N", "2", "--ntasks-per-node=2", "--venv", "wide", "0:05", "sh", "-c", WhereAmI + "; kslurm-demo | head -n 1");
        Expect.Ok(r);
        var tasks = Tasks(r.Stdout);
        Assert.Equal(4, tasks.Count);
        Assert.Equal(2, tasks.Select(t => t[0]).Distinct().Count());
        Assert.All(tasks, t => Assert.Contains(t[0], Cluster.Nodes));
        // every task: the venv from its own node's scratch, the only one there
        Assert.All(tasks, t => Assert.Equal($"{t[3]}/kpy/wide", t[2]));
        Assert.All(tasks, t => Assert.Equal("wide", t[4]));
        Assert.Equal(4, Regex.Matches(r.Stdout, @"prefix=/\S+/kpy/wide\n").Count);
        // once per node: two tasks of a node share one copy (a per-node lock), two unpackings in all
        Assert.Equal(2, Regex.Matches(r.Stderr, "kpy: unpacking wide").Count);
        NothingOnTheLogin(tasks[0][3]);
    }

    [Fact]
    public void Kbatch_on_three_nodes_stages_the_venv_on_each_and_srun_tasks_run_in_it()
    {
        using var u = Kslurm.Tests.Kpy.KpyClusterTests.WithSavedDemo("wider");
        var script = Path.Combine(u.Work, "job.sh");
        File.WriteAllText(script, $"#!/bin/bash\n#SBATCH --ntasks-per-node=1\nsrun sh -c {ShellQuote.Quote(WhereAmI)}\nsrun kslurm-demo | sort | uniq -c\n");
        new Sandbox().Exec("chown", [$"{u.Name}:", script]);
        var r = u.Tool("kbatch", "-N", "3", "--venv", "wider", "0:05", "--wait", "job.sh");
        Expect.Ok(r);
        var output = File.ReadAllText(Path.Combine(u.Work, $"slurm-{r.Stdout.Trim()}.out"));
        var tasks = Tasks(output);
        Assert.Equal(3, tasks.Count);
        Assert.Equal(Cluster.Nodes.Order(), tasks.Select(t => t[0]).Order());
        Assert.All(tasks, t => Assert.Equal($"{t[3]}/kpy/wider", t[2]));
        Assert.All(tasks, t => Assert.Equal("wider", t[4]));
        Assert.Matches(@"\s3 prefix=/\S+/kpy/wider\n", output); // the venv's entry point on all three
        Assert.Contains("kpy: loading wider onto the 3 nodes of job", output);
        Assert.Equal(3, Regex.Matches(output, "kpy: unpacking wider").Count);
        NothingOnTheLogin(tasks[0][3]);
    }

    [Fact]
    public void Kpy_load_all_nodes_stages_in_parallel_and_fails_if_one_node_fails()
    {
        using var u = Kslurm.Tests.Kpy.KpyClusterTests.WithSavedDemo("staged");
        var kpy = Cluster.Tool("kpy");
        // a batch script staging by hand, then tasks on both nodes using the active venv
        var ok = u.Tool("kbatch", "-N", "2", "0:05", "--wait", "bash", "-c", $"""
            eval "$({kpy} init bash)"
            kpy load staged --all-nodes || exit 9
            srun --ntasks-per-node=1 sh -c 'echo "@ $(hostname) $VIRTUAL_ENV $(ls "$SLURM_TMPDIR/kpy")"; "$VIRTUAL_ENV/bin/python" -c "import kslurmdemo"'
            """);
        Expect.Ok(ok);
        var output = File.ReadAllText(Path.Combine(u.Work, $"slurm-{ok.Stdout.Trim()}.out"));
        var tasks = Tasks(output);
        Assert.Equal(2, tasks.Select(t => t[0]).Distinct().Count());
        Assert.All(tasks, t => Assert.Matches(@"^/\S+/kpy/staged$", t[1]));
        Assert.Contains("kpy: loading staged onto the 2 nodes of job", output);

        // the second node's scratch refuses the venv: the load fails as a whole, the first node keeps its copy
        var bad = u.Tool("kbatch", "-N", "2", "0:05", "--wait", "bash", "-c", $"""
            srun -N1 -n1 --relative=1 sh -c 'mkdir -p "$SLURM_TMPDIR/kpy" && chmod 500 "$SLURM_TMPDIR/kpy"'
            {kpy} load staged --all-nodes </dev/null; echo "rc=$?"
            srun --ntasks-per-node=1 sh -c 'echo "@ $(hostname) $(ls "$SLURM_TMPDIR/kpy" | paste -sd,)"'
            """);
        Expect.Ok(bad);
        output = File.ReadAllText(Path.Combine(u.Work, $"slurm-{bad.Stdout.Trim()}.out"));
        Assert.Contains("rc=1\n", output);
        Assert.Matches(@"kpy: error: loading staged failed on at least one of the 2 nodes of job \d+\n", output);
        Assert.Matches(@"srun: error: node\d: task 1: Exited with exit code 1", output);
        tasks = Tasks(output).OrderBy(t => t[0], StringComparer.Ordinal).ToList(); // --relative=1: the second node
        Assert.Equal(["staged", ""], tasks.Select(t => t.Length > 1 ? t[1] : "").ToArray());

        // outside a job there are no nodes to stage onto
        Expect.Error(u.Tool("kpy", "load", "staged", "--all-nodes"), "kpy", 1, "--all-nodes loads onto the nodes of a job");
    }

    [Fact]
    public void Kbatch_array_with_a_venv_runs_each_task_in_it_on_its_node()
    {
        using var u = Kslurm.Tests.Kpy.KpyClusterTests.WithSavedDemo("arr");
        // two CPUs each: a node holds one task, so the three tasks take three nodes
        var r = u.Tool("kbatch", "--array=0-2", "2", "--venv", "arr", "0:05", "--wait", "sh", "-c", WhereAmI);
        Expect.Ok(r);
        var id = r.Stdout.Trim();
        var tasks = Enumerable.Range(0, 3).SelectMany(i => Tasks(File.ReadAllText(Path.Combine(u.Work, $"slurm-{id}_{i}.out")))).ToList();
        Assert.Equal(3, tasks.Count);
        Assert.Equal(3, tasks.Select(t => t[0]).Distinct().Count());
        Assert.All(tasks, t => Assert.Equal($"{t[3]}/kpy/arr", t[2]));
    }

    [Fact]
    public void Kbatch_wait_on_a_multi_node_job_returns_its_exit_code()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kbatch", "-N", "3", "0:05", "--wait", "bash", "-c", "srun -N3 --ntasks-per-node=1 hostname | sort | paste -sd, ; exit 4");
        Assert.Equal(4, r.Code);
        Assert.Contains("FAILED, exit code 4", r.Stderr);
        Assert.Equal("node1,node2,node3\n", File.ReadAllText(Path.Combine(u.Work, $"slurm-{r.Stdout.Trim()}.out")));
        Assert.Equal(0, u.Tool("kbatch", "-N", "2", "0:05", "--wait", "srun", "true").Code);
    }

    [Fact]
    public void Krun_without_a_command_gives_a_shell_on_a_compute_node()
    {
        using var u = new ClusterUser();
        // the shell is Slurm's interactive step, which holds the job's CPUs: a step from it needs --overlap
        // (and no stdin: srun would read the lines typed after it)
        var r = u.Tty("echo \"ON=$(hostname) NODES=$SLURM_JOB_NODELIST\"\nsrun --overlap hostname </dev/null | sort | paste -sd, -\nexit\n", Cluster.Tool("krun"), "-N", "2", "0:05");
        Expect.Ok(r);
        var on = Regex.Match(r.Stdout, @"ON=([\w-]+) NODES=(\S+)"); // not the echo of the typed line
        Assert.True(on.Success, r.ToString());
        Assert.Contains(on.Groups[1].Value, Cluster.Nodes); // not the login node
        Assert.Matches(@"node\d,node\d\r?\n", r.Stdout);
    }

    [Fact]
    public async Task Ctrl_c_of_a_two_node_krun_ends_every_task()
    {
        using var u = new ClusterUser();
        var marker = $"kslurm-mn-{Guid.NewGuid():N}"[..20];
        var pids = Path.Combine(u.Work, "pids");
        Directory.CreateDirectory(pids);
        new Sandbox().Exec("chown", [$"{u.Name}:", pids]);
        var psi = new ProcessStartInfo("setsid", ["runuser", "-u", u.Name, "--", .. u.CleanEnv(),
            Cluster.Tool("krun"), "-N", "2", "--ntasks-per-node=1", "0:05", "--job-name", marker, "sh", "-c", $"echo $$ > {pids}/$(hostname); exec sleep 300"])
        { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = u.Work };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEndAsync();
        for (var i = 0; i < 150 && Directory.GetFiles(pids).Length < 2; i++)
            Thread.Sleep(200);
        var started = Directory.GetFiles(pids).ToDictionary(f => Path.GetFileName(f), f => int.Parse(File.ReadAllText(f).Trim()));
        Assert.Equal(2, started.Count);
        var job = new Sandbox().Exec("squeue", ["-h", "-n", marker, "-o", "%i"]).Stdout.Trim();
        Assert.NotEqual("", job);
        new Sandbox().Exec("kill", ["-s", "INT", "--", $"-{p.Id}"]);
        Assert.True(p.WaitForExit(30_000), "krun did not end after Ctrl-C");
        Assert.NotEqual(0, p.ExitCode);
        Cluster.WaitJob(job, 30);
        // the nodes share this machine's process table: each task's process is gone
        foreach (var (node, pid) in started)
        {
            for (var i = 0; i < 50 && Directory.Exists($"/proc/{pid}"); i++)
                Thread.Sleep(200);
            Assert.False(Directory.Exists($"/proc/{pid}"), $"the task on {node} (pid {pid}) still runs");
        }
        Assert.DoesNotContain("Unhandled", await err);
    }

    [Fact]
    public void Kjupyter_started_from_a_job_on_a_node_names_the_login_node_in_its_ssh_line()
    {
        using var u = new ClusterUser();
        var r = u.Tool("krun", "0:10", Cluster.Tool("kjupyter"), "0:10", "1", "1G", "--detach");
        Expect.Ok(r);
        var m = Regex.Match(r.Stdout, @"running in job (\d+) on ([\w-]+)");
        Assert.True(m.Success, r.ToString());
        try
        {
            var node = Cluster.NodeOf(m.Groups[1].Value);
            Assert.Equal(node, m.Groups[2].Value);
            // the tunnel goes through the login node (where the session was submitted from), not the node kjupyter ran on
            Assert.Matches($@"ssh -N -L (\d+):{node}:\1 {u.Name}@{Regex.Escape(Cluster.ShortHostname())}\n", r.Stdout);
            // kjupyter shell lands on the server's node
            Assert.Equal(node + "\n", u.Tool("kjupyter", "shell", m.Groups[1].Value, "--", "hostname").Stdout);
        }
        finally
        {
            Expect.Ok(u.Tool("kjupyter", "stop", m.Groups[1].Value));
        }
        Assert.Equal("", new Sandbox().Exec("squeue", ["-h", "-j", m.Groups[1].Value]).Stdout.Trim());
    }
}
