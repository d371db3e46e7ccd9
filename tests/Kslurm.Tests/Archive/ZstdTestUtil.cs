using System.Buffers.Binary;
using Kslurm.Archive;

namespace Kslurm.Tests.Archive;

/// <summary>Test data, an independent zstd frame walker (RFC 8878) and a zstd CLI runner.</summary>
internal static class ZstdTestUtil
{
    public const string ZstdCli = "/usr/bin/zstd";

    private static readonly string[] Words =
    [
        "slurm", "job", "partition", "node", "gpu", "cpu", "memory", "srun", "sbatch", "salloc",
        "python", "import", "numpy", "def", "return", "class", "self", "None", "True", "False",
        "the", "a", "of", "to", "and", "in", "is", "for", "with", "on", "/usr/lib", "\n", "\t", "    ",
    ];

    /// <summary>Deterministic, compressible-but-not-trivial data: text-like runs mixed with
    /// incompressible random stretches (so frames contain both compressed and raw blocks).</summary>
    public static byte[] Data(int size, int seed = 1)
    {
        var rng = new Random(seed);
        var data = new byte[size];
        int p = 0;
        while (p < size)
        {
            if (rng.Next(8) == 0)
            {
                int n = Math.Min(size - p, rng.Next(1, 4096));
                rng.NextBytes(data.AsSpan(p, n));
                p += n;
            }
            else
            {
                int end = Math.Min(size, p + rng.Next(1, 16384));
                while (p < end)
                {
                    string w = rng.Next(10) == 0 ? rng.Next(100000).ToString() : Words[rng.Next(Words.Length)];
                    foreach (char ch in w)
                    {
                        if (p == end)
                            break;
                        data[p++] = (byte)ch;
                    }
                    if (p < end)
                        data[p++] = (byte)' ';
                }
            }
        }
        return data;
    }

    public static byte[] Compress(byte[] data, int level = 3, int threads = 0, int chunkSize = ZstdCompressStream.DefaultChunkSize)
    {
        var ms = new MemoryStream();
        using (var z = new ZstdCompressStream(ms, level, threads, chunkSize, leaveOpen: true))
            z.Write(data);
        return ms.ToArray();
    }

    /// <summary>threads: 1 = streaming decoder only; more = whole frames decoded in parallel.</summary>
    public static byte[] Decompress(byte[] compressed, int readSize = 1 << 16, int threads = 0)
    {
        using var z = new ZstdDecompressStream(new MemoryStream(compressed), threads);
        var result = new MemoryStream();
        var buf = new byte[readSize];
        int n;
        while ((n = z.Read(buf, 0, buf.Length)) > 0)
            result.Write(buf, 0, n);
        return result.ToArray();
    }

    public sealed record Frame(long Offset, long Size, bool Skippable, bool HasChecksum, ulong? ContentSize);

    /// <summary>Splits a zstd stream into frames by parsing headers and block headers.</summary>
    public static List<Frame> Frames(byte[] d)
    {
        var frames = new List<Frame>();
        int p = 0;
        while (p < d.Length)
        {
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(p));
            if ((magic & 0xFFFFFFF0) == 0x184D2A50)
            {
                int len = 8 + (int)BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(p + 4));
                frames.Add(new Frame(p, len, true, false, null));
                p += len;
                continue;
            }
            if (magic != 0xFD2FB528)
                throw new InvalidDataException($"bad magic at {p}");
            byte fhd = d[p + 4];
            bool single = (fhd & 0x20) != 0;
            bool checksum = (fhd & 0x04) != 0;
            int q = p + 5 + (single ? 0 : 1) + (fhd & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
            ulong? fcs;
            switch (fhd >> 6)
            {
                case 0:
                    fcs = single ? d[q] : null;
                    q += single ? 1 : 0;
                    break;
                case 1:
                    fcs = BinaryPrimitives.ReadUInt16LittleEndian(d.AsSpan(q)) + 256u;
                    q += 2;
                    break;
                case 2:
                    fcs = BinaryPrimitives.ReadUInt32LittleEndian(d.AsSpan(q));
                    q += 4;
                    break;
                default:
                    fcs = BinaryPrimitives.ReadUInt64LittleEndian(d.AsSpan(q));
                    q += 8;
                    break;
            }
            while (true)
            {
                int bh = d[q] | d[q + 1] << 8 | d[q + 2] << 16;
                q += 3;
                int type = (bh >> 1) & 3;
                q += type == 1 ? 1 : bh >> 3; // RLE blocks store one byte
                if ((bh & 1) != 0)
                    break;
            }
            if (checksum)
                q += 4;
            frames.Add(new Frame(p, q - p, false, checksum, fcs));
            p = q;
        }
        if (p != d.Length)
            throw new InvalidDataException("frame walk overran the data");
        return frames;
    }

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("kslurm-zstd-").FullName;
        public string File(string name) => System.IO.Path.Combine(Path, name);
        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    public static Result Run(string exe, params string[] args)
    {
        using var sandbox = new Sandbox();
        return sandbox.Exec(exe, args);
    }

    public static void Zstd(params string[] args)
    {
        var r = Run(ZstdCli, args);
        if (r.Code != 0)
            throw new Xunit.Sdk.XunitException($"zstd {string.Join(' ', args)} failed ({r.Code}): {r.Stderr}");
    }
}
