using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Jupyter;
using Kslurm.Processes;

namespace Kslurm.Tools;

/// <summary>`kjupyter list | url | tunnel | log | stop`: sessions, from the login node or anywhere.</summary>
static class SessionCommands
{
    public static int List(string[] argv)
    {
        Args.Parse(argv, "usage: kjupyter list").NoMorePositionals(0, "usage: kjupyter list");
        var rows = new List<string[]> { new[] { "JOBID", "STATE", "NODE", "PORT", "APP", "STARTED" } };
        var queue = MyJobs();
        foreach (var id in JupyterSession.Known())
        {
            var state = queue.GetValueOrDefault(id, "ENDED");
            var s = JupyterSession.Read(id);
            if (s is null && state == "ENDED")
                continue; // an old log only
            if (s is not null && state == "ENDED")
                JupyterSession.Forget(id); // the job was killed before it could tidy up
            rows.Add([id, state, s?.Node ?? "-", s?.Port.ToString() ?? "-", s?.App ?? "-", s is null ? "-" : Format.Date(s.Started)]);
        }
        if (rows.Count == 1)
            Output.Note("kjupyter", "no Jupyter sessions (start one with: kjupyter [RESOURCES])");
        else
            Console.Write(Format.Table(rows));
        return 0;
    }

    /// <summary>kslurm's `url browser|server` words still work: browser (the default) is the tunnel's URL.</summary>
    public static int Url(string[] argv)
    {
        var which = argv.FirstOrDefault() is "browser" or "server" ? argv[0] : "browser";
        var rest = argv.FirstOrDefault() is "browser" or "server" ? argv[1..] : argv;
        return Print(rest, "url [browser|server]", s => which == "server" ? s.NodeUrl : s.LocalUrl);
    }

    public static int Tunnel(string[] argv) => Print(argv, "tunnel", s => s.Tunnel);

    static int Print(string[] argv, string what, Func<JupyterSession, string> pick)
    {
        var a = Args.Parse(argv, $"usage: kjupyter {what} [JOBID]");
        a.NoMorePositionals(1, $"usage: kjupyter {what} [JOBID]");
        var s = Session(JobArgument(a));
        Console.Out.Write(pick(s) + "\n");
        return 0;
    }

    /// <summary>
    /// `kjupyter shell [JOBID] [-- COMMAND...]`: a shell (or the command) on the server's node, as a
    /// step of its job sharing its resources (srun --overlap), in the session's venv if it has one.
    /// kslurm opened such a shell after start; here it can be opened any time, from any terminal.
    /// </summary>
    public static int Shell(string[] argv)
    {
        const string usage = "usage: kjupyter shell [JOBID] [-- COMMAND [ARGS...]]";
        var dash = Array.IndexOf(argv, "--");
        var mine = dash < 0 ? argv : argv[..dash];
        var command = dash < 0 ? [] : argv[(dash + 1)..];
        var a = Args.Parse(mine, usage);
        a.NoMorePositionals(1, usage);
        var s = Session(JobArgument(a));
        if (dash >= 0 && command.Length == 0)
            throw new UsageException("missing COMMAND after --", usage);
        string[] run = command.Length > 0 ? command
            : [Environment.GetEnvironmentVariable("SHELL") is { Length: > 0 } sh ? sh : "/bin/bash"];
        if (s.Venv is not null)
            run = [Paths.Sibling("kpy", "kjupyter"), "exec", s.Venv, "--", .. run];
        var terminal = command.Length == 0 && !Console.IsInputRedirected && !Console.IsOutputRedirected;
        // on the server's own node, named: in a job of several nodes, srun's first node need not be it
        List<string> srun = ["srun", $"--jobid={s.JobId}", "--overlap", "--nodes=1", "--ntasks=1", $"--nodelist={s.Node}"];
        if (terminal)
            srun.Add("--pty");
        return ChildProcess.Exec([.. srun, "--", .. run]); // `--`: a command starting with a dash is not srun's option
    }

