using System.Buffers.Binary;
using System.Formats.Tar;
using Kslurm.Processes;

namespace Kslurm.Archive;

/// <summary>Opening archive files: zstd (kpy's `.tar.zst`) and gzip (kslurm's old `.tar.gz`).</summary>
public static class ArchiveFile
{
    /// <summary>Leading entries larger than this are not returned by <see cref="ReadLeading"/>.</summary>
    public const int MaxLeadingSize = 16 << 20;

    /// <summary>
    /// Opens <paramref name="path"/> and returns its decompressed tar stream. The format is told
    /// by the first bytes (zstd frame or skippable frame, or gzip), not by the file name.
    /// </summary>
    /// <param name="threads">zstd decoding threads (0 = all cores).</param>
    /// <exception cref="KslurmException">Missing, unreadable, or neither zstd nor gzip.</exception>
    public static Stream OpenRead(string path, int threads = 0)
    {
        FileStream file = Open(path);
        try
        {
            return Decompress(file, path, threads);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Returns the content of the archive's first entry if it is a regular file named
    /// <paramref name="name"/>, else null. Decodes only the start of the archive (the first
    /// few megabytes at most: the first zstd frame, whose checksum is verified), so it is fast on
    /// any archive size and works even when the rest of the file is damaged or missing.
    /// </summary>
    /// <exception cref="KslurmException">The file cannot be opened or its start is damaged.</exception>
    public static byte[]? ReadLeading(string path, string name)
    {
        // No read-ahead hint: `kpy list` reads a few KiB of each archive, which may sit on a
        // network file system where a doubled read-ahead fetches far more than that.
        using FileStream file = Open(path, sequential: false);
        return ReadLeading(file, name, path);
    }

    internal static byte[]? ReadLeading(Stream file, string name, string displayName)
    {
        // One thread: the streaming decoder reads only the input it needs, where the parallel
        // one would look ahead several frames.
        using Stream tar = Decompress(file, displayName, threads: 1);
        try
        {
            using var reader = new TarReader(tar, leaveOpen: true);
            TarEntry? entry = reader.GetNextEntry(copyData: false);
            if (entry == null || entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                || ArchivePath.Normalise(entry.Name) != ArchivePath.Normalise(name))
                return null;
            if (entry.Length > MaxLeadingSize)
                throw new KslurmException($"{displayName}: the entry '{entry.Name}' is too large ({entry.Length} bytes)");
            byte[] content = new byte[entry.Length];
            entry.DataStream?.ReadExactly(content);
            // The rest of the record's frame, so that its checksum is verified: a damaged record
            // must not be shown as if it were fine. (Frames of kpy archives hold 4 MiB.)
            if (tar is ZstdDecompressStream z)
                z.FinishFrame(MaxLeadingSize * 4L);
            return content;
        }
        catch (Exception e) when (e is not KslurmException and not OutOfMemoryException)
        {
            throw new KslurmException($"{displayName}: damaged archive: {e.Message}",
                "the file is corrupt or incomplete; save the environment again", inner: e);
        }
    }

    private static FileStream Open(string path, bool sequential = true)
    {
        try
        {
            // No FileStream buffer: both decoders read in large blocks themselves.
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1,
                sequential ? FileOptions.SequentialScan : FileOptions.None);
        }
        catch (FileNotFoundException)
        {
            throw new KslurmException($"archive {path} does not exist");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot open archive {path}: {e.Message}", inner: e);
        }
    }

    private static Stream Decompress(Stream file, string displayName, int threads)
    {
        Span<byte> magic = stackalloc byte[4];
        int n;
        try
        {
            n = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            file.Seek(-n, SeekOrigin.Current);
        }
        catch (IOException e)
        {
            throw new KslurmException($"cannot read archive {displayName}: {e.Message}", inner: e);
        }
        if (n >= 4)
        {
            uint m = BinaryPrimitives.ReadUInt32LittleEndian(magic);
            if (m == 0xFD2FB528 || (m & 0xFFFFFFF0) == 0x184D2A50) // zstd frame, skippable frame (pzstd)
                return new ZstdDecompressStream(file, threads);
        }
        if (n >= 2 && magic[0] == 0x1F && magic[1] == 0x8B && file is FileStream { Name: var gz })
        {
            // Only the Python kslurm's old archives are gzip: let the system's gzip read them
            // rather than link zlib into every kpy binary.
            file.Dispose();
            return ChildProcess.ReadFrom(["gzip", "-dc", "--", gz]);
        }
        throw new KslurmException(n == 0 ? $"{displayName} is empty, not an archive" : $"{displayName} is not a zstd or gzip archive");
    }
}
