using System.Formats.Tar;
using System.Runtime.InteropServices;
using static Kslurm.Tests.Archive.TreeTestUtil;
using Kslurm.Archive;
using Kslurm.Files;

namespace Kslurm.Tests.Archive;

/// <summary>lstat, PAX times, names, and roots that are symlinks.</summary>
[Trait("Tier", "Unit")]
public class ArchiveDetailTests
{
    [Fact]
    public unsafe void LStatAgreesWithDotNetAndTheOldGlibcEntryPoint()
    {
        using var dir = new TempDir();
        string f = dir.Sub("f"), l = dir.Sub("l");
        File.WriteAllText(f, "12345");
        File.SetUnixFileMode(f, (UnixFileMode)0x9ED); // 4755
        PosixIo.SetMTime(f, 1_234_567_890, 123_456_789);
        File.CreateSymbolicLink(l, "f");
        PosixIo.SetMTime(l, 1_000_000_000, 5);

        FileStat st = FileStat.LStat(f);
        Assert.Equal(FileKind.Regular, st.Kind);
        Assert.Equal((UnixFileMode)0x9ED, st.Mode);
        Assert.Equal(5, st.Size);
        Assert.Equal(1ul, st.Links);
        Assert.Equal((1_234_567_890L, 123_456_789L), (st.MTimeSeconds, st.MTimeNanoseconds));
        Assert.Equal(new FileInfo(f).LastWriteTimeUtc, st.MTime.UtcDateTime); // both in 100 ns ticks
        FileStat sl = FileStat.LStat(l);
        Assert.Equal(FileKind.Symlink, sl.Kind); // not followed
        Assert.Equal((1_000_000_000L, 5L), (sl.MTimeSeconds, sl.MTimeNanoseconds));
        Assert.NotEqual(st.Inode, sl.Inode);
        Assert.Equal(FileKind.Directory, FileStat.LStat(dir.Path).Kind);
        Assert.Null(FileStat.TryLStat(dir.Sub("missing")));
        Assert.Null(FileStat.TryLStat(dir.Sub("f/below-a-file")));

        // glibc before 2.33 has no `lstat` symbol: the __lxstat fallback must read the same.
        Span<byte> buf = stackalloc byte[256];
        fixed (byte* p = buf)
            Assert.Equal(0, StatNative.LXStat(f, p));
        Assert.Equal(st, StatNative.Parse(buf));
        Assert.Equal(Architecture.X64, RuntimeInformation.ProcessArchitecture); // the layout tested here
    }

    [Fact]
    public void PaxArchiveWithNanosecondTimes()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("pax.tar.zst");
        BuildSampleTree(src);
        PosixIo.SetMTime(Path.Combine(src, "secret"), 1_500_000_000, 123_456_789);
        PosixIo.SetMTime(Path.Combine(src, "bin/python"), 1_500_000_001, 987_654_321);
        PosixIo.SetMTime(Path.Combine(src, "empty"), 1_500_000_002, 1);
        Sh($"{Tar} --format=posix -cf - -C {Q(src)} . | zstd -q -o {Q(archive)}");

        Directory.CreateDirectory(dir.Sub("gnu"));
        Sh($"{Tar} --zstd -xpf {Q(archive)} -C {Q(dir.Sub("gnu"))}");
        ExtractArchive(archive, dir.Sub("ours"), AnyLinks);
        var ours = Snapshot(dir.Sub("ours"), includeRoot: true);
        AssertSameTree(AsExtracted(Snapshot(dir.Sub("gnu"), includeRoot: true)), ours);
        Assert.Equal(123_456_789, ours["secret"].MTimeNs);
        Assert.Equal(987_654_321, ours["bin/python"].MTimeNs);
        Assert.Equal(1, ours["empty"].MTimeNs);
    }

    [Theory]
    [InlineData("1700000000", 1700000000, 0)]
    [InlineData("1700000000.5", 1700000000, 500000000)]
    [InlineData("1700000000.123456789123", 1700000000, 123456789)]
    [InlineData("-1.25", -2, 750000000)]
    [InlineData("-3", -3, 0)]
    public void PaxTimes(string text, long seconds, long nanoseconds)
    {
        Assert.True(TreeExtractor.TryParsePaxTime(text, out long s, out long ns));
        Assert.Equal((seconds, nanoseconds), (s, ns));
    }

    [Fact]
    public void NamesAreNormalised()
    {
        Assert.Equal("a/b", ArchivePath.Normalise("./a//b/"));
        Assert.Equal("", ArchivePath.Normalise("./"));
        Assert.Equal("", ArchivePath.Normalise("."));
        Assert.Equal("a/b", ArchivePath.Normalise("a/./b"));
        Assert.Null(ArchivePath.Normalise("/a"));
        Assert.Null(ArchivePath.Normalise("a/../b"));
        Assert.Null(ArchivePath.Normalise(""));
        Assert.Equal("a..b/..c", ArchivePath.Normalise("a..b/..c"));
        // UTF-8 byte order: U+FF21 (EF BC A1) before U+1F40D (F0 9F 90 8D); ordinal UTF-16 says the reverse.
        Assert.True(ArchivePath.CompareCodePoints("\uFF21", "🐍") < 0);
        Assert.True(string.CompareOrdinal("\uFF21", "🐍") > 0);
    }

    [Fact]
    public void SymlinkedRootIsFollowedButNothingBelow()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("real/sub"));
        File.WriteAllText(dir.Sub("real/sub/f"), "f");
        File.CreateSymbolicLink(dir.Sub("root"), "real");
        File.CreateSymbolicLink(dir.Sub("real/up"), "..");
        WriteArchive(dir.Sub("root"), dir.Sub("a.tar.zst"));
        Assert.Equal("sub/\nsub/f\nup\n", Sh($"{Tar} --zstd -tf {Q(dir.Sub("a.tar.zst"))}"));

        File.CreateSymbolicLink(dir.Sub("target"), "out");
        Directory.CreateDirectory(dir.Sub("out"));
        using Stream tar = ArchiveFile.OpenRead(dir.Sub("a.tar.zst"));
        TreeArchive.Extract(tar, dir.Sub("target"), new ExtractOptions { Exclude = rel => rel == "up" }); // up -> .. leads out
        Assert.Equal("f", File.ReadAllText(dir.Sub("out/sub/f")));
    }

    [Fact]
    public void NonUtf8NameIsAUserError()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("src"));
        Sh($"touch {Q(dir.Sub("src"))}/$'bad\\xff'");
        try
        {
            var e = Assert.Throws<KslurmException>(() => WriteArchive(dir.Sub("src"), dir.Sub("a.tar.zst")));
            Assert.Contains("not valid UTF-8", e.Message);
        }
        finally
        {
            Sh($"rm -rf {Q(dir.Sub("src"))}"); // .NET cannot name the file to delete it
        }
    }
}
