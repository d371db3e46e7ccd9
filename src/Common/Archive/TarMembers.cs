using System.Formats.Tar;

namespace Kslurm.Archive;

/// <summary>
/// A tar of members named one by one, for content that is not a folder on disk (a folder:
/// <see cref="TreeArchive"/>). Same format as TreeArchive (GNU: any size, read by GNU tar, Go's
/// archive/tar and Python's tarfile). Owner root, modes 0755/0644, mtime 0: the same members give
/// the same bytes. kapp's OCI archives (Registry/OciArchive.cs) are written with it.
/// </summary>
public sealed class TarMembers(Stream output) : IDisposable
{
    const UnixFileMode DirMode = (UnixFileMode)0b111_101_101, FileMode = (UnixFileMode)0b110_100_100;

    readonly TarWriter _tar = new(output, TarEntryFormat.Gnu, leaveOpen: true);
    bool _any, _done;

    public void Directory(string name) => Write(TarEntryType.Directory, name, DirMode, null);

    public void File(string name, byte[] data) => Write(TarEntryType.RegularFile, name, FileMode, new MemoryStream(data, writable: false));

    /// <summary>Exactly <paramref name="size"/> bytes of <paramref name="data"/>; a stream that
    /// ends early is an error, not a short member.</summary>
    public void File(string name, Stream data, long size)
        => Write(TarEntryType.RegularFile, name, FileMode, new ExactLengthStream(data, size, name));

    void Write(TarEntryType type, string name, UnixFileMode mode, Stream? data)
    {
        // atime/ctime stay unset: .NET then leaves those GNU fields empty, where Python's tarfile
        // would read digits as a ustar name prefix ("00000000000/blobs/...").
        var entry = new GnuTarEntry(type, name)
        {
            Mode = mode, Uid = 0, Gid = 0, ModificationTime = DateTimeOffset.UnixEpoch,
        };
        if (data is not null)
            entry.DataStream = data;
        _tar.WriteEntry(entry);
        _any = true;
    }

    /// <summary>Writes the end of the archive (also when it has no members).</summary>
    public void Dispose()
    {
        if (_done) return;
        _done = true;
        _tar.Dispose();
        if (!_any)
            output.Write(new byte[1024]);
    }
}

/// <summary>A file's data cut or checked to the length announced in the tar header.</summary>
internal sealed class ExactLengthStream(Stream inner, long length, string path) : Stream
{
    private long _position;

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        long left = length - _position;
        if (left <= 0 || buffer.IsEmpty)
            return 0;
        int n = inner.Read(buffer[..(int)Math.Min(buffer.Length, left)]);
        if (n == 0)
            throw new IOException($"cannot archive {path}: it shrank while being read");
        _position += n;
        return n;
    }

    public override bool CanRead => true;
    public override bool CanSeek => true; // TarWriter asks Length/Position to size the entry
    public override bool CanWrite => false;
    public override long Length => length;
    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }
    public override void Flush()
    {
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
