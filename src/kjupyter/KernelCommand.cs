using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Json;
using Kslurm.Jupyter;

namespace Kslurm.Tools;

/// <summary>
/// `kjupyter kernel install|list|rm|run`: Jupyter kernels that run inside a saved kpy venv, a
/// conda env, Lmod modules, a kapp image or a given python. `install` writes a kernelspec whose
/// argv calls `kjupyter kernel run <mode options> -- {connection_file}`; `run` sets the
/// environment up at kernel start and replaces itself with ipykernel (Jupyter/Kernels.cs and
/// Jupyter/KernelLauncher.cs do the work).
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

    static int Install(string[] argv)
    {
        if (WantsHelp(argv, InstallUsage, InstallHelp))
            return 0;
        var a = Args.Parse(argv, InstallUsage, flags: [.. KernelTarget.Flags, "--user", "-f|--force", "--no-check"],
            options: [.. KernelTarget.Options, "--display-name", "--env", "--prefix"]);
        a.NoMorePositionals(1, InstallUsage);
        var env = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var spec in a.Values("--env"))
            AddEnv(env, spec);
        if (a.Positionals.Count == 0)
            throw new UsageException("missing NAME (the kernel's name in Jupyter)", InstallUsage);
        var name = Kernelspec.CheckName(a.Positionals[0], InstallUsage);
        var prefix = a.Value("--prefix");
        if (a.Has("--user") && prefix is not null)
            throw new UsageException("--user and --prefix cannot be combined", InstallUsage);
        if (prefix is { Length: 0 })
            throw new UsageException("--prefix needs a folder", InstallUsage);
        var display = a.Value("--display-name");
        if (display is not null && (display.Trim().Length == 0 || display.Any(char.IsControl)))
            throw new UsageException("--display-name needs a one-line text", InstallUsage);
        var target = KernelTarget.From(a, InstallUsage);

        var k = Kernels.Install(name, target, display, env, prefix, a.Has("--force"), a.Has("--no-check"));
        Console.WriteLine($"installed kernel {k.Name} ({k.DisplayName}) in {Paths.Pretty(k.Dir)}");
        if (k.ReplacedForeign)
            Output.Note("kjupyter", $"it replaced a kernel {k.Name} that kjupyter had not installed");
        if (!k.Searched)
            Output.Warn("kjupyter", $"Jupyter does not look in {Paths.Pretty(k.KernelsDir)}: add {Paths.Pretty(Path.GetDirectoryName(k.KernelsDir)!)} to JUPYTER_PATH");
        if (k.ShadowedBy is { } shadow)
            Output.Warn("kjupyter", $"Jupyter will use the kernel {k.Name} in {Paths.Pretty(shadow)} instead of this one");
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

    static int List(string[] argv)
    {
        if (WantsHelp(argv, ListUsage, ListHelp))
            return 0;
        var a = Args.Parse(argv, ListUsage, flags: ["--json"], options: ["--prefix"]);
        a.NoMorePositionals(0, ListUsage);
        var rows = Kernels.List(a.Values("--prefix"));
        if (a.Has("--json"))
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

    static int Remove(string[] argv)
    {
        if (WantsHelp(argv, RmUsage))
            return 0;
        var a = Args.Parse(argv, RmUsage, flags: ["--user"], options: ["--prefix"]);
        var names = a.Positionals.Select(n => Kernelspec.CheckName(n, RmUsage)).ToList();
        if (names.Count == 0)
            throw new UsageException("missing NAME", RmUsage);
        if (a.Has("--user") && a.Value("--prefix") is not null)
            throw new UsageException("--user and --prefix cannot be combined", RmUsage);
        foreach (var r in Kernels.Remove(names, a.Has("--user"), a.Value("--prefix")))
        {
            Console.WriteLine($"removed kernel {r.Spec.Name} ({Paths.Pretty(r.Spec.Dir)})");
            if (r.NowUsed is { } other)
                Output.Note("kjupyter", $"Jupyter now uses the kernel {r.Spec.Name} in {Paths.Pretty(other)}");
        }
        return 0;
    }

    static int RunKernel(string[] argv)
    {
        if (WantsHelp(argv, RunUsage, "  (what a kernelspec written by `kjupyter kernel install` calls; Jupyter gives the connection file)\n"))
            return 0;
        var a = Args.Parse(argv, RunUsage, flags: KernelTarget.Flags, options: KernelTarget.Options);
        var target = KernelTarget.From(a, RunUsage);
        var file = a.OnePositional("CONNECTION_FILE", RunUsage);
        if (!File.Exists(file))
            throw new KslurmException($"connection file {file} does not exist", "Jupyter writes it before starting the kernel: start kernels from Jupyter");
        return KernelLauncher.Run(target, file);
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
