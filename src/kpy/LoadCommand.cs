using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Slurm;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy load NAME [--as NEW] [--all-nodes]`: a saved venv onto this node's scratch (with
/// --all-nodes onto every node of the job, in parallel), then activated.
/// </summary>
static class LoadCommand
{
    const string Usage = "usage: kpy load NAME [--as NEW] [--no-modules] [--all-nodes]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--no-modules", "--all-nodes"], options: ["--as"]);
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
        if (a.Has("--all-nodes"))
            OnEveryNode(store, name, label); // where it is already, it stays as it is
        else if (Directory.Exists(dir))
            throw new KslurmException($"a venv called {label} is already on this node ({dir})",
                $"activate it with `kpy activate {label}`, or load under another name: kpy load {name} --as OTHER");
        else
            LoadInto(store, name, label);
        return Activation.Finish(dir, label, modules: !a.Has("--no-modules"));
    }

    /// <summary>
    /// NAME as LABEL onto every node of the current job: one loader per node, all in parallel, each
    /// reading the archive once from the shared filesystem. Fails if any node failed.
    /// </summary>
    public static void OnEveryNode(VenvStore store, string name, string label)
    {
        if (!store.Node.InJob)
            throw new KslurmException("--all-nodes loads onto the nodes of a job, and this is not inside one",
                $"use it in a kbatch script or a krun session; here: kpy load {name}");
        if (store.Find(name) is null)
            throw new KslurmException($"no saved venv called {name}", SavedHint(store));
        var nodes = EveryNode.Count(Environment.GetEnvironmentVariable);
        if (nodes == 1)
        {
            LoadInto(store, name, label);
            return;
        }
        Output.Note("kpy", $"loading {name} onto the {nodes} nodes of job {store.Node.JobId} ...");
        if (EveryNode.Run(nodes, [Environment.ProcessPath ?? "kpy", "_load", name, label]) != 0)
            throw new KslurmException($"loading {name} failed on at least one of the {nodes} nodes of job {store.Node.JobId}",
                "srun's lines above name the node; the others keep their copy");
    }

    /// <summary>`kpy _load NAME LABEL`: one node's part of --all-nodes (no activation, nothing on stdout).</summary>
    public static int Here(string[] argv)
    {
        if (argv.Length != 2)
            throw new UsageException("usage: kpy _load NAME LABEL");
        LoadInto(VenvStore.Current(), VenvName.Check(argv[0]), VenvName.Check(argv[1]));
        return 0;
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
