using Kslurm.Config;
using Kslurm.Host;

namespace Kslurm.Venv;

/// <summary>A saved venv in permanent storage: `<pipdir>/venv_archives/<name>.tar.zst` (or kslurm's old .tar.gz).</summary>
public sealed record SavedVenv(string Name, string Path, bool Legacy)
{
    public FileInfo File => new(Path);
}

/// <summary>
/// Where venvs live: saved archives under pipdir; loaded ("live") venvs on this node's scratch,
/// one folder per name, so the folder listing is the index.
/// </summary>
public sealed class VenvStore
{
    public VenvStore(Settings settings, Node node)
    {
        Settings = settings;
        Node = node;
    }

    public Settings Settings { get; }
    public Node Node { get; }

    public static VenvStore Current(string tool = "kpy") => new(Settings.Load(tool), Node.Current);

    public string Pipdir => Settings.Get("pipdir")
        ?? throw new KslurmException("pipdir is not set: kpy needs a permanent folder for saved venvs",
            "set it with: kslurm config pipdir DIR (project or permanent storage, e.g. ~/projects/def-lab/$USER/.kslurm)");

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

    public IReadOnlyList<SavedVenv> Saved()
    {
        if (!Directory.Exists(ArchiveDir))
            return [];
        var byName = new SortedDictionary<string, SavedVenv>(StringComparer.Ordinal);
        foreach (var f in Directory.EnumerateFiles(ArchiveDir))
        {
            var file = Path.GetFileName(f);
            if (file.StartsWith('.'))
                continue; // temp files of a save in progress
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
}
