using Kslurm.Archive;
using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy save [-f] [NAME]`: archive the active venv into permanent storage, atomically. A NAME
/// other than the venv's own renames it first, as the Python kslurm's README promised: prompt,
/// record, and (for a venv in kpy's folder on this node) the folder itself.
/// </summary>
static class SaveCommand
{
    const string Usage = "usage: kpy save [-f] [NAME]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-f|--force"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        a.NoMorePositionals(1, Usage);
        var venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV");
        if (string.IsNullOrEmpty(venv) || !File.Exists(Path.Combine(venv, "pyvenv.cfg")))
            throw new KslurmException("no active venv to save", "activate one first (kpy activate NAME, or source DIR/bin/activate)");
        venv = Path.GetFullPath(venv).TrimEnd('/');
        var live = VenvMeta.ReadFrom(venv) ?? new VenvMeta { Name = Path.GetFileName(venv), Modules = PythonFinder.LoadedModules() };
        var name = VenvName.Check(a.Positionals.Count > 0 ? a.Positionals[0] : live.Name);

        var store = VenvStore.Current();
        var dest = store.ArchivePath(name);
        Directory.CreateDirectory(store.ArchiveDir);
        // One save of a name at a time: two jobs saving the same name never interleave.
        using var _ = FileLock.Acquire(Path.Combine(store.ArchiveDir, $".{name}.lock"), TimeSpan.FromMinutes(30), m => Output.Note("kpy", m));
        if (File.Exists(dest) && !a.Has("--force"))
            throw new KslurmException($"{name} is already saved ({dest}, {File.GetLastWriteTime(dest):yyyy-MM-dd HH:mm})",
                $"run `kpy save -f {name}` to replace it");
        foreach (var stale in Directory.EnumerateFiles(store.ArchiveDir, $".{name}.tar.zst.tmp-*"))
            AtomicFile.TryDelete(stale); // left by a save that was killed; we hold the lock, so none is live

        var moved = live.Name.Length > 0 && name != live.Name && Rename(store, ref venv, live, name);

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
            Files = CountEntries(venv) + (File.Exists(Path.Combine(venv, VenvMeta.FileName)) ? 0 : 1), // + the record itself
            SavedState = VenvState.Fingerprint(venv),
            SavedAs = name,
            KpyVersion = BuildInfo.Version,
        };

        var started = DateTime.UtcNow;
        ArchiveStats stats;
        try
        {
            ArchiveStats? s = null;
            AtomicFile.Write(dest, file =>
            {
                using var z = new ZstdCompressStream(file, leaveOpen: true);
                s = TreeArchive.Write(venv, z, new ArchiveEntry(VenvMeta.FileName, record.ToBytes()), rel => rel == VenvMeta.FileName);
            });
            stats = s!;
        }
        catch (Exception e) when (e is IOException or KslurmException { InnerException: IOException })
        {
            // the first failure (e.g. "No space left on device"), not what it caused further up
            throw new KslurmException($"could not save {name}: {e.GetBaseException().Message}",
                File.Exists(dest) ? "the previously saved archive is unchanged" : null);
        }

        live.SavedState = record.SavedState;
        live.SavedAs = name;
        if (live.Name.Length == 0) live.Name = name;
        live.WriteTo(venv);
        var size = new FileInfo(dest).Length;
        Output.Note("kpy", $"saved {name}: {stats.Files} files, {Format.Bytes(size)} in {(DateTime.UtcNow - started).TotalSeconds:0.0} s -> {dest}");
        if (moved)
        {
            // The shell function re-activates the folder printed; a shell without it still has
            // the old folder in PATH.
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KSLURM_KPY_SHELL")))
                Console.Out.Write(venv + "\n");
            else
                Output.Note("kpy", $"activate it again with: kpy activate {name}");
        }
        return 0;
    }

    /// <summary>
    /// Renames the live venv OLD to NAME before it is archived: in kpy's folder on this node the
    /// folder moves (and every path in it with it), elsewhere only the prompt and record change.
    /// Returns whether the folder moved.
    /// </summary>
    static bool Rename(VenvStore store, ref string venv, VenvMeta live, string name)
    {
        var old = live.Name;
        var target = venv;
        IDisposable? lockNew = null;
        if (Path.GetDirectoryName(venv) == Path.GetFullPath(store.LiveRoot).TrimEnd('/') && Path.GetFileName(venv) == old)
        {
            target = store.LivePath(name);
            lockNew = FileLock.Acquire(Path.Combine(store.LiveRoot, $".{name}.lock"), TimeSpan.FromMinutes(30), m => Output.Note("kpy", m));
            if (Path.Exists(target))
            {
                lockNew.Dispose();
                throw new KslurmException($"a venv called {name} is already on this node ({target})",
                    $"save under another name, or remove that venv first");
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
        Output.Note("kpy", moved ? $"renamed {old} to {name} ({venv})" : $"renamed {old} to {name}");
        return moved;
    }

    // Entries as the archive will hold them: symlinks count once and are not followed.
    static long CountEntries(string dir)
    {
        long n = 0;
        foreach (var e in new DirectoryInfo(dir).EnumerateFileSystemInfos("*", new EnumerationOptions { AttributesToSkip = 0 }))
        {
            n++;
            if (e is DirectoryInfo d && e.LinkTarget is null)
                n += CountEntries(d.FullName);
        }
        return n;
    }
}
