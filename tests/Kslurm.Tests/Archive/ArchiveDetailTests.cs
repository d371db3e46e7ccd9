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
    public void LStatReadsWhatTheKernelSays()
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
        // a UTF-8 name reaches the system call intact; hard links share the inode and count
        string u = dir.Sub("données é"), h = dir.Sub("hard");
        File.WriteAllText(u, "x");
        Assert.Equal(0, Libc.Link(u, h));
        Assert.Equal((2ul, FileStat.LStat(h).Inode), (FileStat.LStat(u).Links, FileStat.LStat(u).Inode));
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

    [Theory]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("1.5.3")]
    [InlineData("1..")]
    [InlineData(".5")]
    [InlineData("1.12345678z")]
    [InlineData("+1")]
    [InlineData(" 1")]
    [InlineData("1e9")]
    public void BadPaxTimesAreNotUsed(string text)
        => Assert.False(TreeExtractor.TryParsePaxTime(text, out _, out _));

    [Fact]
    public void PaxTimeFractionsArePaddedAndCut()
    {
        Assert.True(TreeExtractor.TryParsePaxTime("7.", out long s, out long ns));
        Assert.Equal((7L, 0L), (s, ns));
        Assert.True(TreeExtractor.TryParsePaxTime("7.000000001", out s, out ns));
        Assert.Equal((7L, 1L), (s, ns));
        Assert.True(TreeExtractor.TryParsePaxTime("7.05", out s, out ns));
        Assert.Equal((7L, 50_000_000L), (s, ns));
        // Digits past the ninth are not looked at (as GNU tar, which keeps nanoseconds only).
        Assert.True(TreeExtractor.TryParsePaxTime("7.123456789x", out s, out ns));
        Assert.Equal((7L, 123_456_789L), (s, ns));
    }

    [Fact]
    public void RingSpaceComesBackOnlyWhenEveryOlderPieceIsBack()
    {
        var ring = new ByteRing(100);
        int n = ring.Size; // whole pages
        try
        {
            ByteRing.Slot a = ring.Reserve(2 * n / 5)!.Value, b = ring.Reserve(2 * n / 5)!.Value;
            Assert.Equal((0, 2 * n / 5), (a.Offset, a.Length));
            Assert.Equal((2 * n / 5, 2 * n / 5), (b.Offset, b.Length));
            // b back first: its space is not free while a (older) is held.
            ring.Release(b);
            ByteRing.Slot? c = null;
            var waiter = new Thread(() => c = ring.Reserve(3 * n / 5));
            waiter.Start();
            Assert.False(waiter.Join(200));
            ring.Release(a);
            Assert.True(waiter.Join(10_000));
            // The bytes left at the end are skipped: a piece never wraps.
            Assert.Equal((0, 3 * n / 5), (c!.Value.Offset, c.Value.Length));
            ring.Close();
            Assert.Null(ring.Reserve(1));
        }
        finally
        {
            ring.Free();
        }
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
        Assert.Same("lib/x.py", ArchivePath.Normalise("lib/x.py")); // a clean name is kept as it is
        Assert.Equal("lib/x.py", ArchivePath.Normalise("./lib/./x.py/."));
        Assert.Null(ArchivePath.Normalise("./a/.."));
        Assert.Null(ArchivePath.Normalise(".."));
        string deep = string.Join('/', Enumerable.Repeat("abcdefghij", 100)); // longer than the stack buffer
        Assert.Equal(deep, ArchivePath.Normalise("./" + deep.Replace("/", "//") + "/"));
        Assert.Equal(deep, ArchivePath.Normalise(deep));
        foreach (string root in new[] { "", ".", "./", "/", "//", "./.", "././/" })
            Assert.True(ArchivePath.IsRoot(root), root);
        foreach (string other in new[] { "a", "./a", "/a", "a/", "..", "./..", "/./x" })
            Assert.False(ArchivePath.IsRoot(other), other);
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
