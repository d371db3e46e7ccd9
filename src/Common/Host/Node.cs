namespace Kslurm.Host;

/// <summary>
/// Where we are running: a login node, or a compute node inside a Slurm job. Read once from the
/// environment; Slurm sets SLURM_JOB_ID (older releases SLURM_JOBID), and sites that provide
/// node-local scratch set SLURM_TMPDIR.
/// </summary>
public sealed class Node
{
    public Node(Func<string, string?> env)
    {
        JobId = NonEmpty(env("SLURM_JOB_ID")) ?? NonEmpty(env("SLURM_JOBID"));
        ScratchDir = NonEmpty(env("SLURM_TMPDIR"));
    }

    public static Node Current { get; } = new(Environment.GetEnvironmentVariable);

    /// <summary>The id of the job we are inside of, if any.</summary>
    public string? JobId { get; }

    /// <summary>Node-local scratch of the current job (SLURM_TMPDIR), if the site provides one.</summary>
    public string? ScratchDir { get; }

    public bool InJob => JobId is not null;

    /// <summary>A compute node is any place inside a job, or with a job scratch directory.</summary>
    public bool IsCompute => InJob || ScratchDir is not null;

    static string? NonEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
