namespace Kslurm.Cli;

/// <summary>
/// A small argv reader for subcommands with ordinary options (kpy, kapp, kslurm config).
/// The resource grammar of krun/kbatch/kjupyter has its own parser.
/// Options are declared up front, so an unknown option is an error that names it.
/// </summary>
public sealed class Args
{
    readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    public List<string> Positionals { get; } = [];

    /// <summary>Everything after the first positional when <c>stopAtPositional</c> asked for it.</summary>
    public List<string> Rest { get; } = [];

    public bool Help { get; private set; }

    /// <param name="flags">names like "-f|--force"</param>
    /// <param name="options">names taking a value like "-p|--path"</param>
    /// <param name="stopAtPositional">after this many positionals, keep the rest verbatim (e.g. a container's args)</param>
    public static Args Parse(IReadOnlyList<string> argv, string usage, string[]? flags = null, string[]? options = null, int stopAtPositional = -1)
    {
        var a = new Args();
        var flagNames = Expand(flags);
        var optionNames = Expand(options);
        var onlyPositionals = false;
        for (var i = 0; i < argv.Count; i++)
        {
            var t = argv[i];
            if (stopAtPositional >= 0 && a.Positionals.Count >= stopAtPositional)
            {
                a.Rest.AddRange(argv.Skip(i));
                break;
            }
            if (onlyPositionals || t == "-" || !t.StartsWith('-'))
            {
                a.Positionals.Add(t);
                continue;
            }
            if (t == "--")
            {
                onlyPositionals = true;
                continue;
            }
            if (t is "-h" or "--help")
            {
                a.Help = true;
                continue;
            }
            var eq = t.IndexOf('=');
            var name = eq > 0 && t.StartsWith("--") ? t[..eq] : t;
            if (optionNames.TryGetValue(name, out var canonical))
            {
                string value;
                if (eq > 0 && name != t)
                    value = t[(eq + 1)..];
                else if (i + 1 < argv.Count)
                    value = argv[++i];
                else
                    throw new UsageException($"{name} needs a value", usage);
                a._values[canonical] = value;
            }
            else if (flagNames.TryGetValue(t, out canonical))
            {
                a._flags.Add(canonical);
            }
            else
            {
                throw new UsageException($"unknown option '{t}'", usage);
            }
        }
        return a;
    }

    // "-f|--force" -> both spellings map to the long one.
    static Dictionary<string, string> Expand(string[]? specs)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in specs ?? [])
        {
            var names = spec.Split('|');
            foreach (var n in names)
                map[n] = names[^1];
        }
        return map;
    }

    public bool Has(string longName) => _flags.Contains(longName);

    public string? Value(string longName) => _values.TryGetValue(longName, out var v) ? v : null;

    public void NoMorePositionals(int max, string usage)
    {
        if (Positionals.Count > max)
            throw new UsageException($"unexpected argument '{Positionals[max]}'", usage);
    }
}
