using System.Text;

namespace Kslurm.Files;

/// <summary>
/// Writes a file so that readers see either the old or the new content, never a mix, and a crash
/// or full disk leaves the old file intact: temp file beside the target, fsync, rename, fsync dir.
/// </summary>
public static class AtomicFile
{
    public static void WriteAllText(string path, string text, UnixFileMode? mode = null)
        => Write(path, s => s.Write(new UTF8Encoding(false).GetBytes(text)), mode);

    public static void Write(string path, Action<Stream> writer, UnixFileMode? mode = null)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        TryWrite(full, open =>
        {
            writer(open());
            return true;
        }, mode ?? (File.Exists(full) ? File.GetUnixFileMode(full) : DefaultMode));
    }

    /// <summary>
    /// <see cref="Write"/> where the writer decides: it gets a function that creates the temp
    /// file (call it only when there is something to write) and returns whether to replace the
    /// file with it; false leaves the file as it was.
    /// </summary>
    public static bool TryWrite(string path, Func<Func<Stream>, bool> writer, UnixFileMode mode)
    {
        var full = Path.GetFullPath(path);
        var tmp = TempBeside(full);
        FileStream? fs = null;
        try
        {
            var replace = writer(() => fs = new FileStream(tmp, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
            }));
            if (!replace || fs is null)
                return false;
            fs.Flush(flushToDisk: true);
            fs.Dispose();
            fs = null;
            Replace(tmp, full);
            return true;
        }
        finally
        {
            if (fs is not null || File.Exists(tmp))
            {
                fs?.Dispose();
                TryDelete(tmp);
            }
        }
    }

    /// <summary>
    /// Replaces <paramref name="path"/> with <paramref name="temp"/> (a <see cref="TempBeside"/>
    /// name), a file another program wrote and closed: fsync, rename, fsync the folder. False,
    /// with nothing replaced, when the temp file cannot be synced.
    /// </summary>
    public static bool Publish(string temp, string path)
    {
        var fd = Libc.Open(temp, Libc.O_RDONLY | Libc.O_CLOEXEC, 0);
        var synced = fd >= 0 && Libc.Fsync(fd) == 0;
        if (fd >= 0)
            Libc.Close(fd);
        if (synced)
            Replace(temp, Path.GetFullPath(path));
        return synced;
    }

    static void Replace(string temp, string full)
    {
        File.Move(temp, full, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(full)!);
    }

    /// <summary>A hidden, unique name in the same folder (rename is atomic only within a filesystem).</summary>
    public static string TempBeside(string path)
        => Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.tmp-{Environment.ProcessId}-{Random.Shared.Next():x8}");

    /// <summary>
    /// Removes the temp files (<see cref="TempBeside"/>) that killed writers of <paramref name="path"/>
    /// left. Only while holding the lock that serialises those writers: a live writer's would go too.
    /// </summary>
    public static void RemoveStaleTemps(string path)
    {
        var full = Path.GetFullPath(path);
        var dir = Path.GetDirectoryName(full)!;
        if (Directory.Exists(dir))
            foreach (var stale in Directory.EnumerateFiles(dir, $".{Path.GetFileName(full)}.tmp-*"))
                TryDelete(stale);
    }

    /// <summary>Makes a rename durable; best effort on filesystems that refuse it.</summary>
    public static void SyncDirectory(string dir)
    {
        var fd = Libc.Open(dir, Libc.O_RDONLY | Libc.O_DIRECTORY | Libc.O_CLOEXEC, 0);
        if (fd < 0)
            return;
        Libc.Fsync(fd);
        Libc.Close(fd);
    }

    public static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    const UnixFileMode DefaultMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
}
