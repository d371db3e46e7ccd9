using Kslurm.Archive;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// Unpacks a saved venv at a new path, rewriting the old path on the way (one pass), into a
/// hidden temporary folder that is renamed into place only when everything worked: a failed or
/// interrupted load leaves nothing half-registered.
/// </summary>
static class Unpacker
{
    /// <summary>The record inside an archive (null for the Python kslurm's .tar.gz archives).</summary>
    public static VenvMeta? ReadMeta(SavedVenv saved)
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
    public static void CheckInterpreter(VenvMeta? meta, string name)
    {
        if (meta?.BaseInterpreter is not { } exe || File.Exists(exe))
            return;
        var module = meta.Modules.FirstOrDefault(m => m.StartsWith("python/", StringComparison.OrdinalIgnoreCase))
            ?? (meta.PythonVersion is { } v ? $"python/{string.Join('.', v.Split('.').Take(2))}" : "python");
        throw new KslurmException($"{name} runs on {exe}, which is not on this node",
            $"load its Python first: module load {module}" + (meta.Modules.Count > 0 ? $" (modules when it was built: {string.Join(' ', meta.Modules)})" : ""));
    }

    public static void Unpack(SavedVenv saved, VenvMeta? meta, string target, string? newName)
    {
        var parent = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(parent);
        var temp = Path.Combine(parent, $".{Path.GetFileName(target)}.tmp-{Environment.ProcessId}-{Random.Shared.Next():x6}");
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
                    Symlink = relocation.RewriteSymlink,
                });
            }
            if (meta is null && VenvRelocation.GuessOldPath(temp) is { } old)
                VenvRelocation.RelocateInPlace(temp, new VenvRelocation([old], target, null, newName));
            Directory.Move(temp, target);
        }
        catch (InvalidDataException e)
        {
            CreateCommand.TryDelete(temp);
            throw new KslurmException($"{saved.Path} is damaged: {e.Message}", "nothing was unpacked; save the venv again from a working copy");
        }
        catch
        {
            CreateCommand.TryDelete(temp);
            throw;
        }
    }
}
