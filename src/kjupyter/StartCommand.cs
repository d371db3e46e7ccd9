using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Jupyter;
using Kslurm.Processes;
using Kslurm.Slurm;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kjupyter [RESOURCES] [--venv NAME] [--lab|--notebook|--server]`: submit a batch job running
/// `kjupyter _serve` (the job id is known at once), wait until the server answers, print how to
/// reach it, then stay until Ctrl-C or the job ends. The token travels in the environment of
/// sbatch (exported to the job), never on a command line.
/// </summary>
static class StartCommand
{
    public static int Run(string[] argv)
    {
        if (JobTool.Start("kjupyter", argv, () => KjupyterMain.Help, switches: ["--lab", "--notebook", "--server", "-d", "--detach", "--debug"]) is not { } job)
            return 0;
        var (req, settings, templates) = job;
        if (req.Command.Count > 0)
            throw new UsageException($"unexpected '{req.Command[0]}': kjupyter runs Jupyter, not a command",
                "give resources and options only, e.g. kjupyter 4 2:00 16G --venv myenv");
        // How long a started job may take to answer (a venv to unpack, a slow filesystem).
        var timeout = int.TryParse(Environment.GetEnvironmentVariable("KSLURM_JUPYTER_TIMEOUT"), out var t) && t > 0 ? t : 300;
        if (req.Switches.Where(s => s is "--lab" or "--notebook" or "--server").Distinct().Count() > 1)
            throw new UsageException("--lab, --notebook and --server exclude each other");
        var spec = JobSpec.Resolve(req, settings, templates);
        var (loginHost, loginUser) = (LoginHost(settings), LoginUser(settings));
        Directory.CreateDirectory(JupyterSession.Dir);

        var self = Paths.Sibling("kjupyter", "kjupyter");
        List<string> serve = [self, "_serve", .. req.Switches.Where(s => s is "--lab" or "--notebook" or "--server").Distinct()];
        if (req.Venv is not null)
            serve = new VenvStore(settings, Node.Current, "kjupyter").JobCommand(req.Venv, serve, !req.NoModules);
        var script = BatchScript.ForCommand("kjupyter", serve);
        List<string> sbatch = ["sbatch", "--parsable", .. spec.SlurmOptions];
        if (!req.SlurmOptionsSet(SlurmOptions.Slot.JobName))
            sbatch.Add("--job-name=jupyter");
        sbatch.Add($"--output={Path.Combine(JupyterSession.Dir, "%j.log")}");
        if (req.Test)
        {
            var plan = new JobPlan("kjupyter", [.. sbatch, "<script>"], script, spec, []);
            Console.Write(req.Json ? plan.ToJson() : plan.CommandLine + "\n<script>:\n" + script);
            return 0;
        }

        JupyterSession.Prune();
        var file = Path.Combine(JupyterSession.Dir, $"pending-{Environment.ProcessId}.sh");
        AtomicFile.WriteAllText(file, script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.SetCurrentDirectory(spec.Cwd);
        string jobId;
        try
        {
            jobId = Sbatch.Submit([.. sbatch, file], spec, new Dictionary<string, string?>
            {
                ["KSLURM_JUPYTER_TOKEN"] = JupyterSession.NewToken(),
                ["KSLURM_JUPYTER_LOGIN"] = loginHost,
                ["KSLURM_JUPYTER_LOGIN_USER"] = loginUser,
            });
        }
        finally
        {
            AtomicFile.TryDelete(file);
        }
        Output.Note("kjupyter", $"submitted job {jobId}; waiting for Jupyter to answer (Ctrl-C cancels)");
        return Follow(jobId, timeout, req.Switches.Contains("-d") || req.Switches.Contains("--detach"),
            req.Switches.Contains("--debug") ? new LogEcho(JupyterSession.LogPath(jobId)) : null);
    }

    /// <summary>
    /// The name users reach the login node by, for the ssh line: a login node's own name (login1)
    /// is often not it (cluster.example.org). The setting (site file, user file over it) first,
    /// then KSLURM_LOGIN_HOST, then hostname -f (inside a job: the host it was submitted from).
    /// </summary>
    static string LoginHost(Settings settings)
    {
        if (settings.Get("jupyter.login_host") is { Length: > 0 } configured)
            return SshName(configured, "setting jupyter.login_host");
        if (Environment.GetEnvironmentVariable("KSLURM_LOGIN_HOST") is { Length: > 0 } h)
            return SshName(h, "KSLURM_LOGIN_HOST");
        // started from a job (a krun session): this machine is a compute node, not where ssh lands
        if (Node.Current.InJob && Environment.GetEnvironmentVariable("SLURM_SUBMIT_HOST") is { Length: > 0 } submit)
            return SshName(submit, "SLURM_SUBMIT_HOST");
        try
        {
            var r = ChildProcess.Capture(["hostname", "-f"]);
            if (r.Ok && r.Stdout.Trim().Length > 0)
                return r.Stdout.Trim();
        }
        catch (KslurmException) { }
        return Environment.MachineName;
    }

    /// <summary>The user name for the ssh line, in the same order (e.g. a site reached through a gateway with its own accounts).</summary>
    static string LoginUser(Settings settings)
        => settings.Get("jupyter.login_user") is { Length: > 0 } configured
            ? SshName(configured, "setting jupyter.login_user")
         : Environment.GetEnvironmentVariable("KSLURM_LOGIN_USER") is { Length: > 0 } u ? SshName(u, "KSLURM_LOGIN_USER")
         : Environment.UserName;

    /// <summary>A name for the printed ssh line, which people paste into a shell: nothing it would split or expand.</summary>
    static string SshName(string value, string from)
        => value.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') ? value
         : throw new KslurmException($"{from}: '{value}' is not a host or user name",
             "use only letters, digits, '.', '-' and '_': people paste this line into a shell");

    static int Follow(string jobId, int timeoutSeconds, bool detach, LogEcho? echo)
    {
        // Ctrl-C, SIGTERM, or SIGHUP when the terminal went away (ssh dropped): a foreground
        // session ends with it and cancels its job, as srun's would
        using var signals = Interrupt.Watch();
        var cancel = Interrupt.Token;
        DateTime? runningSince = null;
        var submitted = DateTime.UtcNow;
        string? queueNote = null; // what was said about the queue, said again only when it changes
        var queueChecked = DateTime.MinValue;
        var delay = 300; // ms; grows while the job waits in the queue, to spare slurmctld
        JupyterSession? session = null;
        while (session is null)
        {
            if (cancel.IsCancellationRequested)
                return Stop(jobId, "cancelled");
            echo?.Pump();
            session = JupyterSession.Read(jobId);
            if (session is not null)
                break;
            var state = JobState(jobId);
            // Ctrl-C reaches scontrol too (same process group): its failure is not the job's end
            if (cancel.IsCancellationRequested)
                return Stop(jobId, "cancelled");
            if (state is "RUNNING")
                runningSince ??= DateTime.UtcNow;
            else if (state is "PENDING" && DateTime.UtcNow - submitted > TimeSpan.FromSeconds(3) && DateTime.UtcNow - queueChecked > TimeSpan.FromSeconds(30))
            {
                queueNote = NoteQueue(jobId, queueNote); // a long wait is Slurm's queue, and says so
                queueChecked = DateTime.UtcNow;
            }
            else if (state is not ("PENDING" or "CONFIGURING" or "REQUEUED" or "RESIZING" or "SUSPENDED"))
                throw Failed(jobId, $"job {jobId} ended ({state}) before Jupyter answered");
            if (runningSince is { } since && DateTime.UtcNow - since > TimeSpan.FromSeconds(timeoutSeconds))
            {
                SessionCommands.Cancel(jobId);
                throw Failed(jobId, $"Jupyter did not answer within {timeoutSeconds} s of job {jobId} starting; the job is cancelled");
            }
            delay = state is "PENDING" ? Math.Min(delay * 3 / 2, 5000) : 300;
            cancel.WaitHandle.WaitOne(delay);
        }
        echo?.Pump();
        Console.Out.Write(Describe(session));
        Console.Out.Flush();
        if (detach)
            return 0;
        while (!cancel.IsCancellationRequested)
        {
            var state = JobState(jobId);
            if (cancel.IsCancellationRequested)
                break;
            if (state is not ("RUNNING" or "COMPLETING"))
            {
                JupyterSession.Forget(jobId);
                Output.Note("kjupyter", $"job {jobId} has ended");
                return 0;
            }
            echo?.Pump();
            cancel.WaitHandle.WaitOne(echo is null ? 2000 : 500);
        }
        return Stop(jobId, "stopped");
    }

    static string? NoteQueue(string jobId, string? said)
    {
        var reason = SlurmJobs.Show(jobId)?.GetValueOrDefault("Reason") is { Length: > 0 } r && r != "None" ? r : "queued";
        var start = SlurmJobs.EstimatedStart(jobId);
        var note = $"job {jobId} is pending ({reason})" + (start is { } t ? $"; Slurm expects it to start at {t:yyyy-MM-dd HH:mm}" : "");
        if (note != said)
            Output.Note("kjupyter", note);
        return note;
    }

    /// <summary>The job's state; GONE only when Slurm says so twice (one failed scontrol is not enough).</summary>
    static string JobState(string jobId)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (SlurmJobs.Show(jobId)?.GetValueOrDefault("JobState") is { Length: > 0 } state)
                return state;
            if (attempt == 1)
                return "GONE";
            Thread.Sleep(500);
        }
    }

    static int Stop(string jobId, string what)
    {
        SessionCommands.Cancel(jobId);
        try
        {
            Output.Note("kjupyter", $"{what}: job {jobId} is cancelled");
        }
        catch (IOException) { } // no terminal left to tell
        return 130;
    }

    static KslurmException Failed(string jobId, string message)
    {
        var tail = JupyterSession.LogTail(jobId, 15);
        if (tail.Length > 0)
            Console.Error.WriteLine($"--- last lines of {JupyterSession.LogPath(jobId)}\n{tail}\n---");
        return new KslurmException(message, $"the whole log: {JupyterSession.LogPath(jobId)}");
    }

    internal static string Describe(JupyterSession s) => $"""
        {JupyterFrontend.NameOf(s.App)} is running in job {s.JobId} on {s.Node}, port {s.Port}.
          on your computer:  {s.Tunnel}
                             then open {s.LocalUrl}
          on the cluster:    {s.NodeUrl}
          stop it:           Ctrl-C here, or kjupyter stop {s.JobId}

        """;
}

/// <summary>--debug: the job's log (Jupyter's own output) copied to stderr as it grows, whole lines only.</summary>
sealed class LogEcho(string path)
{
    long _offset;

    public void Pump()
    {
        try
        {
            using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var buffer = new byte[64 * 1024];
            while (true)
            {
                f.Seek(_offset, SeekOrigin.Begin);
                var n = f.Read(buffer, 0, buffer.Length);
                var end = Array.LastIndexOf(buffer, (byte)'\n', Math.Max(n - 1, 0), n);
                if (n == 0 || end < 0)
                    return;
                using var err = Console.OpenStandardError();
                err.Write(buffer, 0, end + 1);
                _offset += end + 1;
            }
        }
        catch (IOException) { } // not there yet (the job has not started), or gone
        catch (UnauthorizedAccessException) { }
    }
}
