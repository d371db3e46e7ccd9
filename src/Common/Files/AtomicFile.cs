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
        var dir = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(dir);
        mode ??= File.Exists(full) ? File.GetUnixFileMode(full) : DefaultMode;
        var tmp = TempBeside(full);
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = mode,
            };
            using (var fs = new FileStream(tmp, options))
            {
                writer(fs);
                fs.Flush(flushToDisk: true);
            }
            File.Move(tmp, full, overwrite: true);
        }
        catch
        {
            TryDelete(tmp);
            throw;
        }
        SyncDirectory(dir);
    }

    /// <summary>A hidden, unique name in the same folder (rename is atomic only within a filesystem).</summary>
    public static string TempBeside(string path)
        => Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.tmp-{Environment.ProcessId}-{Random.Shared.Next():x8}");

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
