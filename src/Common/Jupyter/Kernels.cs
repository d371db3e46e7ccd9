using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Json;
using Kslurm.Processes;
using Kslurm.Registry;
using Kslurm.Venv;

namespace Kslurm.Jupyter;

/// <summary>What `kjupyter kernel install` did, for the tool to report.</summary>
public sealed record InstalledKernel(string Name, string DisplayName, string Dir, string KernelsDir, bool ReplacedForeign, bool Searched, string? ShadowedBy);

/// <summary>One kernel installed by kjupyter, and whether it can start.</summary>
public sealed record KernelRow(Kernelspec Spec, KernelTarget Target, string Status);

/// <summary>A removed kernel, and the kernel of that name Jupyter uses now, if any.</summary>
public sealed record RemovedKernel(Kernelspec Spec, string? NowUsed);

/// <summary>
/// The kernels kjupyter installs in Jupyter's search path: install (after a cheap check that what
/// the kernel names exists), list with a status, remove. Each kernel is a folder with one
/// kernel.json that appears and disappears whole (made or moved under a hidden name, then renamed).
/// </summary>
public static class Kernels
{
    /// <summary>Writes kernels/NAME/kernel.json for <paramref name="target"/> (user folder, or DIR/share/jupyter with a prefix).</summary>
    public static InstalledKernel Install(string name, KernelTarget target, string? displayName, IReadOnlyDictionary<string, string> env,
        string? prefix, bool force, bool noCheck)
    {
        target = Prepare(target, noCheck);
        var kernels = prefix is null ? JupyterPaths.UserKernels : JupyterPaths.PrefixKernels(prefix);
        var dir = Path.Combine(kernels, name);
        var existing = Directory.Exists(dir) ? Kernelspec.Read(dir) : null;
        if (Directory.Exists(dir) && !force)
            throw new KslurmException($"a kernel called {name} exists already ({Paths.Pretty(dir)}{(existing?.Ours == false ? ", not installed by kjupyter" : "")})",
                $"replace it with --force, or choose another name");

        var kjupyter = Paths.Sibling("kjupyter", "kjupyter");
        var doc = Kernelspec.Build(kjupyter, target, displayName ?? target.DefaultDisplayName, env);
        Write(kernels, name, JsonText.Write(doc) + "\n", existing);
        return new InstalledKernel(name, doc.String("display_name") ?? name, dir, kernels, existing is { Ours: false },
            JupyterPaths.IsSearched(kernels), KernelDirsBefore(kernels).FirstOrDefault(d => Directory.Exists(Path.Combine(d, name))));
    }

    /// <summary>Checks what the kernel names (cheaply: files only) and makes paths absolute.</summary>
    static KernelTarget Prepare(KernelTarget t, bool noCheck)
    {
        switch (t.Mode)
        {
            case KernelMode.Venv:
                VenvName.Check(t.Target);
                if (!noCheck)
                    VenvStore.Current("kjupyter").Require(t.Target);
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

    /// <summary>Kernels installed by kjupyter in Jupyter's search path (then the given prefixes), in Jupyter's order.</summary>
    public static List<KernelRow> List(IEnumerable<string> prefixes)
    {
        var seen = new Dictionary<string, string>(StringComparer.Ordinal); // name -> folder Jupyter uses
        var rows = new List<KernelRow>();
        var checker = new StatusChecker();
        foreach (var kernels in JupyterPaths.KernelDirs(prefixes))
        {
            foreach (var spec in Kernelspec.In(kernels))
            {
                var shadowedBy = seen.GetValueOrDefault(spec.Name);
                seen.TryAdd(spec.Name, spec.Dir);
                if (spec.Target is not { } target)
                    continue;
                rows.Add(new KernelRow(spec, target, shadowedBy is not null ? $"hidden by {Paths.Pretty(shadowedBy)}" : checker.Status(spec, target)));
            }
        }
        return rows;
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

    /// <summary>
    /// Removes kernels installed by kjupyter (user folder, a prefix, or the first of that name in
    /// Jupyter's path). Every name is checked first: nothing is removed when one of them is wrong.
    /// </summary>
    public static List<RemovedKernel> Remove(IReadOnlyList<string> names, bool user, string? prefix)
    {
        IReadOnlyList<string> where = user ? [JupyterPaths.UserKernels]
            : prefix is not null ? [JupyterPaths.PrefixKernels(prefix)]
            : JupyterPaths.KernelDirs();
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
        var removed = new List<RemovedKernel>();
        foreach (var spec in found)
        {
            // rename first: Jupyter never sees a half-deleted kernel
            var gone = AtomicFile.TempBeside(spec.Dir);
            Directory.Move(spec.Dir, gone);
            Directory.Delete(gone, recursive: true);
            removed.Add(new RemovedKernel(spec, where.Select(d => Path.Combine(d, spec.Name)).FirstOrDefault(Directory.Exists)));
        }
        return removed;
    }
}
