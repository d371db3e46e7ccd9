using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Files;
using Kslurm.Host;

namespace Kslurm.Venv;

/// <summary>A saved venv in permanent storage: `<pipdir>/venv_archives/<name>.tar.zst` (or kslurm's old .tar.gz).</summary>
public sealed record SavedVenv(string Name, string Path, bool Legacy)
{
    public FileInfo File => new(Path);
}

/// <summary>
/// Where venvs live, and the only code that reads or writes there: saved archives under pipdir;
/// loaded ("live") venvs on this node's scratch, one folder per name, so the folder listing is the
/// index. It owns the protocol of both places: names, per-name locks (`.NAME.lock`), temporary
/// names (`.NAME...tmp-*`, hidden from listings) and the removal of what a killed process left.
/// Save, load, export and remove are in the VenvStore.*.cs files beside this one.
/// </summary>
public sealed partial class VenvStore
{
    static readonly TimeSpan LockWait = TimeSpan.FromMinutes(30);

    public VenvStore(Settings settings, Node node, string tool = "kpy")
    {
        Settings = settings;
        Node = node;
        Tool = tool;
    }

    public Settings Settings { get; }
    public Node Node { get; }

    /// <summary>The program that speaks in notes (waiting for a lock, unpacking, ...).</summary>
    public string Tool { get; }

    public static VenvStore Current(string tool = "kpy") => new(Settings.Load(tool), Node.Current, tool);

    public string Pipdir => Settings.Pipdir;

    public string ArchiveDir => Path.Combine(Pipdir, "venv_archives");

    public string Wheelhouse => Path.Combine(Pipdir, "wheels");

    public string ArchivePath(string name) => Path.Combine(ArchiveDir, VenvName.Check(name) + ".tar.zst");

    /// <summary>The saved venv of that name, the new format first.</summary>
    public SavedVenv? Find(string name)
    {
        VenvName.Check(name);
        var zst = Path.Combine(ArchiveDir, name + ".tar.zst");
        if (File.Exists(zst))
            return new SavedVenv(name, zst, false);
        var gz = Path.Combine(ArchiveDir, name + ".tar.gz");
        return File.Exists(gz) ? new SavedVenv(name, gz, true) : null;
    }

    /// <summary>The saved venv of that name, or the one error every tool gives for a name not saved.</summary>
    public SavedVenv Require(string name)
        => Find(name) ?? throw new KslurmException($"no saved venv called {name}", SavedHint(name));

    /// <summary>What is saved, for a hint: the names, or how to save the first one.</summary>
    public string SavedHint(string name = "NAME")
    {
        var saved = Saved();
        return saved.Count == 0
            ? $"nothing is saved in {ArchiveDir} yet; save a venv with it active: kpy save {name}"
            : "saved venvs: " + string.Join(", ", saved.Select(s => s.Name));
    }

    public IReadOnlyList<SavedVenv> Saved()
    {
        if (!Directory.Exists(ArchiveDir))
            return [];
        var byName = new SortedDictionary<string, SavedVenv>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(ArchiveDir))
        {
            var file = Path.GetFileName(f);
            if (file.StartsWith('.'))
                continue; // locks, and temp files of a save in progress
            if (file.EndsWith(".tar.zst", StringComparison.Ordinal))
                byName[file[..^8]] = new SavedVenv(file[..^8], f, false);
            else if (file.EndsWith(".tar.gz", StringComparison.Ordinal) && !byName.ContainsKey(file[..^7]))
                byName[file[..^7]] = new SavedVenv(file[..^7], f, true);
        }
        return [.. byName.Values];
    }

    /// <summary>
    /// Node-local scratch for live venvs: $SLURM_TMPDIR/kpy in a job, else a private folder under
    /// $TMPDIR (login nodes share /tmp between users).
    /// </summary>
    public string LiveRoot
    {
        get
        {
            var root = Node.ScratchDir is { } scratch
                ? Path.Combine(scratch, "kpy")
                : Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } t ? t : "/tmp", $"kpy-{Environment.UserName}");
            if (!Directory.Exists(root))
                Directory.CreateDirectory(root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            return root;
        }
    }

    public string LivePath(string name) => Path.Combine(LiveRoot, VenvName.Check(name));

    public IReadOnlyList<string> Live()
        => Directory.Exists(LiveRoot)
            ? [.. Directory.EnumerateDirectories(LiveRoot)
                .Where(d => !Path.GetFileName(d).StartsWith('.') && File.Exists(Path.Combine(d, "pyvenv.cfg")))
                .Select(d => Path.GetFileName(d)!).Order(StringComparer.Ordinal)]
            : [];

    /// <summary>The folder of a venv on this node, or an error saying where it can come from.</summary>
    public string RequireLive(string name)
    {
        var live = Live();
        if (live.Contains(VenvName.Check(name)))
            return LivePath(name);
        var hint = Settings.Get("pipdir") is not null && Find(name) is not null
            ? $"it is saved: kpy load {name}"
            : $"create it with: kpy create {name}";
        throw new KslurmException($"no venv called {name} on this node" + (live.Count > 0 ? $" (here: {string.Join(", ", live)})" : ""), hint);
    }

    KslurmException AlreadyHere(string name, string dir, string hint)
        => new($"a venv called {name} is already on this node ({dir})", hint);

    // ---- the protocol: locks, temporary names, leftovers ---------------------------------------

    /// <summary>One writer of a saved name at a time (save, rm): two jobs never interleave.</summary>
    FileLock LockSaved(string name)
    {
        Directory.CreateDirectory(ArchiveDir);
        return FileLock.Acquire(Path.Combine(ArchiveDir, $".{name}.lock"), LockWait, Note);
    }

    /// <summary>One process making a live venv of that name on this node at a time (load, create, rename).</summary>
    FileLock LockLive(string name) => FileLock.Acquire(Path.Combine(LiveRoot, $".{name}.lock"), LockWait, Note);

    /// <summary>A hidden folder beside <paramref name="target"/> that becomes it by one rename.</summary>
    static string TempFolder(string target)
        => Path.Combine(Path.GetDirectoryName(target)!, $".{Path.GetFileName(target)}.tmp-{Environment.ProcessId}-{Random.Shared.Next():x6}");

    /// <summary>Temp folders of loads that were killed; call only under the target's lock.</summary>
    static void RemoveStaleTempFolders(string target)
    {
        var parent = Path.GetDirectoryName(target)!;
        if (Directory.Exists(parent))
            foreach (var stale in Directory.EnumerateDirectories(parent, $".{Path.GetFileName(target)}.tmp-*"))
                DeleteTree(stale);
    }

    internal static void DeleteTree(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    void Note(string message) => Output.Note(Tool, message);
}
