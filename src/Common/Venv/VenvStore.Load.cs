using Kslurm.Archive;
using Kslurm.Cli;
using Kslurm.Lmod;
using Kslurm.Files;
using Kslurm.Slurm;
using Kslurm.Host;

namespace Kslurm.Venv;

public sealed partial class VenvStore
{
    /// <summary>
    /// The saved venv NAME on this node's scratch as LABEL (default NAME); returns its folder.
    /// Safe to call at once from several processes of one node, and on every node of a job (each
    /// node has its own scratch): under the label's lock the second caller finds the first's copy
    /// and uses it. <paramref name="reuse"/> false: a venv of that label already here is an error.
    /// </summary>
    public string Load(string name, string? label = null, bool reuse = true, bool unpack = false)
    {
        VenvName.Check(name);
        label = VenvName.Check(label ?? name);
        var dir = LivePath(label);
        if (!reuse && Directory.Exists(dir))
            throw AlreadyHere(label, dir, $"activate it with `kpy activate {label}`, or load under another name: kpy load {name} --as OTHER");
        if (reuse && Directory.Exists(dir))
            return dir;
        var saved = Require(name);
        using var _ = LockLive(label);
        if (Directory.Exists(dir))
            return dir; // another process loaded it while we waited
        RemoveStaleTempFolders(dir); // an interrupted load; we hold the lock
        ClearDeadMount(label, dir);
        var meta = ReadRecord(saved);
        CheckInterpreter(meta, name);
        if (!unpack && Mount(saved, label, dir))
            return dir;
        var started = DateTime.UtcNow;
        Note(label == name ? $"unpacking {name} ..." : $"unpacking {name} as {label} ...");
        Unpack(saved, meta, dir, label, unpacked =>
        {
            var live = meta ?? new VenvMeta { Name = label, Modules = ModuleRestore.Loaded() };
            live.Name = label;
            live.SavedAs = name;
            if (meta is null)
                live.SavedState = VenvState.Fingerprint(unpacked); // an old archive: as saved = as unpacked
            live.OriginalPaths = [];
            return live;
        });
        Note($"{label} ready at {dir} ({(DateTime.UtcNow - started).TotalSeconds:0.0} s)");
        return dir;
    }

    /// <summary>
    /// NAME as LABEL onto every node of the current job: one loader per node (`kpy _load`), all in
    /// parallel, each reading the archive once from the shared filesystem; a node that has it
    /// already keeps it. Fails if any node failed. Returns this node's folder.
    /// </summary>
    public string LoadOnEveryNode(string name, string? label = null, bool unpack = false)
    {
        VenvName.Check(name);
        label = VenvName.Check(label ?? name);
        if (!Node.InJob)
            throw new KslurmException("--all-nodes loads onto the nodes of a job, and this is not inside one",
                $"use it in a kbatch script or a krun session; here: kpy load {name}");
        Require(name);
        var nodes = EveryNode.Count(Environment.GetEnvironmentVariable);
        if (nodes == 1)
            return Load(name, label, unpack: unpack);
        Note($"loading {name} onto the {nodes} nodes of job {Node.JobId} ...");
        // unpacked, never mounted: squashfuse would belong to the loaders' job step, which ends now
        if (EveryNode.Run(nodes, [Paths.Sibling("kpy", Tool), "_load", name, label, "--unpack"]) != 0)
            throw new KslurmException($"loading {name} failed on at least one of the {nodes} nodes of job {Node.JobId}",
                "srun's lines above name the node; the others keep their copy");
        return LivePath(label);
    }

    /// <summary>A saved venv unpacked into a folder of the user's choosing (that must not exist), working there.</summary>
    public string Export(string name, string target)
    {
        var saved = Require(name);
        target = Path.GetFullPath(target);
        if (Path.Exists(target))
            throw new KslurmException($"{target} already exists", "choose a new folder with --path DIR");
        var meta = ReadRecord(saved);
        CheckInterpreter(meta, name);
        Note($"exporting {name} to {target} ...");
        Unpack(saved, meta, target, null, _ =>
        {
            var live = meta ?? new VenvMeta { Name = name };
            live.SavedAs = name;
            live.OriginalPaths = [];
            return live;
        });
        return target;
    }

    /// <summary>Deletes a saved venv, under its lock (a save in progress finishes first); returns the file removed.</summary>
    public string Remove(string name)
    {
        var saved = Require(name);
        using var _ = LockSaved(saved.Name);
        File.Delete(saved.Path);
        RemoveImage(saved.Name);
        AtomicFile.SyncDirectory(ArchiveDir);
        return saved.Path;
    }

