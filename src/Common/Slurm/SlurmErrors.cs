namespace Kslurm.Slurm;

/// <summary>Turns Slurm's refusals into advice that names the kslurm setting involved.</summary>
public static class SlurmErrors
{
    /// <summary>A hint for an account refusal, or null when the error is about something else.</summary>
    public static string? AccountHint(string slurmStderr, JobSpec spec)
    {
        if (!slurmStderr.Contains("Invalid account", StringComparison.Ordinal)
            && !slurmStderr.Contains("No account specified", StringComparison.Ordinal)
            && !slurmStderr.Contains("specify an account", StringComparison.OrdinalIgnoreCase))
            return null;
        return spec.AccountFrom switch
        {
            "slurm default" => "Slurm has no usable default account for you: set one with `kslurm config account NAME`, or choose with `kslurm config account -i`",
            var from when from.StartsWith("config", StringComparison.Ordinal) =>
                $"the account '{spec.Account}' comes from your settings ({from[7..]}); change it with `kslurm config {from[7..]} NAME` or `kslurm config account -i`",
            var from when from.StartsWith("template", StringComparison.Ordinal) =>
                $"the account '{spec.Account}' comes from {from}; override it with -a NAME",
            _ => "check the account name; `sacctmgr show associations user=$USER format=account` lists yours",
        };
    }
}
