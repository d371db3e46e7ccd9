using Kslurm.Config;

namespace Kslurm.Slurm;

/// <summary>
/// A job request resolved against templates and settings: the resources, the account and the
/// exact Slurm options. Precedence: explicit words > template > defaults; for the account,
/// --account > template > account.gpu/account.cpu (by request) > account > Slurm's own default.
/// </summary>
public sealed record JobSpec(
    int? Minutes,
    int? Cpus,
    long? MemMB,
    GpuRequest? Gpu,
    bool X11,
    string? Account,
    string AccountFrom,
    JobTemplate? Template,
    IReadOnlyList<string> SlurmOptions,
    string Cwd)
{
    public const int DefaultMinutes = 180;
    public const int DefaultCpus = 1;
    public const long DefaultMemMB = 4000;

    public bool WantsGpu { get; init; }

    /// <param name="withDefaults">false when only what the user asked for should be sent (a job
    /// step inside an allocation, a script whose #SBATCH lines set the rest)</param>
    /// <param name="preset">slots already set elsewhere (e.g. by a script's #SBATCH lines)</param>
    public static JobSpec Resolve(JobRequest req, Settings settings, IReadOnlyList<JobTemplate> templates,
        bool withDefaults = true, ISet<Kslurm.Slurm.SlurmOptions.Slot>? preset = null, bool withAccount = true)
    {
        var tpl = req.Template is null ? null : JobTemplates.Find(templates, req.Template);
        bool Free(Kslurm.Slurm.SlurmOptions.Slot s) => !req.SlurmOptionsSet(s) && preset?.Contains(s) != true;

        int? minutes = req.Minutes ?? tpl?.Minutes ?? (withDefaults && Free(Kslurm.Slurm.SlurmOptions.Slot.Time) ? DefaultMinutes : null);
        int? cpus = req.Cpus ?? tpl?.Cpus ?? (withDefaults && Free(Kslurm.Slurm.SlurmOptions.Slot.Cpus) ? DefaultCpus : null);
        long? mem = req.MemMB ?? tpl?.MemMB ?? (withDefaults && Free(Kslurm.Slurm.SlurmOptions.Slot.Memory) ? DefaultMemMB : null);
        var gpu = req.Gpu ?? tpl?.Gpu;
        var wantsGpu = gpu is not null || req.SlurmOptionsAskForGpu;

        string? account = null;
        var from = "none";
        if (req.Account is not null) { account = req.Account; from = "option"; }
        else if (req.SlurmOptionsSet(Kslurm.Slurm.SlurmOptions.Slot.Account)) { from = "slurm option"; }
        else if (preset?.Contains(Kslurm.Slurm.SlurmOptions.Slot.Account) == true) { from = "script"; }
        else if (!withAccount) { from = "allocation"; }
        else if (tpl?.Account is { } ta) { account = ta; from = $"template {tpl.Name}"; }
        else if (settings.Get(wantsGpu ? "account.gpu" : "account.cpu") is { } byKind) { account = byKind; from = wantsGpu ? "config account.gpu" : "config account.cpu"; }
        else if (settings.Get("account") is { } plain) { account = plain; from = "config account"; }
        else { from = "slurm default"; }

        var opts = new List<string>();
        if (account is not null) opts.Add($"--account={account}");
        if (minutes is not null) opts.Add($"--time={ResourceTokens.FormatTime(minutes.Value)}");
        if (cpus is not null) opts.Add($"--cpus-per-task={cpus}");
        if (mem is not null) opts.Add($"--mem={mem}");
        if (gpu is not null) opts.Add($"--gres={gpu.Gres}");
        if (req.X11) opts.Add("--x11");
        if (tpl?.Extra is { } extra) opts.AddRange(extra);
        foreach (var o in req.SlurmOptions) opts.AddRange(o); // last, so the user's own options win

        return new JobSpec(minutes, cpus, mem, gpu, req.X11, account, from, tpl, opts, req.Directory ?? Environment.CurrentDirectory)
        {
            WantsGpu = wantsGpu,
        };
    }
}