    /// <summary>The record inside an archive (null for the Python kslurm's .tar.gz archives).</summary>
    public static VenvMeta? ReadRecord(SavedVenv saved)
    {
        if (saved.Legacy)
            return null;
        var bytes = ArchiveFile.ReadLeading(saved.Path, VenvMeta.FileName)
            ?? throw new KslurmException($"{saved.Path} is not a kpy archive (no {VenvMeta.FileName} record at its start)",
                "it may be damaged; save the venv again");
        var meta = VenvMeta.Parse(bytes, saved.Path);
        // The folders it was saved from are what load rewrites: kpy save always records one.
        if (meta.OriginalPaths.Count == 0)
            throw Damaged(saved, "its record names no folder it was saved from");
        foreach (var p in meta.OriginalPaths)
            if (!p.StartsWith('/') || p.Trim('/').Length == 0 || p.Contains('\0'))
                throw Damaged(saved, $"its record says it was saved from '{p.Replace("\0", "\\0")}', not an absolute folder");
        return meta;
    }

    static KslurmException Damaged(SavedVenv saved, string why)
        => new($"{saved.Path}: damaged archive: {why}", "the file is corrupt or was not written by kpy; save the venv again");

    /// <summary>The venv needs its base interpreter on this node; name the module that provides it.</summary>
    static void CheckInterpreter(VenvMeta? meta, string name)
    {
        if (meta?.BaseInterpreter is not { } exe || File.Exists(exe))
            return;
        var module = meta.Modules.FirstOrDefault(m => m.StartsWith("python/", StringComparison.OrdinalIgnoreCase))
            ?? (meta.PythonVersion is { } v ? $"python/{string.Join('.', v.Split('.').Take(2))}" : "python");
        throw new KslurmException($"{name} runs on {exe}, which is not on this node",
            $"load its Python first: module load {module}" + (meta.Modules.Count > 0 ? $" (modules when it was built: {string.Join(' ', meta.Modules)})" : ""));
    }

    /// <summary>
    /// Unpacks a saved venv at a new path, rewriting the old path on the way (one pass), into a
    /// hidden temporary folder that is renamed into place only when everything worked: a failed or
    /// interrupted load leaves nothing half-registered. The venv's own record (what
    /// <paramref name="record"/> makes of the unpacked folder) is written into that folder before
    /// the rename, plainly: the copy is recreated from the archive if the node crashes, so
    /// nothing in it is worth an fsync (one cost 40 ms, a fifth of a small load).
    /// </summary>
    static void Unpack(SavedVenv saved, VenvMeta? meta, string target, string? newName, Func<string, VenvMeta> record)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(target)!);
        var temp = TempFolder(target);
        Directory.CreateDirectory(temp);
        try
        {
            VenvRelocation relocation;
            try
            {
                relocation = meta is null
                    ? new VenvRelocation([target], target)    // old kslurm archive: the old path is learnt after unpacking
                    : new VenvRelocation(meta.OriginalPaths, target, meta.Name, newName);
            }
            catch (ArgumentException e)
            {
                // The record was checked when read: what is left is the new path (a quote, '$', ...).
                throw new KslurmException($"cannot unpack {saved.Name} at {target}: {e.Message.Split(" (Parameter")[0]}",
                    "choose a folder whose path has no quote, backslash, '$', '`', '!' or ':'");
            }
            using (var tar = ArchiveFile.OpenRead(saved.Path))
            {
                TreeArchive.Extract(tar, temp, new ExtractOptions
                {
                    ArchiveName = saved.Path,
                    Transform = meta is null ? null : (path, content) => relocation.RewriteFile(path, content.Span),
                    TransformLarge = meta is null ? null : relocation.RewriteFile,
                    Symlink = relocation.RewriteSymlink,
                    Exclude = rel => rel == VenvMeta.FileName, // replaced below
                });
            }
            if (meta is null && VenvRelocation.GuessOldPath(temp) is { } old)
                VenvRelocation.RelocateInPlace(temp, new VenvRelocation([old], target, null, newName));
            File.WriteAllBytes(Path.Combine(temp, VenvMeta.FileName), record(temp).ToBytes());
            Directory.Move(temp, target);
        }
        catch (InvalidDataException e)
        {
            DeleteTree(temp);
            throw new KslurmException($"{saved.Path} is damaged: {e.Message}", "nothing was unpacked; save the venv again from a working copy");
        }
        catch
        {
            DeleteTree(temp);
            throw;
        }
    }
}
