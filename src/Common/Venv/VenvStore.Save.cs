using Kslurm.Processes;
using Kslurm.Archive;
using Kslurm.Cli;
using Kslurm.Lmod;
using Kslurm.Files;

namespace Kslurm.Venv;

/// <summary>What a save did: the note to print, and where the venv is now when the save renamed its folder.</summary>
public sealed record SavedResult(string Name, string Archive, long Files, long Size, TimeSpan Took, string? MovedTo)
{
    public string Summary => $"saved {Name}: {Files} files, {Format.Bytes(Size)} in {Took.TotalSeconds:0.0} s -> {Archive}";
}

public sealed partial class VenvStore
{
    /// <summary>
    /// Archives the venv in <paramref name="venvDir"/> (the active one) as NAME (default: its own
    /// name), atomically and under the name's lock: a killed save or a full disk keeps the old
    /// archive. A NAME other than the venv's own renames it first, as the Python kslurm's README
    /// promised: prompt, record, and (for a venv in this store's folder on this node) the folder.
    /// </summary>
    public SavedResult Save(string? venvDir, string? name, bool force, bool image = false)
    {
        if (string.IsNullOrEmpty(venvDir) || !File.Exists(Path.Combine(venvDir, "pyvenv.cfg")))
            throw new KslurmException("no active venv to save", "activate one first (kpy activate NAME, or source DIR/bin/activate)");
        var venv = Path.GetFullPath(venvDir).TrimEnd('/');
        RefuseReadOnly(venv);
        var live = VenvMeta.ReadFrom(venv) ?? new VenvMeta { Name = Path.GetFileName(venv), Modules = ModuleRestore.Loaded() };
        name = VenvName.Check(name ?? live.Name);

        var dest = ArchivePath(name);
        using var _ = LockSaved(name);
        if (File.Exists(dest) && !force)
            throw new KslurmException($"{name} is already saved ({dest}, {File.GetLastWriteTime(dest):yyyy-MM-dd HH:mm})",
                $"run `kpy save -f {name}` to replace it");
        AtomicFile.RemoveStaleTemps(dest); // we hold the name's lock: no save of it is live
        var mksquashfs = ImageTool(name, image); // before anything is written

        var moved = live.Name.Length > 0 && name != live.Name && Rename(ref venv, live, name);

        if (mksquashfs is not null)
            MakeRelocatable(venv, name);
        var (ver, exe) = PythonFinder.FromPyvenvCfg(venv);
        var real = Libc.RealPath(venv) ?? venv;
        var record = new VenvMeta
        {
            Name = name,
            PythonVersion = ver ?? live.PythonVersion,
            BaseInterpreter = exe ?? live.BaseInterpreter,
            Modules = live.Modules,
            Created = live.Created,
            Saved = DateTime.UtcNow,
            OriginalPaths = [.. new[] { venv, real }.Distinct()],
            SavedState = VenvState.Fingerprint(venv),
            SavedAs = name,
            KpyVersion = BuildInfo.Version,
            Unknown = live.Unknown,
        };

        var recordBytes = record.ToBytes();
        var started = DateTime.UtcNow;
        ArchiveStats? stats = null;
        try
        {
            AtomicFile.Write(dest, file =>
            {
                using (var z = new ZstdCompressStream(file, leaveOpen: true))
                    stats = TreeArchive.Write(venv, z, new ArchiveEntry(VenvMeta.FileName, recordBytes), rel => rel == VenvMeta.FileName);
                ArchiveTrailer.Write(file, stats.Entries);
            });
        }
        catch (Exception e) when (e is IOException or KslurmException { InnerException: IOException })
        {
            // the first failure (e.g. "No space left on device"), not what it caused further up
            throw new KslurmException($"could not save {name}: {e.GetBaseException().Message}",
                File.Exists(dest) ? "the previously saved archive is unchanged" : null);
        }
        var took = DateTime.UtcNow - started;

        live.SavedState = record.SavedState;
        live.SavedAs = name;
        if (live.Name.Length == 0) live.Name = name;
        live.WriteTo(venv);
        if (mksquashfs is not null)
            SaveImage(mksquashfs, venv, name, recordBytes); // the archive is saved: an error here says so
        return new SavedResult(name, dest, stats!.Files, new FileInfo(dest).Length, took, moved ? venv : null);
    }

    /// <summary>How many entries the saved archive holds, counted when it was written: in its
    /// trailer (<see cref="ArchiveTrailer"/>), or in the record of archives saved before that.</summary>
    public static long? Entries(SavedVenv saved, VenvMeta meta) => ArchiveTrailer.ReadEntries(saved.Path) ?? meta.Files;

    /// <summary>
    /// Renames the live venv OLD to NAME before it is archived: in this store's folder on this node
    /// the folder moves (and every path in it with it), elsewhere only the prompt and record change.
    /// Returns whether the folder moved.
    /// </summary>
    bool Rename(ref string venv, VenvMeta live, string name)
    {
        var old = live.Name;
        var target = venv;
        FileLock? lockNew = null;
        if (Path.GetDirectoryName(venv) == Path.GetFullPath(LiveRoot).TrimEnd('/') && Path.GetFileName(venv) == old)
        {
            target = LivePath(name);
            lockNew = LockLive(name);
            if (Path.Exists(target))
            {
                lockNew.Dispose();
                throw AlreadyHere(name, target, "save under another name, or remove that venv first");
            }
        }
        using (lockNew)
        {
            var real = Libc.RealPath(venv) ?? venv;
            var relocation = new VenvRelocation([.. new[] { venv, real }.Distinct()], target, old, name);
            if (target != venv)
                Directory.Move(venv, target); // one rename(2): same parent folder
            VenvRelocation.RelocateInPlace(target, relocation);
        }
        var moved = target != venv;
        venv = target;
        live.Name = name;
        live.WriteTo(venv);
        Note(moved ? $"renamed {old} to {name} ({venv})" : $"renamed {old} to {name}");
        return moved;
    }
}
