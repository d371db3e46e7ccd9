using System.Runtime.InteropServices;
using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Processes;
using Kslurm.Slurm;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// kbatch: submit a command (wrapped in a generated script) or a script file with sbatch.
/// Only the job id goes to stdout, so `id=$(kbatch ...)` works; the rest goes to stderr.
/// </summary>
static class Kbatch
{
    public static int Run(string[] argv)
    {
        if (JobTool.Start("kbatch", argv, () => Help, switches: ["--wait"]) is not { } job)
            return 0;
        var (req, settings, templates) = job;
        if (req.Command.Count == 0)
            throw new UsageException("missing command", "kbatch [RESOURCES] COMMAND [ARGS...], or kbatch [RESOURCES] job.sh [ARGS...]");

        var cwd = req.Directory ?? Environment.CurrentDirectory;
        var scriptPath = Path.Combine(cwd, req.Command[0]);
        var isScript = BatchScript.IsScript(scriptPath);
        if (!isScript)
            JobCommand.CheckCommand("kbatch", req);
        // A script's own #SBATCH lines stand unless the user typed something else; our defaults fill the gaps.
        var spec = JobSpec.Resolve(req, settings, templates, preset: isScript ? BatchScript.PresetSlots(scriptPath) : null);
        string? script = null;
        if (req.Venv is not null)
        {
            // The job runs `kpy exec NAME -- ...`; a script given by the user keeps its #SBATCH lines
            // by having them copied into the wrapper.
            var inner = isScript ? BatchScript.Invocation(scriptPath, req.Command.Skip(1)) : req.Command;
            script = BatchScript.ForCommand("kbatch", new VenvStore(settings, Node.Current, "kbatch").JobCommand(req.Venv, inner, !req.NoModules, allNodes: true),
                isScript ? BatchScript.Directives(scriptPath) : null);
            isScript = false;
        }
        else if (!isScript)
        {
            script = BatchScript.ForCommand("kbatch", req.Command);
        }

        var head = new List<string> { "sbatch", "--parsable" };
        head.AddRange(spec.SlurmOptions);
        if (req.Test)
        {
            List<string> shown = isScript ? [.. head, .. req.Command] : [.. head, "<script>"];
            var plan = new JobPlan("kbatch", shown, script, spec, req.Command);
            if (req.Json)
                Console.Write(plan.ToJson());
            else
                Console.Write(plan.CommandLine + "\n" + (script is null ? "" : "<script>:\n" + script));
            return 0;
        }

        string jobId;
        if (isScript)
        {
            jobId = Submit([.. head, Path.GetFullPath(scriptPath), .. req.Command.Skip(1)], cwd, spec);
        }
        else
        {
            var file = ScriptFile(script!);
            try
            {
                jobId = Submit([.. head, file], cwd, spec);
                Keep(file, jobId);
            }
            catch
            {
                AtomicFile.TryDelete(file);
                throw;
            }
        }
        Console.Out.Write(jobId + "\n");
        Console.Out.Flush();
        Report(jobId);
        return req.Switches.Contains("--wait") ? Wait(jobId) : 0;
    }

    static string Submit(List<string> argv, string cwd, JobSpec spec)
    {
        Directory.SetCurrentDirectory(cwd); // the job starts where it was submitted from
        return Sbatch.Submit(argv, spec);
    }

    /// <summary>Generated scripts live in the state folder (0600), so a user can see what ran.</summary>
    static string ScriptFile(string script)
    {
        var dir = Path.Combine(Paths.StateDir, "kbatch");
        Directory.CreateDirectory(dir);
        StaleFiles.Prune(dir, 30, name => name.EndsWith(".sh", StringComparison.Ordinal));
        var path = Path.Combine(dir, $"pending-{Environment.ProcessId}-{Random.Shared.Next():x8}.sh");
        AtomicFile.WriteAllText(path, script, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }

    static void Keep(string file, string jobId)
    {
        try { File.Move(file, Path.Combine(Path.GetDirectoryName(file)!, $"{jobId}.sh"), overwrite: true); }
        catch (IOException) { /* the job is submitted; keeping its script is a courtesy */ }
    }

    static void Report(string jobId)
    {
        var info = SlurmJobs.Show(jobId);
        var start = SlurmJobs.EstimatedStart(jobId);
        var e = Console.Error;
        e.WriteLine($"kbatch: submitted job {jobId}");
        var state = info?.GetValueOrDefault("JobState");
        if (state == "RUNNING")
            e.WriteLine($"  running on {info!.GetValueOrDefault("NodeList", "?")}");
        else if (start is { } s)
            e.WriteLine($"  estimated start: {When(s)}");
        else if (state is not null)
            e.WriteLine(info!.GetValueOrDefault("Reason") is { } why && why != "None" ? $"  state: {state} ({why})" : $"  state: {state}");
        if (info?.GetValueOrDefault("StdOut") is { Length: > 0 } output)
            e.WriteLine($"  output: {output}");
        e.WriteLine($"  cancel: scancel {jobId}");
    }

    static string When(DateTime start)
    {
        var wait = start - DateTime.Now;
        if (wait <= TimeSpan.FromSeconds(30))
            return "now";
        var rel = wait.TotalHours >= 24 ? $"{(int)wait.TotalDays}d {wait.Hours}h"
                : wait.TotalMinutes >= 60 ? $"{(int)wait.TotalHours}h {wait.Minutes}m"
                : $"{Math.Max(1, (int)Math.Round(wait.TotalMinutes))}m";
        return $"{start:ddd yyyy-MM-dd HH:mm} (in {rel})";
    }

    static int Wait(string jobId)
    {
        // Ctrl-C, or SIGTERM/SIGHUP (the session around us ended): stop waiting, leave the job be
        using var signals = Interrupt.Watch();
        try
        {
            var (state, code) = SlurmJobs.Wait(jobId, Interrupt.Token);
            Console.Error.WriteLine($"kbatch: job {jobId} {state}, exit code {code}");
            return code;
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"kbatch: stopped waiting; job {jobId} keeps going (cancel it with: scancel {jobId})");
            return 128 + Interrupt.Received;
        }
    }

    static string Help => $"""
        kbatch {BuildInfo.Version}: submit a batch job

        usage: kbatch [RESOURCES...] [--wait] COMMAND [ARGS...]
               kbatch [RESOURCES...] [--wait] job.sh [ARGS...]

          kbatch 2-00:00 8 32G snakemake --profile slurm
          kbatch -j Regular gpu ./run.sh input.csv     a script: its #SBATCH lines apply,
                                                       words typed here override them

        Prints the job id on stdout (id=$(kbatch ...) works); where it will run, its output file
        and how to cancel it go to stderr. --wait waits for the job and exits with its exit code.
        A command is wrapped in a script kept in {Paths.Pretty(Path.Combine(Paths.StateDir, "kbatch"))}/<jobid>.sh.

        {GrammarHelp.Resources}
        """;
}
