namespace Kslurm.Slurm;

/// <summary>What kslurm must know about Slurm's own options to pass them through safely.</summary>
public static class SlurmOptions
{
    // Long options of sbatch/srun/salloc that take a value, so `--partition gpu` keeps `gpu` as the
    // partition instead of reading it as a GPU request. Options whose value is optional
    // (--exclusive, --nice, --x11, ...) are flags here; give their value with `=`.
    static readonly HashSet<string> LongWithValue = new(StringComparer.Ordinal)
    {
        "account", "acctg-freq", "array", "batch", "bb", "bbf", "begin", "bcast", "chdir", "cluster-constraint",
        "clusters", "comment", "constraint", "container", "core-spec", "cores-per-socket", "cpu-bind", "cpu-freq",
        "cpus-per-gpu", "cpus-per-task", "deadline", "delay-boot", "dependency", "distribution", "epilog", "error",
        "exclude", "export", "export-file", "extra-node-info", "gid", "gpu-bind", "gpu-freq", "gpus", "gpus-per-node",
        "gpus-per-socket", "gpus-per-task", "gres", "gres-flags", "het-group", "hint", "input", "job-name", "jobid",
        "licenses", "mail-type", "mail-user", "mcs-label", "mem", "mem-bind", "mem-per-cpu", "mem-per-gpu", "mincpus",
        "mpi", "network", "nodefile", "nodelist", "nodes", "ntasks", "ntasks-per-core", "ntasks-per-gpu",
        "ntasks-per-node", "ntasks-per-socket", "open-mode", "output", "partition", "power", "prefer", "priority",
        "profile", "prolog", "qos", "reservation", "relative", "signal", "slurmd-debug", "sockets-per-node",
        "switches", "task-epilog", "task-prolog", "thread-spec", "threads-per-core", "time", "time-min", "tmp",
        "uid", "wckey",
    };

    // Short options that take a value. -a, -j, -J, -l and -t are kslurm's own and never reach here.
    static readonly HashSet<char> ShortWithValue = ['A', 'b', 'B', 'c', 'C', 'd', 'D', 'e', 'F', 'G', 'i', 'L', 'm', 'M', 'n', 'N', 'o', 'p', 'q', 'S', 'w', 'x'];

    /// <summary>True when the option token needs the next token as its value.</summary>
    public static bool TakesSeparateValue(string token)
    {
        if (token.StartsWith("--", StringComparison.Ordinal))
            return !token.Contains('=') && LongWithValue.Contains(token[2..]);
        return token.Length == 2 && token[0] == '-' && ShortWithValue.Contains(token[1]);
    }

    /// <summary>
    /// The resource a pass-through option sets, so the default kslurm would add for it is left out
    /// (and the user's value is the only one Slurm sees).
    /// </summary>
    public static Slot SlotOf(string token)
    {
        var name = token.StartsWith("--", StringComparison.Ordinal)
            ? token[2..].Split('=')[0]
            : token.Length >= 2 ? token[..2] : token;
        return name switch
        {
            "time" => Slot.Time,
            "cpus-per-task" or "-c" => Slot.Cpus,
            "mem" or "mem-per-cpu" or "mem-per-gpu" => Slot.Memory,
            "account" or "-A" => Slot.Account,
            "gres" or "gpus" or "gpus-per-node" or "gpus-per-task" or "gpus-per-socket" or "-G" => Slot.Gpu,
            "job-name" => Slot.JobName,
            _ => Slot.None,
        };
    }

    public enum Slot { None, Time, Cpus, Memory, Account, Gpu, JobName }
}
