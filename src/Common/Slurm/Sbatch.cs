using Kslurm.Cli;
using Kslurm.Processes;

namespace Kslurm.Slurm;

/// <summary>Batch submission, shared by kbatch and kjupyter: one way to call sbatch and read its answer.</summary>
public static class Sbatch
{
    /// <summary>
    /// Runs `sbatch --parsable ...` (the caller's argv, from the current folder: the job starts
    /// there) and returns the job id. sbatch's warnings go on to stderr; a refusal is one error
    /// with a hint naming the setting involved; an answer that is not a job id is an error too.
    /// </summary>
    public static string Submit(IReadOnlyList<string> argv, JobSpec spec, IReadOnlyDictionary<string, string?>? env = null)
    {
        var r = ChildProcess.Capture(argv, env: env);
        if (r.Stderr.Length > 0 && r.Ok)
            Console.Error.Write(r.Stderr);
        if (!r.Ok)
        {
            var message = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {r.ExitCode}";
            throw new KslurmException($"sbatch refused the job: {message.Replace("sbatch: error: ", "")}",
                SlurmErrors.AccountHint(r.Stderr, spec) ?? "check the resources against the partition's limits (sinfo -s)");
        }
        // --parsable prints "id" or "id;cluster"
        var id = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault()?.Split(';')[0];
        if (string.IsNullOrEmpty(id) || !id.All(c => char.IsAsciiDigit(c) || c == '_'))
            throw new KslurmException($"sbatch did not print a job id (it printed '{r.Stdout.Trim()}')");
        return id;
    }
}
