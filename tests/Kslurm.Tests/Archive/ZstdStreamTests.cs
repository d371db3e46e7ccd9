using static Kslurm.Tests.Archive.ZstdTestUtil;
using Kslurm.Archive;

namespace Kslurm.Tests.Archive;

[Trait("Tier", "Unit")]
public class ZstdStreamTests
{
    private const int Chunk = 1 << 20;

    public static TheoryData<int, int> SizesAndThreads()
    {
        var data = new TheoryData<int, int>();
        foreach (int size in new[] { 0, 1, Chunk - 1, Chunk, Chunk + 1, 3 * Chunk + 12345 })
            foreach (int threads in new[] { 1, 2, 4 })
                data.Add(size, threads);
        return data;
    }

    [Theory]
    [MemberData(nameof(SizesAndThreads))]
    public void RoundTrip(int size, int threads)
    {
        byte[] data = Data(size, seed: size);
        byte[] z = Compress(data, threads: threads, chunkSize: Chunk);
        Assert.Equal(data, Decompress(z, threads: 1));
        Assert.Equal(data, Decompress(z, threads: threads + 1));

        // One frame per started chunk (an empty input still gives one frame), every frame with
        // a checksum and its content size.
        List<Frame> frames = Frames(z);
        Assert.Equal(Math.Max(1, (size + Chunk - 1) / Chunk), frames.Count);
        Assert.All(frames, f => Assert.True(f.HasChecksum));
        Assert.Equal((ulong)size, frames.Aggregate(0UL, (sum, f) => sum + f.ContentSize!.Value));
        Assert.All(frames.SkipLast(1), f => Assert.Equal((ulong)Chunk, f.ContentSize));
    }

