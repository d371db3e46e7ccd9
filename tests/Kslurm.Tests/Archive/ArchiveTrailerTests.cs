using Kslurm.Archive;
using static Kslurm.Tests.Archive.TreeTestUtil;

namespace Kslurm.Tests.Archive;

/// <summary>The entry count after the last zstd frame (src/Common/Archive/ArchiveTrailer.cs).</summary>
[Trait("Tier", "Unit")]
public class ArchiveTrailerTests
{
    [Fact]
    public void The_count_is_read_back_and_zstd_skips_the_frame()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("a.tar.zst");
        BuildSampleTree(src);
        ArchiveStats stats;
        using (var file = File.Create(archive))
        {
            using (var z = new ZstdCompressStream(file, leaveOpen: true))
                stats = TreeArchive.Write(src, z);
            ArchiveTrailer.Write(file, stats.Entries);
        }
        Assert.Equal(stats.Entries, ArchiveTrailer.ReadEntries(archive));
        // zstd's own tool and tar read the archive as if the frame were not there
        var listed = Sh($"zstd -dc {Q(archive)} | {Tar} -tf - | wc -l").Trim();
        Assert.Equal(stats.Entries.ToString(), listed);
        Assert.Equal("", Sh($"zstd -t -q {Q(archive)} 2>&1").Trim());
        // and so does ours
        Assert.Equal(stats.Entries, ExtractArchive(archive, dir.Sub("out"), AnyLinks).Entries);
    }

    [Fact]
    public void Archives_without_a_trailer_have_no_count()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src");
        BuildSampleTree(src);
        Sh($"{Tar} -cf - -C {Q(src)} . | zstd -q -o {Q(dir.Sub("cli.tar.zst"))}");
        Assert.Null(ArchiveTrailer.ReadEntries(dir.Sub("cli.tar.zst")));
        File.WriteAllBytes(dir.Sub("short"), new byte[10]);
        Assert.Null(ArchiveTrailer.ReadEntries(dir.Sub("short")));
        Assert.Null(ArchiveTrailer.ReadEntries(dir.Sub("missing")));

        // another tool's skippable frame of the same kind and size, with another tag
        var other = new byte[24];
        BitConverter.TryWriteBytes(other, 0x184D2A5Eu);
        BitConverter.TryWriteBytes(other.AsSpan(4), 16u);
        "other-12"u8.CopyTo(other.AsSpan(8));
        File.WriteAllBytes(dir.Sub("other"), other);
        Assert.Null(ArchiveTrailer.ReadEntries(dir.Sub("other")));
    }
}
