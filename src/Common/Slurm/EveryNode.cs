using Kslurm.Processes;

namespace Kslurm.Slurm;

/// <summary>
/// One copy of a command on each node of the current job, all at once: a job step of one task
/// per node (`srun --ntasks-per-node=1`). The step overlaps whatever already runs in the job (the
/// batch script, an interactive shell's step), so it never waits for resources the job holds.
/// </summary>
public static class EveryNode
{
    /// <summary>The number of nodes of the job we are in (SLURM_JOB_NUM_NODES), 1 when unknown.</summary>
    public static int Count(Func<string, string?> env)
        => int.TryParse(env("SLURM_JOB_NUM_NODES") ?? env("SLURM_NNODES"), out var n) && n > 0 ? n : 1;

    public static IReadOnlyList<string> Step(int nodes, IReadOnlyList<string> command) =>
        ["srun", "--overlap", $"--nodes={nodes}", $"--ntasks={nodes}", "--ntasks-per-node=1", "--cpus-per-task=1",
         "--kill-on-bad-exit=0", "--", .. command];

    /// <summary>
    /// Runs the step; its exit code is non-zero when any node's copy failed (srun names which).
    /// The tasks' stdout goes to our stderr: our stdout may be a result (kpy's shell function reads it).
    /// </summary>
    public static int Run(int nodes, IReadOnlyList<string> command) => ChildProcess.Run(Step(nodes, command), stdoutToStderr: true);
}