    public static int Log(string[] argv)
    {
        const string usage = "usage: kjupyter log [JOBID] [-n N]";
        var a = Args.Parse(argv, usage, options: ["-n|--lines"]);
        a.NoMorePositionals(1, usage);
        var lines = a.Value("--lines") is { } n ? int.TryParse(n, out var v) && v > 0 ? v : throw new UsageException($"invalid line count '{n}'", usage) : 20;
        var id = JobArgument(a) ?? JupyterSession.Known().FirstOrDefault()
            ?? throw new KslurmException("no Jupyter sessions", "start one with: kjupyter [RESOURCES]");
        if (!File.Exists(JupyterSession.LogPath(id)))
            throw new KslurmException($"no log for job {id}", "see `kjupyter list`");
        Console.Out.Write(JupyterSession.LogTail(id, lines) + "\n");
        return 0;
    }

    public static int Stop(string[] argv)
    {
        var a = Args.Parse(argv, "usage: kjupyter stop [JOBID]");
        a.NoMorePositionals(1, "usage: kjupyter stop [JOBID]");
        var id = JobArgument(a) ?? Session(null).JobId;
        if (State(id) == "ENDED" && JupyterSession.Read(id) is null)
            throw new KslurmException($"job {id} is not a running Jupyter session", "see `kjupyter list`");
        Cancel(id);
        Output.Note("kjupyter", $"stopped job {id}");
        return 0;
    }

    /// <summary>scancel, wait (bounded) until the job has left, forget its record.</summary>
    public static void Cancel(string jobId)
    {
        var r = ChildProcess.Capture(["scancel", jobId]);
        if (!r.Ok && !r.Stderr.Contains("Invalid job id", StringComparison.Ordinal))
            throw new KslurmException($"scancel {jobId} failed: {r.Stderr.Trim().Split('\n')[^1]}", $"try again, or cancel it yourself: scancel {jobId}");
        var state = State(jobId);
        for (var i = 0; i < 100 && state != "ENDED"; i++)
        {
            Thread.Sleep(200);
            state = State(jobId);
        }
        if (state == "ENDED")
            JupyterSession.Forget(jobId); // kept while Slurm cannot tell: the record is how to find the job again
    }

    /// <summary>
    /// State of each of this user's jobs Slurm still lists, from one squeue call (not one per
    /// session: old logs pile up). A failing squeue is an error, never "everything ended".
    /// </summary>
    static Dictionary<string, string> MyJobs()
    {
        var r = ChildProcess.Capture(["squeue", "-h", "-u", Environment.UserName, "-o", "%i|%T"]);
        if (!r.Ok)
            throw new KslurmException($"squeue failed: {r.Stderr.Trim().Split('\n')[^1]}", "is Slurm reachable from here? try again in a moment");
        var jobs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            if (line.Split('|') is [var id, var state])
                jobs[id.Trim()] = state.Trim();
        return jobs;
    }

    static string State(string jobId)
    {
        var r = ChildProcess.Capture(["squeue", "-h", "-j", jobId, "-o", "%T"]);
        var s = r.Stdout.Trim();
        // squeue -j on a job Slurm has forgotten fails with "Invalid job id": that is an ending too
        return r.Ok ? s.Length > 0 ? s : "ENDED" : r.Stderr.Contains("Invalid job id", StringComparison.Ordinal) ? "ENDED" : "UNKNOWN";
    }

    /// <summary>The JOBID argument, if given: digits only (it also names files in the state folder).</summary>
    static string? JobArgument(Args a)
    {
        var id = a.Positionals.FirstOrDefault();
        if (id is not null && (id.Length == 0 || !id.All(char.IsAsciiDigit)))
            throw new UsageException($"invalid job id '{id}'", "give the number `kjupyter list` shows");
        return id;
    }

    /// <summary>The named session, or the newest live one.</summary>
    static JupyterSession Session(string? jobId)
    {
        if (jobId is not null)
            return JupyterSession.Read(jobId) ?? throw new KslurmException($"no Jupyter session in job {jobId}", "see `kjupyter list`");
        var queue = MyJobs();
        foreach (var id in JupyterSession.Known())
            if (queue.ContainsKey(id) && JupyterSession.Read(id) is { } s)
                return s;
        throw new KslurmException("no running Jupyter session", "start one with: kjupyter [RESOURCES]");
    }
}
