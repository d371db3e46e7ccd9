using System.Formats.Tar;
using System.Text;
using static Kslurm.Tests.Archive.TreeTestUtil;
using Kslurm.Archive;

namespace Kslurm.Tests.Archive;

/// <summary>The leading metadata entry, legacy gzip archives, and damaged files.</summary>
[Trait("Tier", "Unit")]
public class ArchiveFileTests
{
    private static readonly ArchiveEntry Meta = new(".kpy.json", Encoding.UTF8.GetBytes("{\"name\":\"env\"}"));

    /// <summary>A tree with ~12 MB of incompressible data: several zstd frames.</summary>
    private static string BigTree(TempDir dir)
    {
        string src = dir.Sub("src");
        BuildSampleTree(src);
        var rng = new Random(9);
        for (int i = 0; i < 3; i++)
        {
            var data = new byte[4_000_000];
            rng.NextBytes(data);
            File.WriteAllBytes(Path.Combine(src, $"data/blob{i}.bin"), data);
        }
        return src;
    }

    [Fact]
    public void LeadingEntryComesFirst()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("a.tar.zst");
        BuildSampleTree(src);
        File.WriteAllText(Path.Combine(src, ".kpy.json"), "stale copy in the tree");
        ArchiveStats s = WriteArchive(src, archive, Meta with { Mode = (UnixFileMode)0x180 });

        string[] list = Sh($"{Tar} --zstd -tvf {Q(archive)}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("-rw------- ", list[0]);
        Assert.EndsWith(" .kpy.json", list[0]);
        Assert.Single(list, l => l.EndsWith(".kpy.json")); // the tree's own copy is left out

        Assert.Equal(Meta.Content.ToArray(), ArchiveFile.ReadLeading(archive, ".kpy.json"));
        Assert.Equal(Meta.Content.ToArray(), ArchiveFile.ReadLeading(archive, "./.kpy.json"));
        Assert.Null(ArchiveFile.ReadLeading(archive, "other.json"));

        ArchiveStats x = ExtractArchive(archive, dir.Sub("out"), AnyLinks);
        Assert.Equal(s, x);
        Assert.Equal("{\"name\":\"env\"}", File.ReadAllText(dir.Sub("out/.kpy.json")));
    }

