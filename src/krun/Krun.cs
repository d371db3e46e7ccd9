using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Processes;
using Kslurm.Slurm;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// krun: an interactive allocation (no command), or a command run on a compute node with srun.
/// Inside an existing allocation the command becomes a job step of it.
/// </summary>
static class Krun
{
    public static int Run(string[] argv)
    {
        if (JobTool.Start("krun", argv, () => Help) is not { } job)
            return 0;
        var (req, settings, templates) = job;
        JobCommand.CheckCommand("krun", req);

        var node = Node.Current;
        var step = req.Command.Count > 0 && node.InJob;
        // A job step takes only what was asked for: the allocation already has an account and time.
        var spec = JobSpec.Resolve(req, settings, templates, withDefaults: !step, withAccount: !step);
        var interactive = req.Command.Count == 0;
        var pty = !interactive && !Console.IsInputRedirected && !Console.IsOutputRedirected && !AsksForTasks(req);

        List<string> launch = interactive ? ["salloc"] : ["srun"];
        if (!interactive)
            launch.Add(pty ? "--pty" : "--quit-on-interrupt");
        if (step && !AsksForTasks(req))
            launch.Add("--ntasks=1"); // in an allocation srun would start one task per allocated CPU group
        // srun's own `--`: a command starting with a dash (krun -- --foo) is the command, not an srun option
        List<string> tail = interactive ? [] : ["--", .. req.Command];
        if (req.Venv is not null)
        {
            // An interactive session with a venv: a shell in a job step, inside the loaded venv.
            var shell = Environment.GetEnvironmentVariable("SHELL") is { Length: > 0 } sh ? sh : "/bin/bash";
            var venvs = new VenvStore(settings, node, "krun");
            tail = interactive
                ? ["srun", "--pty", .. venvs.JobCommand(req.Venv, [shell], !req.NoModules, allNodes: true)]
                : ["--", .. venvs.JobCommand(req.Venv, req.Command, !req.NoModules)];
        }
        var plan = new JobPlan("krun", [.. launch, .. spec.SlurmOptions, .. tail], null, spec, req.Command);

        if (req.Test)
        {
            Console.Write(req.Json ? plan.ToJson() : plan.CommandLine + "\n");
            return 0;
        }
        if (interactive && node.InJob)
            Output.Note("krun", $"note: already inside job {node.JobId}; this asks Slurm for a new allocation");
        if (Output.StderrColor)
            Console.Error.WriteLine(Output.Dim($"krun: {plan.CommandLine}", true));

        Directory.SetCurrentDirectory(spec.Cwd);
        if (interactive || pty)
        {
            // salloc's interactive step starts $SHELL on the node; without one it has nothing to run
            var env = interactive && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("SHELL"))
                ? new Dictionary<string, string?> { ["SHELL"] = "/bin/bash" } : null;
            return ChildProcess.Exec(plan.Argv, env); // the terminal belongs to the job from here on
        }
        var (code, slurmErrors) = ChildProcess.RunTeeStderr(plan.Argv);
        if (code != 0 && SlurmErrors.AccountHint(slurmErrors, spec) is { } hint)
            Output.Note("krun", "hint: " + hint);
        return code;
    }

    static bool AsksForTasks(JobRequest req)
        => req.SlurmOptions.Any(o => o[0] is "-n" or "--ntasks" || o[0].StartsWith("--ntasks", StringComparison.Ordinal) || o[0].StartsWith("-n", StringComparison.Ordinal));

    static string Help => $"""
        krun {BuildInfo.Version}: run on a compute node

        usage: krun [RESOURCES...] [COMMAND [ARGS...]]

          krun 4 3:00 15G gpu python train.py   run a command in a new job; krun exits with its code
          krun 2 1:00                           interactive shell in a new allocation
          krun -j Regular ./project snakemake   template, and run from ./project

        Without a command, krun opens an interactive allocation (salloc). With one, srun runs it
        and Ctrl-C cancels it. Inside an existing allocation, the command runs as a job step of it.

        {GrammarHelp.Resources}
        """;
}