    [Fact]
    public void RoundTrip50MBDefaultSettings()
    {
        byte[] data = Data(50_000_000, seed: 50);
        byte[] z = Compress(data);
        Assert.True(z.Length < data.Length / 2, $"compressed to {z.Length}");
        Assert.Equal(12, Frames(z).Count); // ceil(50e6 / 4 MiB)
        Assert.Equal(data, Decompress(z, readSize: 1 << 20));
        Assert.Equal(data, Decompress(z, readSize: 1 << 20, threads: 1));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void FramesAboveTheParallelLimitAreStreamed(int threads)
    {
        byte[] data = Data(ZstdDecompressStream.MaxParallelFrameSize + 3_000_000, seed: 51);
        byte[] z = Compress(data, chunkSize: ZstdDecompressStream.MaxParallelFrameSize + 1);
        Assert.Equal(2, Frames(z).Count);
        Assert.Equal(data, Decompress(z, threads: threads));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void ManySmallWritesAndFlushesGiveTheSameFrames(int threads)
    {
        byte[] data = Data(5 * Chunk / 2 + 7, seed: 7);
        byte[] expected = Compress(data, threads: 1, chunkSize: Chunk);

        var ms = new MemoryStream();
        var rng = new Random(3);
        using (var z = new ZstdCompressStream(ms, threads: threads, chunkSize: Chunk, leaveOpen: true))
        {
            int p = 0;
            while (p < data.Length)
            {
                if (rng.Next(4) == 0)
                {
                    z.WriteByte(data[p++]);
                }
                else
                {
                    int n = Math.Min(data.Length - p, rng.Next(1, 70000));
                    z.Write(data, p, n);
                    p += n;
                }
                z.Flush(); // must not end a frame
            }
            Assert.Equal(data.Length, z.BytesIn);
        }
        Assert.Equal(expected, ms.ToArray());
    }

    [Fact]
    public void OutputIsDeterministicAcrossThreadCounts()
    {
        byte[] data = Data(9 * (Chunk / 2) + 99, seed: 9);
        byte[] reference = Compress(data, threads: 1, chunkSize: Chunk / 2);
        foreach (int threads in new[] { 2, 3, 8, 0 })
            Assert.Equal(reference, Compress(data, threads: threads, chunkSize: Chunk / 2));
    }

    [Fact]
    public void RandomizedShapes()
    {
        // Many small chunks exercise in-flight limits, recycling and frame boundaries in both
        // directions far more than the default 4 MiB chunks do.
        var rng = new Random(42);
        for (int i = 0; i < 40; i++)
        {
            int size = rng.Next(4) == 0 ? rng.Next(100) : rng.Next(3_000_000);
            int chunk = rng.Next(1, 200_000);
            byte[] data = Data(size, seed: i);
            byte[] z = Compress(data, level: rng.Next(-3, 6), threads: rng.Next(1, 7), chunkSize: chunk);
            Assert.Equal(Math.Max(1, (size + chunk - 1) / chunk), Frames(z).Count);
            Assert.Equal(data, Decompress(z, readSize: rng.Next(1, 300_000), threads: rng.Next(1, 5)));
        }
    }

    [Fact]
    public void StaticHelpersAndWriteFrom()
    {
        byte[] data = Data(3 * Chunk + 5, seed: 11);
        var z = new MemoryStream();
        ZstdCompressStream.Compress(new MemoryStream(data), z, threads: 2, chunkSize: Chunk);
        Assert.Equal(Compress(data, threads: 1, chunkSize: Chunk), z.ToArray());

        foreach (int threads in new[] { 1, 2 })
        {
            var back = new MemoryStream();
            z.Position = 0;
            ZstdDecompressStream.Decompress(z, back, threads);
            Assert.Equal(data, back.ToArray());
        }

        using var dir = new TempDir();
        File.WriteAllBytes(dir.File("in"), data);
        ZstdCompressStream.CompressFile(dir.File("in"), dir.File("in.zst"), level: 1, threads: 2);
        ZstdDecompressStream.DecompressFile(dir.File("in.zst"), dir.File("out"));
        Assert.Equal(data, File.ReadAllBytes(dir.File("out")));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void TinyReadsAndReadByte(int threads)
    {
        byte[] data = Data(200_000, seed: 12);
        byte[] z = Compress(data, chunkSize: 30_000);
        Assert.Equal(data, Decompress(z, readSize: 1, threads: threads));
        Assert.Equal(data, Decompress(z, readSize: 4093, threads: threads));

        using var d = new ZstdDecompressStream(new MemoryStream(z), threads);
        var back = new List<byte>();
        int b;
        while ((b = d.ReadByte()) >= 0)
            back.Add((byte)b);
        Assert.Equal(data, back.ToArray());
        Assert.Equal(data.Length, d.BytesOut);
        Assert.Equal(0, d.Read(new byte[10], 0, 10)); // stays at end
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void SlowInputStreamDeliversOneByteAtATime(int threads)
    {
        byte[] data = Data(100_000, seed: 13);
        byte[] z = Compress(data, chunkSize: 40_000);
        using var d = new ZstdDecompressStream(new TrickleStream(z), threads);
        var back = new MemoryStream();
        d.CopyTo(back);
        Assert.Equal(data, back.ToArray());
    }

    [Fact]
    public void LevelsAndValidation()
    {
        byte[] data = Data(300_000, seed: 14);
        Assert.Equal(data, Decompress(Compress(data, level: 1)));
        Assert.Equal(data, Decompress(Compress(data, level: 19)));
        Assert.Equal(data, Decompress(Compress(data, level: -5)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZstdCompressStream(new MemoryStream(), level: 23));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZstdCompressStream(new MemoryStream(), threads: -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ZstdCompressStream(new MemoryStream(), chunkSize: 0));
    }

    [Fact]
    public void LeaveOpenIsHonoured()
    {
        var a = new MemoryStream();
        new ZstdCompressStream(a, leaveOpen: true).Dispose();
        Assert.True(a.CanWrite);
        var b = new MemoryStream();
        new ZstdCompressStream(b).Dispose();
        Assert.False(b.CanWrite);

        var c = new MemoryStream(Compress([]));
        new ZstdDecompressStream(c, leaveOpen: true).Dispose();
        Assert.True(c.CanRead);
        using (var d = new ZstdDecompressStream(c, threads: 2, leaveOpen: true))
            Assert.Equal(-1, d.ReadByte());
        Assert.True(c.CanRead);
        new ZstdDecompressStream(c).Dispose();
        Assert.False(c.CanRead);
    }

    [Fact]
    public void WritingAfterDisposeThrows()
    {
        var z = new ZstdCompressStream(new MemoryStream());
        z.Dispose();
        z.Dispose(); // idempotent
        Assert.Throws<ObjectDisposedException>(() => z.Write(new byte[1]));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(4)]
    public void OutputFailureSurfacesAndDisposeDoesNotHang(int threads)
    {
        var output = new FailingStream(failAfterBytes: 100_000);
        var z = new ZstdCompressStream(output, threads: threads, chunkSize: 64 << 10);
        byte[] data = Data(2_000_000, seed: 15);
        var e = Assert.ThrowsAny<IOException>(() =>
        {
            for (int p = 0; p < data.Length; p += 10_000)
                z.Write(data, p, 10_000);
            z.Dispose();
        });
        Assert.Contains("disk full", e.Message);
        // Later calls keep failing clearly; Dispose cleans up without throwing again.
        var again = Assert.Throws<IOException>(() => z.Write(new byte[1]));
        Assert.Contains("disk full", again.Message);
        z.Dispose();
    }

    [Fact]
    public void FailureInDisposeIsReported()
    {
        var z = new ZstdCompressStream(new FailingStream(failAfterBytes: 0), threads: 2);
        z.Write(Data(1000));
        var e = Assert.Throws<IOException>(() => z.Dispose());
        Assert.Contains("disk full", e.Message);
        z.Dispose();
    }

    [Fact]
    public async Task AsyncApisWork()
    {
        byte[] data = Data(1_500_000, seed: 16);
        var ms = new MemoryStream();
        using (var z = new ZstdCompressStream(ms, chunkSize: Chunk / 2, leaveOpen: true))
            await z.WriteAsync(data);
        ms.Position = 0;
        await using var d = new ZstdDecompressStream(ms);
        var back = new MemoryStream();
        await d.CopyToAsync(back);
        Assert.Equal(data, back.ToArray());
    }

    /// <summary>Returns at most one byte per Read, like a slow pipe.</summary>
    private sealed class TrickleStream(byte[] data) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1));
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1)]);
    }

    private sealed class FailingStream(long failAfterBytes) : MemoryStream
    {
        public override void Write(byte[] buffer, int offset, int count)
        {
            if (Length + count > failAfterBytes)
                throw new IOException("disk full (test)");
            base.Write(buffer, offset, count);
        }

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            if (Length + buffer.Length > failAfterBytes)
                throw new IOException("disk full (test)");
            base.Write(buffer);
        }
    }
}
