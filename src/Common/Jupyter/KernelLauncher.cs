using Kslurm.Config;
using Kslurm.Host;
using Kslurm.Lmod;
using Kslurm.Processes;
using Kslurm.Registry;
using Kslurm.Venv;

namespace Kslurm.Jupyter;

/// <summary>
/// `kjupyter kernel run`: prepares the environment of one mode, then replaces itself with the
/// kernel (execve), so Jupyter's signals (interrupt, shutdown) go straight to the kernel and no
/// wrapper process stays behind. At most one helper runs before the kernel: `kpy` (venv), `bash`
/// (conda hooks, Lmod), or `apptainer`; each of them ends by exec'ing the next step too.
/// </summary>
public static class KernelLauncher
{
    /// <summary>
    /// Runs ipykernel_launcher the way `python -m ipykernel_launcher` does (runpy's
    /// _run_module_as_main is what -m calls), after a check that turns a missing ipykernel into a
    /// one-line error in Jupyter's log. Takes two leading arguments, where and hint, which are
    /// removed before the kernel parses its own (-f FILE). No user text is part of this script.
    /// </summary>
    public const string Bootstrap = """
        import sys
        from importlib.util import find_spec
        where, hint = sys.argv[1:3]
        del sys.argv[1:3]
        if find_spec("ipykernel_launcher") is None:
            sys.stderr.write("kjupyter: error: ipykernel is not installed in %s (%s cannot import ipykernel_launcher)\nkjupyter: hint: %s\n" % (where, sys.executable, hint))
            sys.exit(1)
        import runpy
        runpy._run_module_as_main("ipykernel_launcher")
        """;

    // Sources the env's activate.d hooks (with no positional parameters, as in a shell), then execs.
    // $1 = number of hooks, then the hooks, then the kernel command.
    const string CondaScript = """
        __kj_n=$1; shift
        __kj_hooks=("${@:1:__kj_n}"); shift "$__kj_n"
        __kj_cmd=("$@"); set --
        for __kj_hook in "${__kj_hooks[@]}"; do . "$__kj_hook"; done
        unset __kj_n __kj_hooks __kj_hook
        exec "${__kj_cmd[@]}"
        """;

    // $1 = lmod command, $2 = 1 to purge first, $3 = number of modules, then the modules, then the kernel command.
    const string ModuleScript = """
        __kj_lmod=$1 __kj_purge=$2 __kj_n=$3; shift 3
        __kj_mods=("${@:1:__kj_n}"); shift "$__kj_n"
        if [ "$__kj_purge" = 1 ]; then
          eval "$("$__kj_lmod" bash purge)" || { printf 'kjupyter: error: module purge failed (Lmod says why above)\n' >&2; exit 1; }
        fi
        if [ "$__kj_n" -gt 0 ]; then
          eval "$("$__kj_lmod" bash load "${__kj_mods[@]}")" || {
            printf 'kjupyter: error: cannot load module(s) %s (Lmod says why above)\nkjupyter: hint: check the names with: module avail, module spider NAME\n' "${__kj_mods[*]}" >&2; exit 1; }
        fi
        command -v python3 >/dev/null || {
          printf 'kjupyter: error: no python3 on PATH after loading %s\nkjupyter: hint: load a module that provides python3 and ipykernel\n' "${__kj_mods[*]:-no module}" >&2; exit 1; }
        unset __kj_lmod __kj_purge __kj_n __kj_mods
        exec "$@"
        """;