    [Fact]
    public void ReadLeadingWithoutLeadingEntry()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("src"));
        File.WriteAllText(dir.Sub("src/.kpy.json"), "{}");
        File.WriteAllText(dir.Sub("src/a"), "a");
        WriteArchive(dir.Sub("src"), dir.Sub("a.tar.zst"), exclude: rel => rel == ".kpy.json");
        Assert.Null(ArchiveFile.ReadLeading(dir.Sub("a.tar.zst"), ".kpy.json"));

        Directory.CreateDirectory(dir.Sub("empty-src"));
        WriteArchive(dir.Sub("empty-src"), dir.Sub("e.tar.zst"));
        Assert.Null(ArchiveFile.ReadLeading(dir.Sub("e.tar.zst"), ".kpy.json"));
    }

    [Fact]
    public void ReadLeadingStopsEarly()
    {
        using var dir = new TempDir();
        string src = BigTree(dir), archive = dir.Sub("a.tar.zst");
        WriteArchive(src, archive, Meta);
        byte[] full = File.ReadAllBytes(archive);
        Assert.True(full.Length > 12_000_000);

        // Only the record's frame is read (it has a frame of its own, checked to its checksum),
        // in one small read: `kpy list` reads every saved venv's record, often over a network
        // file system...
        var counting = new CountingStream(new MemoryStream(full));
        Assert.Equal(Meta.Content.ToArray(), ArchiveFile.ReadLeading(counting, ".kpy.json", "a.tar.zst"));
        Assert.InRange(counting.BytesRead, 1, 32 << 10);

        // ...so a file whose tail (after the first frame) is gone still gives its metadata,
        // while extracting it fails.
        File.WriteAllBytes(dir.Sub("cut.tar.zst"), full[..(ZstdCompressStream.DefaultChunkSize * 3 / 2)]);
        Assert.Equal(Meta.Content.ToArray(), ArchiveFile.ReadLeading(dir.Sub("cut.tar.zst"), ".kpy.json"));
        var e = Assert.Throws<KslurmException>(() => ExtractArchive(dir.Sub("cut.tar.zst"), dir.Sub("out"), AnyLinks));
        Assert.Contains("cut.tar.zst: damaged archive (in entry 'data/blob", e.Message);
        Assert.Contains("zstd: truncated input", e.Message);
    }

    [Fact]
    public void LegacyGzipArchiveLoads()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("old.tar.gz");
        BuildSampleTree(src);
        Sh($"{Tar} -czf {Q(archive)} -C {Q(src)} .");
        ExtractArchive(archive, dir.Sub("out"), AnyLinks);
        AssertSameTree(AsExtracted(Snapshot(src)), Snapshot(dir.Sub("out")));

        // A leading entry works for gzip too (here: the "./" root entry is first, so null).
        Assert.Null(ArchiveFile.ReadLeading(archive, ".kpy.json"));
        Sh($"cd {Q(src)} && printf '{{}}' > .kpy.json && {Tar} -czf {Q(dir.Sub("meta.tar.gz"))} .kpy.json bin");
        Assert.Equal("{}"u8.ToArray(), ArchiveFile.ReadLeading(dir.Sub("meta.tar.gz"), ".kpy.json"));
    }

    [Fact]
    public void PzstdStyleSkippableFrameFirst()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src");
        BuildSampleTree(src);
        WriteArchive(src, dir.Sub("a.tar.zst"), Meta);
        byte[] skippable = [0x50, 0x2A, 0x4D, 0x18, 4, 0, 0, 0, 1, 2, 3, 4];
        File.WriteAllBytes(dir.Sub("p.tar.zst"), [.. skippable, .. File.ReadAllBytes(dir.Sub("a.tar.zst"))]);
        Assert.Equal(Meta.Content.ToArray(), ArchiveFile.ReadLeading(dir.Sub("p.tar.zst"), ".kpy.json"));
        ExtractArchive(dir.Sub("p.tar.zst"), dir.Sub("out"), AnyLinks);
    }

    [Fact]
    public void BitFlipInTheMiddleIsReported()
    {
        using var dir = new TempDir();
        string src = BigTree(dir), archive = dir.Sub("a.tar.zst");
        WriteArchive(src, archive, chunkSize: 1 << 20);
        byte[] good = File.ReadAllBytes(archive);
        for (int i = 0; i < 4; i++)
        {
            byte[] bad = (byte[])good.Clone();
            bad[good.Length / 2 + i * 100_003] ^= (byte)(1 << i);
            File.WriteAllBytes(dir.Sub("bad.tar.zst"), bad);
            string target = dir.Sub($"out{i}");
            var e = WithTimeout(() => Assert.Throws<KslurmException>(() => ExtractArchive(dir.Sub("bad.tar.zst"), target, AnyLinks)));
            Assert.Matches(@"^.*bad\.tar\.zst: damaged archive \((in|after) entry '[^']+'\): zstd: corrupted data", e.Message);
            Assert.Equal("the file is corrupt or incomplete; save the environment again", e.Hint);
        }
    }

    [Fact]
    public void CorruptionInTheLastFrameIsReported()
    {
        // 64 KiB frames; header + data fill the first frame and the first end-of-archive block
        // ends it, so the tar reader is done before the last frame (the second zero block).
        // That frame is still read and its checksum checked.
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("src"));
        var data = new byte[65536 - 1024];
        new Random(1).NextBytes(data);
        File.WriteAllBytes(dir.Sub("src/r"), data);
        WriteArchive(dir.Sub("src"), dir.Sub("a.tar.zst"), chunkSize: 65536);
        byte[] good = File.ReadAllBytes(dir.Sub("a.tar.zst"));
        var frames = ZstdTestUtil.Frames(good);
        Assert.Equal(2, frames.Count);
        Assert.Equal(512ul, frames[1].ContentSize);
        ExtractArchive(dir.Sub("a.tar.zst"), dir.Sub("ok"));

        byte[] bad = (byte[])good.Clone();
        bad[^5] ^= 1; // the byte of the last frame's RLE block: zeros become ones
        File.WriteAllBytes(dir.Sub("bad.tar.zst"), bad);
        var e = Assert.Throws<KslurmException>(() => ExtractArchive(dir.Sub("bad.tar.zst"), dir.Sub("out")));
        Assert.StartsWith($"{dir.Sub("bad.tar.zst")}: damaged archive (after the end-of-archive marker): zstd: corrupted data", e.Message);
    }

    [Fact]
    public void TruncatedAtAFrameBoundaryIsReported()
    {
        // A zstd stream cut between frames is valid zstd: only the missing end-of-archive
        // marker shows that entries are missing.
        using var dir = new TempDir();
        string src = BigTree(dir), archive = dir.Sub("a.tar.zst");
        WriteArchive(src, archive, chunkSize: 1 << 20);
        byte[] full = File.ReadAllBytes(archive);
        var frames = ZstdTestUtil.Frames(full);
        Assert.True(frames.Count > 5);
        var cut = frames[frames.Count / 2];
        File.WriteAllBytes(dir.Sub("cut.tar.zst"), full[..(int)(cut.Offset + cut.Size)]);
        var e = Assert.Throws<KslurmException>(() => ExtractArchive(dir.Sub("cut.tar.zst"), dir.Sub("out"), AnyLinks));
        Assert.Contains("cut.tar.zst: truncated archive: the data ends", e.Message);
        Assert.Contains("incomplete", e.Hint);
    }

    [Fact]
    public void TarWithoutEndMarkerIsTruncated()
    {
        using var dir = new TempDir();
        string content = new('c', 2000);
        byte[] tar = Craft(w =>
        {
            w.AddFile("a", "abc");
            w.AddFile("b", content);
        });
        int end = 1024 + 512 + 2048; // a: header + block, b: header + 4 blocks; then the marker
        void Truncated(byte[] data, string message)
        {
            string target = Directory.CreateTempSubdirectory("kslurm-cut-").FullName;
            try
            {
                var e = Assert.Throws<KslurmException>(() => TreeArchive.Extract(new MemoryStream(data), target, ExtractOptions.Default));
                Assert.Equal("archive: truncated archive: the data ends " + message, e.Message);
                Assert.Contains("incomplete", e.Hint);
            }
            finally
            {
                Directory.Delete(target, recursive: true);
            }
        }
        Truncated(tar[..end], "after entry 'b'");                 // no end-of-archive marker
        Truncated(tar[..(end + 100)], "after entry 'b'");      // a partial zero block
        Truncated(tar[..(end - 30)], "after entry 'b'");       // in b's padding (data ends at end - 48)
        Truncated(tar[..(1024 + 512 + 1000)], "in entry 'b'"); // in b's data
        Truncated(tar[..1300], "after entry 'a'");             // in b's header
        Truncated([], "before the first entry");
        Truncated(new byte[100], "before the first entry");
    }

    [Fact]
    public void GarbageIsReported()
    {
        using var dir = new TempDir();
        var rng = new Random(4);
        byte[] noise = new byte[100_000];
        rng.NextBytes(noise);

        File.WriteAllBytes(dir.Sub("noise"), noise);
        var e = Assert.Throws<KslurmException>(() => ArchiveFile.OpenRead(dir.Sub("noise")));
        Assert.Equal($"{dir.Sub("noise")} is not a zstd or gzip archive", e.Message);

        File.WriteAllBytes(dir.Sub("empty"), []);
        e = Assert.Throws<KslurmException>(() => ArchiveFile.ReadLeading(dir.Sub("empty"), ".kpy.json"));
        Assert.Contains("is empty", e.Message);

        e = Assert.Throws<KslurmException>(() => ArchiveFile.OpenRead(dir.Sub("missing.tar.zst")));
        Assert.Contains("does not exist", e.Message);

        // zstd magic followed by noise.
        File.WriteAllBytes(dir.Sub("z"), [0x28, 0xB5, 0x2F, 0xFD, .. noise]);
        e = Assert.Throws<KslurmException>(() => ExtractArchive(dir.Sub("z"), dir.Sub("out1")));
        Assert.Contains("damaged archive (before the first entry): zstd:", e.Message);
        e = Assert.Throws<KslurmException>(() => ArchiveFile.ReadLeading(dir.Sub("z"), ".kpy.json"));
        Assert.Contains("damaged archive: zstd:", e.Message);

        // Valid zstd whose content is not tar.
        File.WriteAllBytes(dir.Sub("nt.zst"), Zstd(noise));
        e = Assert.Throws<KslurmException>(() => ExtractArchive(dir.Sub("nt.zst"), dir.Sub("out2")));
        Assert.Contains("damaged archive (before the first entry)", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Sub("out2")));

        // gzip magic followed by noise.
        File.WriteAllBytes(dir.Sub("g"), [0x1F, 0x8B, 8, 0, .. noise]);
        e = Assert.Throws<KslurmException>(() => ExtractArchive(dir.Sub("g"), dir.Sub("out3")));
        Assert.Contains("damaged archive", e.Message);
    }

    [Fact]
    public void DamagedHeaderInTheMiddle()
    {
        // A valid zstd stream (checksums fine) over a tar whose header checksum is wrong.
        using var dir = new TempDir();
        byte[] tar = Craft(w =>
        {
            w.AddFile("a", "abc");
            w.AddFile("b", "def");
            w.AddFile("c", "ghi");
        });
        tar[1024] = (byte)'B'; // the name of "b": only the header checksum can tell
        Directory.CreateDirectory(dir.Sub("t"));
        var e = Assert.Throws<KslurmException>(() =>
            TreeArchive.Extract(new ZstdDecompressStream(new MemoryStream(Zstd(tar))), dir.Sub("t"), new ExtractOptions { ArchiveName = "x.tar.zst" }));
        Assert.StartsWith("x.tar.zst: damaged archive (after entry 'a'):", e.Message);
    }

    private sealed class CountingStream(Stream inner) : Stream
    {
        public long BytesRead { get; private set; }
        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = inner.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
