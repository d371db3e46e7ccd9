using System.Buffers.Binary;
using System.Text.RegularExpressions;
using static Kslurm.Tests.Archive.ZstdTestUtil;
using Kslurm.Archive;

namespace Kslurm.Tests.Archive;

/// <summary>Interop with the reference zstd CLI, and behaviour on damaged input.</summary>
[Trait("Tier", "Unit")]
public class ZstdInteropTests
{
    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 2)]
    [InlineData(5_000_000, 1)]
    [InlineData(21_000_000, 0)]
    public void OurOutputIsReadByZstdCli(int size, int threads)
    {
        using var dir = new TempDir();
        byte[] data = Data(size, seed: 21);
        File.WriteAllBytes(dir.File("a.zst"), Compress(data, threads: threads));

        Zstd("-q", "-t", dir.File("a.zst"));
        Zstd("-q", "-d", "-f", dir.File("a.zst"), "-o", dir.File("a"));
        Assert.Equal(data, File.ReadAllBytes(dir.File("a")));

        // `zstd -lv` agrees on the frame count, sizes and that frames carry an XXH64 check.
        Result list = Run(ZstdCli, "-lv", dir.File("a.zst"));
        Assert.Equal(0, list.Code);
        int frames = Math.Max(1, (size + ZstdCompressStream.DefaultChunkSize - 1) / ZstdCompressStream.DefaultChunkSize);
        Assert.Matches($@"# Zstandard Frames: {frames}\b", list.Stdout);
        Assert.Matches($@"Decompressed Size: .*\({size} B\)", list.Stdout);
        Assert.Contains("Check: XXH64", list.Stdout);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(0)]
    public void ZstdCliOutputIsReadByUs(int threads)
    {
        using var dir = new TempDir();
        byte[] data = Data(30_000_000, seed: 22);
        File.WriteAllBytes(dir.File("a"), data);

        Zstd("-q", "-3", "-T0", dir.File("a"), "-o", dir.File("mt.zst"));
        Assert.Single(Frames(File.ReadAllBytes(dir.File("mt.zst")))); // one big frame
        Assert.Equal(data, Decompress(File.ReadAllBytes(dir.File("mt.zst")), threads: threads));

        Zstd("-q", "--no-check", "-1", dir.File("a"), "-o", dir.File("nocheck.zst"));
        Assert.All(Frames(File.ReadAllBytes(dir.File("nocheck.zst"))), f => Assert.False(f.HasChecksum));
        Assert.Equal(data, Decompress(File.ReadAllBytes(dir.File("nocheck.zst")), threads: threads));

        // Long-distance matching: a 128 MiB window, the decoder's default limit.
        Zstd("-q", "-5", "--long=27", dir.File("a"), "-o", dir.File("long.zst"));
        Assert.Equal(data, Decompress(File.ReadAllBytes(dir.File("long.zst")), readSize: 12345, threads: threads));
    }

    [Fact]
    public void ZstdCliStdinOutputWithoutContentSize()
    {
        using var dir = new TempDir();
        byte[] data = Data(3_000_000, seed: 23);
        File.WriteAllBytes(dir.File("a"), data);
        // bash pipes so zstd does not know the size in advance.
        Result r = Run("/bin/bash", "-c", $"cat '{dir.File("a")}' | {ZstdCli} -q -c > '{dir.File("pipe.zst")}'");
        Assert.Equal(0, r.Code);
        byte[] z = File.ReadAllBytes(dir.File("pipe.zst"));
        Assert.All(Frames(z), f => Assert.Null(f.ContentSize));
        Assert.Equal(data, Decompress(z));
    }

    [Fact]
    public void WindowAboveTheDefaultLimitIsRefusedClearly()
    {
        // Piped input: zstd cannot shrink the window to the input size, so the header asks for
        // 256 MiB, which the CLI too only accepts with --memory.
        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("a"), Data(10_000, seed: 30));
        Result r = Run("/bin/bash", "-c", $"cat '{dir.File("a")}' | {ZstdCli} -q --long=28 -c > '{dir.File("w.zst")}'");
        Assert.Equal(0, r.Code);
        var e = Assert.Throws<InvalidDataException>(() => Decompress(File.ReadAllBytes(dir.File("w.zst"))));
        Assert.StartsWith("zstd: frame needs a window above the 128 MiB decoder limit", e.Message);
    }

    [Fact]
    public void ConcatenatedMixedAndSkippableFrames()
    {
        // Our small frames (decoded in parallel) interleaved with frames the parallel path must
        // hand to the streaming decoder: skippable, no content size, above the size limit.
        using var dir = new TempDir();
        byte[] a = Data(100_000, seed: 24), b = Data(2_000_000, seed: 25), c = Data(3_000_000, seed: 31),
            d = Data(ZstdDecompressStream.MaxParallelFrameSize + 1000, seed: 32);
        File.WriteAllBytes(dir.File("c"), c);
        File.WriteAllBytes(dir.File("d"), d);
        Assert.Equal(0, Run("/bin/bash", "-c", $"cat '{dir.File("c")}' | {ZstdCli} -q -c > '{dir.File("c.zst")}'").Code);
        Zstd("-q", "-1", dir.File("d"), "-o", dir.File("d.zst"));
        var skippable = new byte[8 + 5];
        BinaryPrimitives.WriteUInt32LittleEndian(skippable, 0x184D2A53);
        BinaryPrimitives.WriteUInt32LittleEndian(skippable.AsSpan(4), 5);
        byte[] z =
        [
            .. skippable, .. Compress(a), .. skippable, .. Compress(b, chunkSize: 700_000),
            .. File.ReadAllBytes(dir.File("c.zst")), .. Compress(a, chunkSize: 30_000),
            .. File.ReadAllBytes(dir.File("d.zst")), .. Compress([]), .. Compress(b), .. skippable,
        ];
        byte[] expected = [.. a, .. b, .. c, .. a, .. d, .. b];
        foreach (int threads in new[] { 1, 2, 5 })
            Assert.Equal(expected, Decompress(z, threads: threads, readSize: 100_000));

        File.WriteAllBytes(dir.File("s.zst"), z);
        Zstd("-q", "-d", "-f", dir.File("s.zst"), "-o", dir.File("s")); // the CLI agrees it is valid
        Assert.Equal(expected, File.ReadAllBytes(dir.File("s")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void CorruptedByteInTheMiddleThrows(int threads)
    {
        byte[] data = Data(6_000_000, seed: 26);
        byte[] z = Compress(data, chunkSize: 1 << 20);
        for (int i = 0; i < 20; i++)
        {
            byte[] bad = (byte[])z.Clone();
            int at = z.Length / 3 + i * 7919;
            bad[at] ^= (byte)(1 << (i % 8));
            var e = Assert.Throws<InvalidDataException>(() => Decompress(bad, threads: threads));
            Assert.StartsWith("zstd: ", e.Message);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void CorruptionOnlyTheChecksumCanSeeIsReported(int threads)
    {
        // Random bytes are stored as raw blocks: flipping one is invisible to the block decoder
        // and only the XXH64 checksum at the end of the frame catches it.
        byte[] data = new byte[300_000];
        new Random(27).NextBytes(data);
        byte[] z = Compress(data);
        z[z.Length / 2] ^= 0x10;
        var e = Assert.Throws<InvalidDataException>(() => Decompress(z, threads: threads));
        Assert.Equal("zstd: corrupted data (checksum mismatch: Restored data doesn't match checksum)", e.Message);

        // Every later read fails too.
        using var d = new ZstdDecompressStream(new MemoryStream(z), threads);
        Assert.Throws<InvalidDataException>(() => d.CopyTo(Stream.Null));
        Assert.Throws<InvalidDataException>(() => d.ReadByte());
    }

    [Fact]
    public void ParallelDecodingReturnsNoByteOfAFrameThatFailsItsChecksum()
    {
        byte[] data = new byte[300_000];
        new Random(33).NextBytes(data);
        byte[] z = Compress(data);
        z[z.Length / 2] ^= 0x10;
        using var d = new ZstdDecompressStream(new MemoryStream(z), threads: 2);
        Assert.Throws<InvalidDataException>(() => d.Read(new byte[1000]));
        Assert.Equal(0, d.BytesOut);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void TruncatedInputThrows(int threads)
    {
        byte[] data = Data(3_000_000, seed: 28);
        byte[] z = Compress(data, chunkSize: 1 << 20);
        int boundary = (int)Frames(z)[1].Offset;
        foreach (int keep in new[] { 1, 3, 4, 6, 100, z.Length / 2, boundary + 2, z.Length - 4, z.Length - 1 })
        {
            var e = Assert.Throws<InvalidDataException>(() => Decompress(z[..keep], threads: threads));
            Assert.StartsWith("zstd: truncated input", e.Message);
        }
        // A cut exactly between frames is indistinguishable from a shorter stream: valid.
        Assert.Equal(data[..(1 << 20)], Decompress(z[..boundary], threads: threads));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void EmptyGarbageAndTrailingGarbageThrow(int threads)
    {
        var empty = Assert.Throws<InvalidDataException>(() => Decompress([], threads: threads));
        Assert.StartsWith("zstd: truncated input", empty.Message);

        var notZstd = Assert.Throws<InvalidDataException>(() => Decompress("hello world, not zstd"u8.ToArray(), threads: threads));
        Assert.StartsWith("zstd: not zstd data", notZstd.Message);

        byte[] trailing = [.. Compress(Data(1000)), .. "garbage!"u8.ToArray()];
        var e = Assert.Throws<InvalidDataException>(() => Decompress(trailing, threads: threads));
        Assert.StartsWith("zstd: corrupted data or trailing garbage", e.Message);
    }

    [Fact]
    public void ZstdCliRejectsOurCorruptionToo()
    {
        // Sanity check of the test itself: the reference decoder agrees the damaged file is bad.
        using var dir = new TempDir();
        byte[] data = new byte[100_000];
        new Random(29).NextBytes(data);
        byte[] z = Compress(data);
        z[z.Length / 2] ^= 1;
        File.WriteAllBytes(dir.File("bad.zst"), z);
        Result r = Run(ZstdCli, "-q", "-t", dir.File("bad.zst"));
        Assert.NotEqual(0, r.Code);
        Assert.Matches(new Regex("checksum", RegexOptions.IgnoreCase), r.Stderr);
    }
}
