using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Json;
using Kslurm.Jupyter;
using Kslurm.Processes;
using Kslurm.Registry;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kjupyter kernel install|list|rm|run`: Jupyter kernels that run inside a saved kpy venv, a
/// conda env, Lmod modules, a kapp image or a given python. `install` writes a kernelspec whose
/// argv calls `kjupyter kernel run <mode options> -- {connection_file}`; `run` sets the
/// environment up at kernel start and replaces itself with ipykernel.
/// </summary>
static class KernelCommand
{
    const string InstallUsage = "usage: kjupyter kernel install NAME (--venv VENV | --conda PREFIX | --module M [--module M2 ...] [--purge] | --image URI|ALIAS|FILE [--bind SPEC ...] | --python PATH) [--display-name TEXT] [--env NAME=VALUE]... [--user | --prefix DIR] [--force] [--no-check]";
    const string ListUsage = "usage: kjupyter kernel list [--prefix DIR ...] [--json]";
    const string RmUsage = "usage: kjupyter kernel rm NAME... [--user | --prefix DIR]";
    const string RunUsage = "usage: kjupyter kernel run (--venv VENV | --conda PREFIX | --module M ... [--purge] | --image X [--bind SPEC ...] | --python PATH) -- CONNECTION_FILE";

    public static int Run(string[] argv)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help" or "help")
        {
            if (argv.Length == 0)
                throw new UsageException("missing command", "commands: kjupyter kernel install|list|rm|run (see kjupyter kernel --help)");
            Console.Write(Help);
            return 0;
        }
        var rest = argv[1..];
        return argv[0] switch
        {
            "install" => Install(rest),
            "list" or "ls" => List(rest),
            "rm" or "remove" => Remove(rest),
            "run" => RunKernel(rest),
            var other when other.StartsWith('-') => throw new UsageException($"unknown option '{other}'", "run `kjupyter kernel --help` to see the commands"),
            var other => throw new UsageException($"unknown command 'kernel {other}'", "commands: kjupyter kernel install|list|rm|run"),
        };
    }

    static bool WantsHelp(string[] argv, string usage, string? more = null)
    {
        if (!argv.Any(a => a is "-h" or "--help") || argv.Contains("--"))
            return false;
        Console.Write(usage + "\n" + (more ?? ""));
        return true;
    }

    // ---- install -------------------------------------------------------------------------------

    static int Install(string[] argv)
    {
        if (WantsHelp(argv, InstallUsage, InstallHelp))
            return 0;
        var modes = new KernelTarget.Parser(InstallUsage);
        string? name = null, display = null, prefix = null;
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        bool user = false, force = false, noCheck = false;
        for (var i = 0; i < argv.Length; i++)
        {
            var t = argv[i];
            if (modes.TryTake(argv, ref i))
                continue;
            switch (OptionName(t))
            {
                case "--display-name": display = OptionValue(argv, ref i, InstallUsage); break;
                case "--env": AddEnv(env, OptionValue(argv, ref i, InstallUsage)); break;
                case "--prefix": prefix = OptionValue(argv, ref i, InstallUsage); break;
                case "--user": user = true; break;
                case "--force" or "-f": force = true; break;
                case "--no-check": noCheck = true; break;
                default:
                    if (t.StartsWith('-') && t != "-")
                        throw new UsageException($"unknown option '{t}'", InstallUsage);
                    if (name is not null)
                        throw new UsageException($"unexpected argument '{t}'", InstallUsage);
                    name = t;
                    break;
            }
        }
        if (name is null)
            throw new UsageException("missing NAME (the kernel's name in Jupyter)", InstallUsage);
        name = Kernelspec.CheckName(name, InstallUsage);
        if (user && prefix is not null)
            throw new UsageException("--user and --prefix cannot be combined", InstallUsage);
        if (prefix is { Length: 0 })
            throw new UsageException("--prefix needs a folder", InstallUsage);
        if (display is not null && (display.Trim().Length == 0 || display.Any(char.IsControl)))
            throw new UsageException("--display-name needs a one-line text", InstallUsage);

        var target = Prepare(modes.Finish(), noCheck);
        var kernels = prefix is null ? JupyterPaths.UserKernels : JupyterPaths.PrefixKernels(prefix);
        var dir = Path.Combine(kernels, name);
        var existing = Directory.Exists(dir) ? Kernelspec.Read(dir) : null;
        if (Directory.Exists(dir) && !force)
            throw new KslurmException($"a kernel called {name} exists already ({Paths.Pretty(dir)}{(existing?.Ours == false ? ", not installed by kjupyter" : "")})",
                $"replace it with --force, or choose another name");

        var kjupyter = Paths.Sibling("kjupyter", "kjupyter");
        var doc = Kernelspec.Build(kjupyter, target, display ?? target.DefaultDisplayName, env);
        Write(kernels, name, JsonText.Write(doc) + "\n", existing);
        Console.WriteLine($"installed kernel {name} ({doc.String("display_name")}) in {Paths.Pretty(dir)}");
        if (existing is { Ours: false })
            Output.Note("kjupyter", $"it replaced a kernel {name} that kjupyter had not installed");
        if (!JupyterPaths.IsSearched(kernels))
            Output.Warn("kjupyter", $"Jupyter does not look in {Paths.Pretty(kernels)}: add {Paths.Pretty(Path.GetDirectoryName(kernels)!)} to JUPYTER_PATH");
        if (KernelDirsBefore(kernels).FirstOrDefault(d => Directory.Exists(Path.Combine(d, name))) is { } shadow)
            Output.Warn("kjupyter", $"Jupyter will use the kernel {name} in {Paths.Pretty(shadow)} instead of this one");
        return 0;
    }

    /// <summary>--env KEY=VALUE: a variable for the kernel, kept in the kernelspec's own `env`, which Jupyter applies.</summary>
    static void AddEnv(SortedDictionary<string, string> env, string spec)
    {
        var eq = spec.IndexOf('=');
        var key = eq < 0 ? spec : spec[..eq];
        if (eq < 0 || key.Length == 0 || !(char.IsAsciiLetter(key[0]) || key[0] == '_') || !key.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
            throw new UsageException($"invalid --env '{spec}'", "write --env NAME=VALUE, NAME made of letters, digits and '_'");
        if (spec.Contains('\0'))
            throw new UsageException($"invalid --env value for {key}", "a value cannot hold a NUL character");
        env[key] = spec[(eq + 1)..];
    }

    /// <summary>Checks what the kernel names (cheaply: files only) and makes paths absolute.</summary>
    static KernelTarget Prepare(KernelTarget t, bool noCheck)
    {
        switch (t.Mode)
        {
            case KernelMode.Venv:
                VenvName.Check(t.Target);
                if (!noCheck)
                {
                    var store = VenvStore.Current("kjupyter");
                    if (store.Find(t.Target) is null)
                    {
                        var saved = store.Saved();
                        throw new KslurmException($"no saved venv called {t.Target}",
                            $"save it first, with the venv active: kpy save {t.Target}"
                            + (saved.Count > 0 ? " (saved venvs: " + string.Join(", ", saved.Select(s => s.Name)) + ")" : ""));
                    }
                }
                return t;
            case KernelMode.Conda:
            {
                var prefix = CondaActivation.Resolve(t.Target);
                if (!noCheck && CondaActivation.Problem(prefix) is { } problem)
                    throw new KslurmException(problem, "give the environment's full path, as `conda env list` shows it");
                return new KernelTarget { Mode = t.Mode, Target = prefix };
            }
            case KernelMode.Module:
                if (!noCheck)
                    CheckModules(t);
                return t;
            case KernelMode.Image:
            {
                var value = KernelLauncher.IsImageFile(t.Target) ? Path.GetFullPath(t.Target) : t.Target;
                if (!noCheck)
                    KernelLauncher.ResolveImage(value);
                else if (!KernelLauncher.IsImageFile(value))
                    ImageRef.Parse(value); // at least a valid name
                return new KernelTarget { Mode = t.Mode, Target = value, Binds = t.Binds };
            }
            default:
            {
                var python = t.Target.Contains('/') ? Path.GetFullPath(t.Target) // keep links: a venv's python is one
                    : ChildProcess.Which(t.Target) is { } found ? Path.GetFullPath(found)
                    : throw new KslurmException($"{t.Target} is not on PATH", "give the interpreter's path, e.g. --python ~/envs/x/bin/python");
                if (!noCheck && ChildProcess.Which(python) is null)
                    throw new KslurmException($"{python} is not an executable", "give the path of a python interpreter");
                return new KernelTarget { Mode = t.Mode, Target = python };
            }
        }
    }

    /// <summary>Asks Lmod whether the modules load here (one lmod run; skipped where Lmod is absent).</summary>
    static void CheckModules(KernelTarget t)
    {
        if (t.Modules.Count == 0)
            return;
        string lmod;
        try { lmod = KernelLauncher.Lmod(); }
        catch (KslurmException)
        {
            Output.Warn("kjupyter", "Lmod is not available here: the modules are checked only when the kernel starts");
            return;
        }
        var r = ChildProcess.Capture([lmod, "bash", "load", .. t.Modules]);
        if (!r.Ok || r.Stdout.TrimEnd().EndsWith("false", StringComparison.Ordinal))
        {
            // Lmod's first paragraph says what is wrong: "Lmod has detected the following error: The following module(s) are unknown: "x""
            var why = r.Stderr.ReplaceLineEndings("\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .FirstOrDefault(p => p.Length > 0) ?? "";
            why = string.Join(' ', why.Replace("Lmod has detected the following error:", "").Split((char[])[' ', '\n', '\t'], StringSplitOptions.RemoveEmptyEntries));
            throw new KslurmException($"Lmod cannot load {string.Join(' ', t.Modules)}{(why.Length > 0 ? ": " + why : "")}",
                "check the names with `module avail` or `module spider NAME`; use --no-check if they exist only on compute nodes");
        }
    }

    /// <summary>Writes NAME/kernel.json so Jupyter never sees a half-made kernel.</summary>
    static void Write(string kernels, string name, string json, Kernelspec? existing)
    {
        var dir = Path.Combine(kernels, name);
        Directory.CreateDirectory(kernels);
        if (existing is { Ours: true })
        {
            AtomicFile.WriteAllText(Path.Combine(dir, "kernel.json"), json); // ours: replace the file in place
            return;
        }
        // a new folder appears whole: made under a hidden name, then renamed
        var temp = AtomicFile.TempBeside(dir);
        Directory.CreateDirectory(temp);
        try
        {
            AtomicFile.WriteAllText(Path.Combine(temp, "kernel.json"), json);
            if (Directory.Exists(dir))
            {
                var old = AtomicFile.TempBeside(dir);
                Directory.Move(dir, old);
                Directory.Move(temp, dir);
                Directory.Delete(old, recursive: true);
            }
            else
                Directory.Move(temp, dir);
        }
        catch
        {
            if (Directory.Exists(temp))
                Directory.Delete(temp, recursive: true);
            throw;
        }
        AtomicFile.SyncDirectory(kernels);
    }

    static IEnumerable<string> KernelDirsBefore(string kernels)
    {
        var dirs = JupyterPaths.KernelDirs();
        var at = dirs.ToList().IndexOf(Path.TrimEndingDirectorySeparator(Path.GetFullPath(kernels)));
        return at < 0 ? [] : dirs.Take(at);
    }

    // ---- list ----------------------------------------------------------------------------------

    static int List(string[] argv)
    {
        if (WantsHelp(argv, ListUsage, ListHelp))
            return 0;
        var prefixes = new List<string>();
        var json = false;
        for (var i = 0; i < argv.Length; i++)
        {
            switch (OptionName(argv[i]))
            {
                case "--prefix": prefixes.Add(OptionValue(argv, ref i, ListUsage)); break;
                case "--json": json = true; break;
                default:
                    throw new UsageException(argv[i].StartsWith('-') ? $"unknown option '{argv[i]}'" : $"unexpected argument '{argv[i]}'", ListUsage);
            }
        }
        var seen = new Dictionary<string, string>(StringComparer.Ordinal); // name -> folder Jupyter uses
        var rows = new List<(Kernelspec Spec, KernelTarget Target, string Status)>();
        var checker = new StatusChecker();
        foreach (var kernels in JupyterPaths.KernelDirs(prefixes))
        {
            foreach (var spec in Kernelspec.In(kernels))
            {
                var shadowedBy = seen.GetValueOrDefault(spec.Name);
                seen.TryAdd(spec.Name, spec.Dir);
                if (spec.Target is not { } target)
                    continue;
                rows.Add((spec, target, shadowedBy is not null ? $"hidden by {Paths.Pretty(shadowedBy)}" : checker.Status(spec, target)));
            }
        }
        if (json)
        {
            Console.Out.Write(JsonText.Write(rows.Select(r =>
            {
                var o = new JsonObject
                {
                    ["name"] = r.Spec.Name,
                    ["display_name"] = r.Spec.DisplayName,
                    ["mode"] = r.Target.ModeText,
                    ["target"] = r.Target.Target,
                    ["status"] = r.Status,
                    ["dir"] = r.Spec.Dir,
                };
                if (r.Target.Mode == KernelMode.Module)
                {
                    o["modules"] = r.Target.Modules.ToList();
                    o["purge"] = r.Target.Purge;
                }
                if (r.Target.Binds.Count > 0)
                    o["binds"] = r.Target.Binds.ToList();
                return o;
            }).ToList()) + "\n");
            return 0;
        }
        if (rows.Count == 0)
        {
            Console.Error.WriteLine("no kernels installed by kjupyter (kjupyter kernel install NAME --venv VENV, ...)");
            return 0;
        }
        var table = new List<string[]> { new[] { "NAME", "MODE", "TARGET", "STATUS", "LOCATION" } };
        table.AddRange(rows.Select(r => new[]
        {
            r.Spec.Name,
            r.Target.ModeText + (r.Target.Purge ? " (purge)" : ""),
            r.Target.Target + (r.Target.Binds.Count > 0 ? " (bind " + string.Join(", ", r.Target.Binds) + ")" : ""),
            r.Status,
            Paths.Pretty(r.Spec.Dir),
        }));
        Console.Out.Write(Format.Table(table));
        return 0;
    }

    /// <summary>Whether a kernel can start, judged from files only (no process, no network).</summary>
    sealed class StatusChecker
    {
        VenvStore? _venvs;
        bool _venvsFailed;

        public string Status(Kernelspec spec, KernelTarget t)
        {
            if (spec.Argv.Count == 0 || ChildProcess.Which(spec.Argv[0]) is null)
                return "broken: kjupyter moved (reinstall with --force)";
            try
            {
                switch (t.Mode)
                {
                    case KernelMode.Venv:
                        if (Venvs() is not { } store)
                            return "unknown: pipdir not set";
                        return store.Find(t.Target) is null ? "broken: venv not saved" : "ok";
                    case KernelMode.Conda:
                        return CondaActivation.Problem(t.Target) is null ? "ok" : "broken: env gone";
                    case KernelMode.Image:
                        KernelLauncher.ResolveImage(t.Target);
                        return "ok";
                    case KernelMode.Python:
                        return ChildProcess.Which(t.Target) is null ? "broken: python gone" : "ok";
                    default:
                        return "ok";
                }
            }
            catch (KslurmException e)
            {
                return "broken: " + e.Message;
            }
        }

        VenvStore? Venvs()
        {
            if (_venvs is null && !_venvsFailed)
            {
                var store = VenvStore.Current("kjupyter");
                if (store.Settings.Get("pipdir") is null)
                    _venvsFailed = true;
                else
                    _venvs = store;
            }
            return _venvs;
        }
    }

    // ---- rm ------------------------------------------------------------------------------------

    static int Remove(string[] argv)
    {
        if (WantsHelp(argv, RmUsage))
            return 0;
        var names = new List<string>();
        string? prefix = null;
        var user = false;
        for (var i = 0; i < argv.Length; i++)
        {
            switch (OptionName(argv[i]))
            {
                case "--prefix": prefix = OptionValue(argv, ref i, RmUsage); break;
                case "--user": user = true; break;
                default:
                    if (argv[i].StartsWith('-'))
                        throw new UsageException($"unknown option '{argv[i]}'", RmUsage);
                    names.Add(Kernelspec.CheckName(argv[i], RmUsage));
                    break;
            }
        }
        if (names.Count == 0)
            throw new UsageException("missing NAME", RmUsage);
        if (user && prefix is not null)
            throw new UsageException("--user and --prefix cannot be combined", RmUsage);
        IReadOnlyList<string> where = user ? [JupyterPaths.UserKernels]
            : prefix is not null ? [JupyterPaths.PrefixKernels(prefix)]
            : JupyterPaths.KernelDirs();
        // check every name first: nothing is removed when one of them is wrong
        var found = new List<Kernelspec>();
        foreach (var name in names)
        {
            var spec = where.Select(d => Path.Combine(d, name)).Where(Directory.Exists).Select(Kernelspec.Read).FirstOrDefault(s => s is not null)
                ?? throw new KslurmException($"no kernel called {name}{(where.Count == 1 ? " in " + Paths.Pretty(where[0]) : "")}", "see them with: kjupyter kernel list");
            if (!spec.Ours)
                throw new KslurmException($"the kernel {name} ({Paths.Pretty(spec.Dir)}) was not installed by kjupyter: leaving it alone",
                    $"remove it with: jupyter kernelspec remove {name}");
            found.Add(spec);
        }
        foreach (var spec in found)
        {
            // rename first: Jupyter never sees a half-deleted kernel
            var gone = AtomicFile.TempBeside(spec.Dir);
            Directory.Move(spec.Dir, gone);
            Directory.Delete(gone, recursive: true);
            Console.WriteLine($"removed kernel {spec.Name} ({Paths.Pretty(spec.Dir)})");
            var other = where.Select(d => Path.Combine(d, spec.Name)).FirstOrDefault(Directory.Exists);
            if (other is not null)
                Output.Note("kjupyter", $"Jupyter now uses the kernel {spec.Name} in {Paths.Pretty(other)}");
        }
        return 0;
    }

    // ---- run -----------------------------------------------------------------------------------

    static int RunKernel(string[] argv)
    {
        if (WantsHelp(argv, RunUsage, "  (what a kernelspec written by `kjupyter kernel install` calls; Jupyter gives the connection file)\n"))
            return 0;
        var modes = new KernelTarget.Parser(RunUsage);
        var files = new List<string>();
        for (var i = 0; i < argv.Length; i++)
        {
            if (argv[i] == "--")
            {
                files.AddRange(argv[(i + 1)..]);
                break;
            }
            if (modes.TryTake(argv, ref i))
                continue;
            if (argv[i].StartsWith('-'))
                throw new UsageException($"unknown option '{argv[i]}'", RunUsage);
            files.Add(argv[i]);
        }
        var target = modes.Finish();
        if (files.Count != 1)
            throw new UsageException(files.Count == 0 ? "missing CONNECTION_FILE" : $"unexpected argument '{files[1]}'", RunUsage);
        if (!File.Exists(files[0]))
            throw new KslurmException($"connection file {files[0]} does not exist", "Jupyter writes it before starting the kernel: start kernels from Jupyter");
        return KernelLauncher.Run(target, files[0]);
    }

    // ---- options -------------------------------------------------------------------------------

    static string OptionName(string t)
    {
        var eq = t.IndexOf('=');
        return t.StartsWith("--", StringComparison.Ordinal) && eq > 2 ? t[..eq] : t;
    }

    static string OptionValue(string[] argv, ref int i, string usage)
    {
        var t = argv[i];
        var eq = t.IndexOf('=');
        if (t.StartsWith("--", StringComparison.Ordinal) && eq > 2)
            return t[(eq + 1)..];
        if (i + 1 >= argv.Length)
            throw new UsageException($"{t} needs a value", usage);
        return argv[++i];
    }

    // ---- help ----------------------------------------------------------------------------------

    const string InstallHelp = """

        Writes kernels/NAME/kernel.json in Jupyter's user data folder ($JUPYTER_DATA_DIR, else
        ${XDG_DATA_HOME:-~/.local/share}/jupyter), or in DIR/share/jupyter with --prefix DIR. At kernel
        start Jupyter runs `kjupyter kernel run ...`, which sets the environment up and becomes ipykernel.

          --venv VENV        a venv saved with `kpy save`: loaded onto the node's scratch if needed
          --conda PREFIX     a conda env (path, or name): activated as conda does, activate.d hooks included
          --module M         Lmod modules, loaded in order (repeat --module); --purge unloads all first
          --image X          a kapp image (URI or alias, looked up at each start) or an image file;
                             runs `apptainer exec [--nv] --bind <connection dir> [--bind SPEC]... IMAGE python3`
          --python PATH      that interpreter (a venv's python gets the venv activated)
          --display-name T   the name Jupyter shows (default like "Python (venv VENV)")
          --env NAME=VALUE   a variable for the kernel (repeat it), e.g. --env OMP_NUM_THREADS=4
          --force            replace a kernel of that name
          --no-check         do not check that the venv/env/modules/image exist now

        """;

    const string ListHelp = """

        Kernels installed by kjupyter in Jupyter's search path (JUPYTER_PATH, the user's data folder,
        the jupyter on PATH, /usr/local/share/jupyter, /usr/share/jupyter, then each --prefix), with
        a status from a quick check of the files they need.

        """;

    static string Help => $"""
        kjupyter kernel: Jupyter kernels inside kslurm environments

        usage: kjupyter kernel COMMAND [ARGS...]

          install NAME MODE [--display-name T] [--user|--prefix DIR] [--force] [--no-check]
              MODE: --venv VENV | --conda PREFIX | --module M [--module M2 ...] [--purge]
                    | --image URI|ALIAS|FILE [--bind SPEC ...] | --python PATH
          list [--prefix DIR ...] [--json]     kernels installed by kjupyter, and whether they can start
          rm NAME... [--user|--prefix DIR]      remove kernels installed by kjupyter
          run MODE -- CONNECTION_FILE          what the kernelspec runs (Jupyter calls it)

        Run `kjupyter kernel install --help` for the modes.

        """;
}
