using Kslurm.Cli;
using Kslurm.Json;

namespace Kslurm.Jupyter;

public enum KernelMode { Venv, Conda, Module, Image, Python }

/// <summary>
/// The environment a kernel runs in: one mode and what it names. The same options are written
/// into the kernelspec's argv by `kernel install` and read back by `kernel run`, so a kernelspec
/// stays tiny and every rule lives here, fixable without reinstalling kernels.
/// </summary>
public sealed class KernelTarget
{
    public KernelMode Mode { get; init; }

    /// <summary>The venv name, conda prefix, image URI/alias/file or python path (modules: all names, space-separated).</summary>
    public string Target { get; init; } = "";

    public IReadOnlyList<string> Modules { get; init; } = [];
    public bool Purge { get; init; }
    public IReadOnlyList<string> Binds { get; init; } = [];

    public static string ModeName(KernelMode m) => m switch
    {
        KernelMode.Venv => "venv",
        KernelMode.Conda => "conda",
        KernelMode.Module => "module",
        KernelMode.Image => "image",
        _ => "python",
    };

    public static KernelMode? ParseMode(string? s) => s switch
    {
        "venv" => KernelMode.Venv,
        "conda" => KernelMode.Conda,
        "module" => KernelMode.Module,
        "image" => KernelMode.Image,
        "python" => KernelMode.Python,
        _ => null,
    };

    public string ModeText => ModeName(Mode);

    /// <summary>The options that recreate this target, as `kernel run` takes them.</summary>
    public IReadOnlyList<string> ToArgs()
    {
        var a = new List<string>();
        switch (Mode)
        {
            case KernelMode.Module:
                if (Purge)
                    a.Add("--purge");
                foreach (var m in Modules)
                    a.AddRange(["--module", m]);
                break;
            case KernelMode.Image:
                a.AddRange(["--image", Target]);
                foreach (var b in Binds)
                    a.AddRange(["--bind", b]);
                break;
            default:
                a.AddRange(["--" + ModeText, Target]);
                break;
        }
        return a;
    }

    /// <summary>"Python (venv NAME)" and the like.</summary>
    public string DefaultDisplayName => Mode switch
    {
        KernelMode.Venv => $"Python (venv {Target})",
        KernelMode.Conda => $"Python (conda {CondaActivation.EnvName(Target)})",
        KernelMode.Module => Modules.Count == 0 ? "Python (modules purged)" : $"Python (module {string.Join(", ", Modules)})",
        KernelMode.Image => $"Python (image {Target})",
        _ => $"Python ({Target})",
    };

    /// <summary>What `kernel list` shows and what is recorded in the kernelspec's metadata.</summary>
    public JsonObject Metadata()
    {
        var o = new JsonObject
        {
            ["mode"] = ModeText,
            ["target"] = Target,
        };
        if (Mode == KernelMode.Module)
        {
            o["modules"] = Modules.ToList();
            o["purge"] = Purge;
        }
        if (Mode == KernelMode.Image && Binds.Count > 0)
            o["binds"] = Binds.ToList();
        o["installed_by"] = "kjupyter " + BuildInfo.Version;
        return o;
    }

    /// <summary>Parses the mode options out of argv; what is not a mode option is left to the caller.</summary>
    public sealed class Parser(string usage)
    {
        readonly List<(KernelMode Mode, string Option)> _modes = [];
        readonly List<string> _modules = [];
        readonly List<string> _binds = [];
        string? _value;
        bool _purge;

        /// <summary>Consumes argv[i] (and its value) when it is a mode option; returns false otherwise.</summary>
        public bool TryTake(IReadOnlyList<string> argv, ref int i)
        {
            var (name, inline) = Split(argv[i]);
            switch (name)
            {
                case "--venv" or "--conda" or "--image" or "--python":
                    _value = Value(argv, ref i, name, inline);
                    _modes.Add((ParseMode(name[2..])!.Value, name));
                    return true;
                case "--module":
                    _modules.Add(Value(argv, ref i, name, inline));
                    if (!_modes.Any(m => m.Mode == KernelMode.Module))
                        _modes.Add((KernelMode.Module, name));
                    return true;
                case "--purge" when inline is null:
                    _purge = true;
                    return true;
                case "--bind":
                    _binds.Add(Value(argv, ref i, name, inline));
                    return true;
                default:
                    return false;
            }
        }

        public KernelTarget Finish()
        {
            if (_modes.Count == 0 && _purge)
                _modes.Add((KernelMode.Module, "--purge")); // `--purge` alone: a kernel with every module unloaded
            if (_modes.Count == 0)
                throw new UsageException("say what the kernel runs in: --venv, --conda, --module, --image or --python", usage);
            if (_modes.Count > 1)
                throw new UsageException($"{_modes[0].Option} and {_modes[1].Option} cannot be combined: a kernel runs in one environment", usage);
            var mode = _modes[0].Mode;
            if (_purge && mode != KernelMode.Module)
                throw new UsageException("--purge goes with --module", usage);
            if (_binds.Count > 0 && mode != KernelMode.Image)
                throw new UsageException("--bind goes with --image", usage);
            foreach (var v in _modules.Append(_value ?? "").Concat(_binds))
                CheckValue(v, usage);
            return mode switch
            {
                KernelMode.Module => new KernelTarget
                {
                    Mode = mode,
                    Modules = [.. _modules.Select(m => CheckModule(m, usage))],
                    Purge = _purge,
                    Target = string.Join(' ', _modules),
                },
                KernelMode.Image => new KernelTarget { Mode = mode, Target = NonEmpty(_value, "--image", usage), Binds = [.. _binds.Select(b => NonEmpty(b, "--bind", usage))] },
                _ => new KernelTarget { Mode = mode, Target = NonEmpty(_value, "--" + ModeName(mode), usage) },
            };
        }

        static (string Name, string? Inline) Split(string t)
        {
            var eq = t.IndexOf('=');
            return t.StartsWith("--", StringComparison.Ordinal) && eq > 2 ? (t[..eq], t[(eq + 1)..]) : (t, null);
        }

        string Value(IReadOnlyList<string> argv, ref int i, string name, string? inline)
        {
            if (inline is not null)
                return inline;
            if (i + 1 >= argv.Count)
                throw new UsageException($"{name} needs a value", usage);
            return argv[++i];
        }

        static string NonEmpty(string? v, string option, string usage)
            => string.IsNullOrEmpty(v) ? throw new UsageException($"{option} needs a non-empty value", usage) : v;

        static string CheckModule(string m, string usage)
        {
            if (m.Length == 0 || m == "-")
                throw new UsageException("--module needs a module name", usage);
            if (m.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw new UsageException($"invalid module name '{m}': no spaces", "give one module per --module, e.g. --module gcc --module python/3.11");
            return m;
        }
    }

    /// <summary>
    /// Jupyter substitutes `{connection_file}`, `{resource_dir}` and `{prefix}` anywhere in a
    /// kernelspec's argv; a user value holding such a pattern would be changed behind our back.
    /// </summary>
    public static void CheckValue(string v, string usage)
    {
        for (var open = v.IndexOf('{'); open >= 0; open = v.IndexOf('{', open + 1))
        {
            var close = v.IndexOf('}', open + 1);
            if (close > open + 1 && v.AsSpan(open + 1, close - open - 1).ToString().All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                throw new UsageException($"'{v}' contains {v[open..(close + 1)]}, which Jupyter would replace when it starts the kernel", usage);
        }
        if (v.Any(char.IsControl))
            throw new UsageException($"'{v.ReplaceLineEndings(" ")}' contains a control character", usage);
    }
}
