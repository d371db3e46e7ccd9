using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>`kpy load NAME [--as NEW]`: a saved venv onto this node's scratch, then activated.</summary>
static class LoadCommand
{
    const string Usage = "usage: kpy load NAME [--as NEW] [--no-modules]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--no-modules"], options: ["--as"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        a.NoMorePositionals(1, Usage);
        var store = VenvStore.Current();
        if (a.Positionals.Count == 0)
            throw new UsageException("missing NAME", SavedHint(store));
        var name = VenvName.Check(a.Positionals[0]);
        var label = VenvName.Check(a.Value("--as") ?? name);
        var dir = store.LivePath(label);
        if (Directory.Exists(dir))
            throw new KslurmException($"a venv called {label} is already on this node ({dir})",
                $"activate it with `kpy activate {label}`, or load under another name: kpy load {name} --as OTHER");
        LoadInto(store, name, label);
        return Activation.Finish(dir, label, modules: !a.Has("--no-modules"));
    }

    /// <summary>Loads NAME as LABEL unless another process did it first (then that copy is used).</summary>
    public static string LoadInto(VenvStore store, string name, string label)
    {
        var saved = store.Find(name) ?? throw new KslurmException($"no saved venv called {name}", SavedHint(store));
        var dir = store.LivePath(label);
        using var _ = FileLock.Acquire(Path.Combine(store.LiveRoot, $".{label}.lock"), TimeSpan.FromMinutes(30), m => Output.Note("kpy", m));
        if (Directory.Exists(dir))
            return dir;
        foreach (var stale in Directory.EnumerateDirectories(store.LiveRoot, $".{label}.tmp-*"))
            CreateCommand.TryDelete(stale); // an interrupted load; we hold the lock
        var meta = Unpacker.ReadMeta(saved);
        Unpacker.CheckInterpreter(meta, name);
        var started = DateTime.UtcNow;
        Output.Note("kpy", label == name ? $"unpacking {name} ..." : $"unpacking {name} as {label} ...");
        Unpacker.Unpack(saved, meta, dir, label);
        var live = meta ?? new VenvMeta { Name = label, Modules = PythonFinder.LoadedModules() };
        live.Name = label;
        live.SavedAs = name;
        if (meta is null)
            live.SavedState = VenvState.Fingerprint(dir); // an old archive: as saved = as unpacked
        live.OriginalPaths = [];
        live.WriteTo(dir);
        Output.Note("kpy", $"{label} ready at {dir} ({(DateTime.UtcNow - started).TotalSeconds:0.0} s)");
        return dir;
    }

    /// <summary>The one NAME argument of info/rm/export, and the saved venv it names.</summary>
    public static (VenvStore Store, SavedVenv Saved) SavedArgument(IReadOnlyList<string> positionals, string usage)
    {
        if (positionals.Count != 1)
            throw new UsageException(positionals.Count == 0 ? "missing NAME" : $"unexpected argument '{positionals[1]}'", usage);
        var store = VenvStore.Current();
        var name = VenvName.Check(positionals[0]);
        return (store, store.Find(name) ?? throw new KslurmException($"no saved venv called {name}", SavedHint(store)));
    }

    public static string SavedHint(VenvStore store)
    {
        var saved = store.Saved();
        return saved.Count == 0
            ? $"nothing is saved in {store.ArchiveDir} yet (kpy save NAME)"
            : "saved venvs: " + string.Join(", ", saved.Select(s => s.Name));
    }
}
