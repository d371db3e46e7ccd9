// zstdbench c|d <in> <out> [-T threads] [-l level] [-B chunkBytes]
// "-" as <in>/<out> means stdin/stdout. Exit code 1 with a message on any error.
// Hidden, for bench/archive.sh: `zstdbench tar-c DIR OUT.tar.zst` (TreeArchive.Write through
// ZstdCompressStream) and `zstdbench tar-x IN DIR` (ArchiveFile.OpenRead + TreeArchive.Extract,
// any symlink target accepted; DIR is created and must not exist or be empty).
using Kslurm;

if (args.Length == 3 && args[0] is "tar-c" or "tar-x")
    return TarBench(args[0], args[1], args[2]);

if (args.Length < 3 || (args[0] != "c" && args[0] != "d"))
{
    Console.Error.WriteLine("usage: zstdbench c|d <in> <out> [-T threads] [-l level] [-B chunkBytes]");
    return 2;
}

int threads = 0, level = ZstdCompressStream.DefaultLevel, chunk = ZstdCompressStream.DefaultChunkSize;
for (int i = 3; i + 1 < args.Length; i += 2)
{
    int v = int.Parse(args[i + 1]);
    switch (args[i])
    {
        case "-T": threads = v; break;
        case "-l": level = v; break;
        case "-B": chunk = v; break;
        default:
            Console.Error.WriteLine($"zstdbench: unknown option {args[i]}");
            return 2;
    }
}

try
{
    using Stream input = args[1] == "-"
        ? Console.OpenStandardInput(1 << 20)
        : new FileStream(args[1], FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
    using Stream output = args[2] == "-"
        ? Console.OpenStandardOutput()
        : new FileStream(args[2], FileMode.Create, FileAccess.Write, FileShare.None, 1);
    if (args[0] == "c")
    {
        using var z = new ZstdCompressStream(output, level, threads, chunk, leaveOpen: true);
        z.WriteFrom(input);
    }
    else
    {
        using var z = new ZstdDecompressStream(input, threads, leaveOpen: true);
        z.CopyTo(output, 1 << 20);
    }
    return 0;
}
catch (Exception e) when (e is IOException or UnauthorizedAccessException)
{
    Console.Error.WriteLine($"zstdbench: {e.Message}");
    return 1;
}

static int TarBench(string mode, string from, string to)
{
    try
    {
        ArchiveStats stats;
        if (mode == "tar-c")
        {
            using var file = new FileStream(to, FileMode.Create, FileAccess.Write, FileShare.None, 1);
            using var z = new ZstdCompressStream(file);
            stats = TreeArchive.Write(from, z);
        }
        else
        {
            Directory.CreateDirectory(to);
            // ZSTDBENCH_THREADS / ZSTDBENCH_WRITERS: decoder and writer thread counts (0 = automatic).
            int.TryParse(Environment.GetEnvironmentVariable("ZSTDBENCH_THREADS"), out int threads);
            int.TryParse(Environment.GetEnvironmentVariable("ZSTDBENCH_WRITERS"), out int writers);
            using Stream tar = ArchiveFile.OpenRead(from, threads);
            stats = TreeArchive.Extract(tar, to, new ExtractOptions { ArchiveName = from, Symlink = (_, t) => t, Writers = writers });
        }
        if (Environment.GetEnvironmentVariable("ZSTDBENCH_STATS") == "1")
            Console.Error.WriteLine($"zstdbench: {stats}");
        return 0;
    }
    catch (KslurmException e)
    {
        Console.Error.WriteLine($"zstdbench: {e.Message}");
        return 1;
    }
}
