using System.Formats.Tar;
using Kslurm.Archive;
using Kslurm.Processes;

namespace Kslurm.Tests.Archive;

/// <summary>Archive's writer of named members (kapp's OCI archives), read back by GNU tar,
/// Python's tarfile and .NET's reader.</summary>
[Trait("Tier", "Unit")]
public sealed class TarMembersTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kslurm-tarmembers-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string Sample()
    {
        var file = Path.Combine(_dir, "t.tar");
        using var fs = File.Create(file);
        using var tar = new TarMembers(fs);
        tar.Directory("d/");
        tar.File("d/a", "hello"u8.ToArray());
        tar.File("d/empty", []);
        var big = new byte[100_000];
        new Random(1).NextBytes(big);
        tar.File("d/b", new MemoryStream(big), big.Length);
        return file;
    }

    [Fact]
    public void Gnu_tar_lists_and_extracts_it()
    {
        var file = Sample();
        var list = ChildProcess.Capture(["tar", "-tvf", file]);
        Assert.True(list.Ok, list.Stderr);
        Assert.Contains("0/0", list.Stdout); // owner root by number, as before
        var x = ChildProcess.Capture(["tar", "-xf", file, "-C", _dir]);
        Assert.True(x.Ok, x.Stderr);
        Assert.Equal("hello", File.ReadAllText(Path.Combine(_dir, "d", "a")));
        Assert.Equal(100_000, new FileInfo(Path.Combine(_dir, "d", "b")).Length);
        Assert.Equal(0, new FileInfo(Path.Combine(_dir, "d", "empty")).Length);
    }

    [Fact]
    public void Python_tarfile_reads_names_modes_and_owner()
    {
        var r = ChildProcess.Capture(["python3", "-c",
            "import sys, tarfile\nfor m in tarfile.open(sys.argv[1]): print(m.name, oct(m.mode), m.uid, m.gid, m.mtime, m.size)", Sample()]);
        Assert.True(r.Ok, r.Stderr);
        Assert.Equal("d 0o755 0 0 0 0\nd/a 0o644 0 0 0 5\nd/empty 0o644 0 0 0 0\nd/b 0o644 0 0 0 100000\n", r.Stdout);
    }

    [Fact]
    public void Same_members_give_the_same_bytes()
    {
        var first = File.ReadAllBytes(Sample());
        Thread.Sleep(1100); // a clock in the headers would show now
        Assert.Equal(first, File.ReadAllBytes(Sample()));
    }

    [Fact]
    public void An_empty_archive_still_has_its_end_marker()
    {
        var ms = new MemoryStream();
        new TarMembers(ms).Dispose();
        Assert.Equal(new byte[1024], ms.ToArray());
    }

    [Fact]
    public void A_stream_shorter_than_announced_is_an_error()
    {
        using var tar = new TarMembers(new MemoryStream());
        var e = Assert.Throws<IOException>(() => tar.File("blob", new MemoryStream(new byte[10]), 20));
        Assert.Contains("blob", e.Message);
    }

    [Fact]
    public void Members_of_8_GiB_and_more_keep_their_size()
    {
        // ustar stops below 8 GiB; layers can be larger. Written to a sink that keeps the headers.
        const long size = 8L * 1024 * 1024 * 1024 + 5;
        var sink = new HeadSink(4096);
        using (var tar = new TarMembers(sink))
            tar.File("blobs/sha256/" + new string('a', 64), new Zeros(size), size);
        // read as a pipe delivers it: a seekable stream would make TarReader skip the data
        var entry = new TarReader(new ForwardOnly(sink.Head)).GetNextEntry(copyData: false)!;
        Assert.Equal("blobs/sha256/" + new string('a', 64), entry.Name);
        Assert.Equal(size, entry.Length);
        Assert.Equal(512 + size + (512 - size % 512) % 512 + 1024, sink.Written);
    }

    sealed class ForwardOnly(byte[] data) : Stream
    {
        readonly MemoryStream _inner = new(data);
        public override int Read(byte[] buffer, int offset, int count) => _inner.Read(buffer, offset, count);
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    sealed class Zeros(long length) : Stream
    {
        long _pos;
        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));
        public override int Read(Span<byte> buffer)
        {
            var n = (int)Math.Min(buffer.Length, length - _pos);
            buffer[..n].Clear();
            _pos += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _pos; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>Keeps the first bytes written, counts the rest.</summary>
    sealed class HeadSink(int keep) : Stream
    {
        readonly MemoryStream _head = new();
        public byte[] Head => _head.ToArray();
        public long Written { get; private set; }
        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            var room = (int)Math.Max(0, keep - _head.Length);
            _head.Write(buffer[..Math.Min(room, buffer.Length)]);
            Written += buffer.Length;
        }
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => Written;
        public override long Position { get => Written; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