    /// <summary>Sets up the target's environment and execs the kernel; returns only by throwing.</summary>
    public static int Run(KernelTarget t, string connectionFile)
    {
        var file = Path.GetFullPath(connectionFile);
        string[] kernel(string python, string where, string hint) => [python, "-c", Bootstrap, where, hint, "-f", file];
        switch (t.Mode)
        {
            case KernelMode.Venv:
            {
                var name = VenvName.Check(t.Target);
                var hint = $"install it and save the venv again: kpy exec {name} -- pip install ipykernel; kpy exec {name} -- kpy save -f {name}";
                // kpy loads the saved venv onto this node's scratch when it is not there yet, then execs
                return ChildProcess.Exec([Kpy(), "exec", name, "--", .. kernel("python", $"the venv {name}", hint)]);
            }
            case KernelMode.Conda:
            {
                var prefix = t.Target;
                if (CondaActivation.Problem(prefix) is { } problem)
                    throw new KslurmException(problem, "reinstall the kernel for an existing environment: kjupyter kernel install NAME --conda PREFIX --force");
                var env = CondaActivation.Variables(prefix, Environment.GetEnvironmentVariable);
                var cmd = kernel(Path.Combine(prefix, "bin", "python"), $"the conda environment {prefix}", $"install it: conda install -p {prefix} ipykernel");
                var hooks = CondaActivation.Hooks(prefix);
                if (hooks.Count == 0)
                    return ChildProcess.Exec(cmd, env); // nothing needs a shell
                return ChildProcess.Exec([Bash(), "-c", CondaScript, "kjupyter-conda", hooks.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), .. hooks, .. cmd], env);
            }
            case KernelMode.Module:
            {
                var what = t.Modules.Count == 0 ? "the purged module environment" : "the modules " + string.Join(' ', t.Modules);
                var cmd = kernel("python3", what, "load a module that provides ipykernel, or install it for that python: python3 -m pip install --user ipykernel");
                return ChildProcess.Exec([Bash(), "-c", ModuleScript, "kjupyter-module", Lmod(), t.Purge ? "1" : "0",
                    t.Modules.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), .. t.Modules, .. cmd]);
            }
            case KernelMode.Image:
            {
                var image = ResolveImage(t.Target);
                var argv = new List<string> { ContainerRuntime.Find(), "exec" };
                if (HasGpu(Environment.GetEnvironmentVariable))
                    argv.Add("--nv");
                // the connection file must be visible inside (it may be under /run/user, or --contain may be in force)
                argv.AddRange(["--bind", Path.GetDirectoryName(file)!]);
                foreach (var b in t.Binds)
                    argv.AddRange(["--bind", b]);
                argv.Add(image);
                argv.AddRange(kernel("python3", $"the image {t.Target}", "use an image that has ipykernel (e.g. a jupyter/*-notebook image), or build one with it"));
                return ChildProcess.Exec(argv);
            }
            default:
            {
                var python = t.Target;
                if (ChildProcess.Which(python) is null)
                    throw new KslurmException($"{python} is not an executable (any more)",
                        "reinstall the kernel with an existing python: kjupyter kernel install NAME --python PATH --force");
                return ChildProcess.Exec(kernel(python, python, $"install it: {python} -m pip install ipykernel"), PythonEnvironment(python));
            }
        }
    }

    /// <summary>A python inside a venv gets the venv activated (PATH, VIRTUAL_ENV), so the kernel's `!pip` is the venv's.</summary>
    public static Dictionary<string, string?> PythonEnvironment(string python)
    {
        var env = new Dictionary<string, string?> { ["PYTHONHOME"] = null };
        var bin = Path.GetDirectoryName(python)!;
        var venv = Path.GetDirectoryName(bin);
        if (venv is not null && File.Exists(Path.Combine(venv, "pyvenv.cfg")))
        {
            env["VIRTUAL_ENV"] = venv;
            env["PATH"] = bin + ":" + Environment.GetEnvironmentVariable("PATH");
        }
        return env;
    }

    /// <summary>A GPU is allocated to this job (step): apptainer then needs --nv to see it.</summary>
    public static bool HasGpu(Func<string, string?> env)
        => new[] { "CUDA_VISIBLE_DEVICES", "SLURM_JOB_GPUS", "SLURM_STEP_GPUS" }
            .Any(v => env(v) is { Length: > 0 } s && s is not ("NoDevFiles" or "-1"));

    /// <summary>
    /// An image file: an absolute or ./relative path as is; anything else is a URI or alias
    /// pulled by kapp, looked up in the store (never the network).
    /// </summary>
    public static string ResolveImage(string value)
    {
        if (IsImageFile(value))
            return File.Exists(value) ? value : throw new KslurmException($"image {value} does not exist");
        var pipdir = Settings.Load("kjupyter").Get("pipdir")
            ?? throw new KslurmException("pipdir is not set: kapp's images live under <pipdir>/containers",
                "set it with: kslurm config pipdir DIR, or give the image file's path");
        var store = new ImageStore(pipdir);
        var uriPath = store.Find(value)
            ?? throw new KslurmException($"no pulled image called {value}", $"pull it first: kapp pull {value}");
        return ImageStore.ImageFile(uriPath)
            ?? throw new KslurmException($"{value} points to an image that is gone ({uriPath})", $"pull it again: kapp pull -f {value}");
    }

    public static bool IsImageFile(string value) => value.StartsWith('/') || value.StartsWith("./", StringComparison.Ordinal) || value.StartsWith("../", StringComparison.Ordinal);

    static string Kpy() => Paths.Sibling("kpy", "kjupyter");

    static string Bash() => ChildProcess.Which("bash") ?? (File.Exists("/bin/bash") ? "/bin/bash" : throw new KslurmException("bash not found", "the conda hooks and Lmod need bash"));

    /// <summary>Lmod's command, found as kpy finds it (ModuleRestore.FindLmod).</summary>
    public static string Lmod() => ModuleRestore.FindLmod()
        ?? throw new KslurmException("Lmod not found (LMOD_CMD is not set, or names no file)",
            "start Jupyter where `module` works, or set LMOD_CMD to the lmod command (…/lmod/libexec/lmod)");
}
