namespace Kslurm.Slurm;

/// <summary>
/// What the user typed to krun, kbatch or kjupyter: resource words and options in any order,
/// then the command. The first token that is none of these starts the command; it and
/// everything after it are the user's argv, kept byte for byte.
/// </summary>
public sealed class JobRequest
{
    public int? Minutes { get; private set; }
    public int? Cpus { get; private set; }
    public long? MemMB { get; private set; }
    public GpuRequest? Gpu { get; private set; }
    public bool X11 { get; private set; }
    public string? Directory { get; private set; }
    public string? Template { get; private set; }
    public string? Account { get; private set; }
    public string? Venv { get; private set; }
    /// <summary>--no-modules: the venv without the Lmod modules it was saved with.</summary>
    public bool NoModules { get; private set; }
    public bool Test { get; private set; }
    public bool Json { get; private set; }
    public bool ListTemplates { get; private set; }
    public bool Help { get; private set; }

    /// <summary>Slurm options to pass on verbatim, each as one token or an option and its value.</summary>
    public List<string[]> SlurmOptions { get; } = [];

    /// <summary>Tool-specific switches that were given (e.g. --wait for kbatch).</summary>
    public HashSet<string> Switches { get; } = new(StringComparer.Ordinal);

    public List<string> Command { get; } = [];

    public static JobRequest Parse(IReadOnlyList<string> argv, IReadOnlyCollection<string>? toolSwitches = null, string? cwd = null)
    {
        var r = new JobRequest();
        cwd ??= Environment.CurrentDirectory;
        for (var i = 0; i < argv.Count; i++)
        {
            var t = argv[i];
            string Value(string option)
            {
                if (i + 1 >= argv.Count)
                    throw new UsageException($"{option} needs a value", option switch
                    {
                        "-j" or "--job-template" => "give a template name; list them with -J",
                        "-a" or "-A" or "--account" => "give an account name, e.g. -a def-mylab",
                        "--venv" => "give the name of a saved venv (kpy list)",
                        _ => $"give {option}'s value after it, or write {option}=VALUE",
                    });
                return argv[++i];
            }
            string? Inline(string prefix) => t.StartsWith(prefix, StringComparison.Ordinal) ? t[prefix.Length..] : null;

            switch (t)
            {
                case "--":
                    r.Command.AddRange(argv.Skip(i + 1));
                    return r.Check();
                case "-h" or "--help": r.Help = true; continue;
                case "-t" or "--test": r.Test = true; continue;
                case "--json": r.Json = true; continue;
                case "-J" or "-l" or "--list": r.ListTemplates = true; continue;
                case "x11" or "--x11": r.X11 = true; continue;
                case "-j" or "--job-template": r.Template = NonEmpty(t, Value(t)); continue;
                case "-a" or "-A" or "--account": r.Account = NonEmpty(t, Value(t)); continue;
                case "--venv": r.Venv = NonEmpty(t, Value(t)); continue;
                case "--no-modules": r.NoModules = true; continue;
            }
            if (Inline("--job-template=") is { } tpl) { r.Template = NonEmpty("--job-template", tpl); continue; }
            if (Inline("--account=") is { } acc) { r.Account = NonEmpty("--account", acc); continue; }
            if (Inline("--venv=") is { } venv) { r.Venv = NonEmpty("--venv", venv); continue; }
            if (t.Length > 2 && t.StartsWith("-A", StringComparison.Ordinal)) { r.Account = t[2..]; continue; }
            if (toolSwitches?.Contains(t) == true) { r.Switches.Add(t); continue; }

            if (t.StartsWith('-') && t.Length > 1)
            {
                r.SlurmOptions.Add(global::Kslurm.Slurm.SlurmOptions.TakesSeparateValue(t) ? [t, Value(t)] : [t]);
                continue;
            }
            if (ResourceTokens.Time(t) is { } minutes) { r.Minutes = Once(r.Minutes, minutes, "time", t); continue; }
            if (ResourceTokens.Cpus(t) is { } cpus) { r.Cpus = Once(r.Cpus, cpus, "CPU count", t); continue; }
            if (ResourceTokens.MemoryMB(t) is { } mem) { r.MemMB = Once(r.MemMB, mem, "memory", t); continue; }
            if (ResourceTokens.Gpu(t) is { } gpu)
            {
                if (r.Gpu is not null)
                    throw Twice("GPU request", t);
                r.Gpu = gpu;
                continue;
            }
            if (t.Contains('/') && System.IO.Directory.Exists(Path.Combine(cwd, t)))
            {
                if (r.Directory is not null)
                    throw Twice("directory", t);
                r.Directory = Path.GetFullPath(Path.Combine(cwd, t));
                continue;
            }
            r.Command.AddRange(argv.Skip(i));
            break;
        }
        return r.Check();
    }

    JobRequest Check()
    {
        if (Json && !Test)
            throw new UsageException("--json goes with -t (it prints the plan instead of running it)", "add -t");
        if (NoModules && Venv is null)
            throw new UsageException("--no-modules goes with --venv (it skips the venv's saved Lmod modules)", "add --venv NAME, or drop --no-modules");
        return this;
    }

    static string NonEmpty(string option, string value)
        => value.Length > 0 ? value : throw new UsageException($"{option} needs a non-empty value");

    static T Once<T>(T? previous, T value, string what, string token) where T : struct
        => previous is null ? value : throw Twice(what, token);

    static UsageException Twice(string what, string token)
        => new($"{what} given twice (second: '{token}')",
            "give each resource once; put -- before a command that looks like a resource");

    /// <summary>True when the pass-through options ask for a GPU themselves (e.g. --gpus=1).</summary>
    public bool SlurmOptionsAskForGpu => SlurmOptions.Any(o =>
    {
        if (global::Kslurm.Slurm.SlurmOptions.SlotOf(o[0]) != global::Kslurm.Slurm.SlurmOptions.Slot.Gpu)
            return false;
        // --gres may name other resources (--gres=tmpfs:10G); the --gpus family is always GPUs
        return !o[0].StartsWith("--gres", StringComparison.Ordinal) || string.Join('=', o).Contains("gpu", StringComparison.Ordinal);
    });

    public bool SlurmOptionsSet(SlurmOptions.Slot slot)
        => SlurmOptions.Any(o => global::Kslurm.Slurm.SlurmOptions.SlotOf(o[0]) == slot);
}
