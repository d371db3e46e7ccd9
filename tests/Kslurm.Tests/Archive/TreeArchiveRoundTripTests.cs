using System.Formats.Tar;
using System.Text;
using static Kslurm.Tests.Archive.TreeTestUtil;
using Kslurm.Archive;
using Kslurm.Files;
using Kslurm.Venv;

namespace Kslurm.Tests.Archive;

/// <summary>Our archives against GNU tar, both ways, on a tree with every awkward feature.</summary>
[Trait("Tier", "Unit")]
public class TreeArchiveRoundTripTests
{
    [Fact]
    public void OurArchiveExtractsIdenticallyWithGnuTarAndWithUs()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("a.tar.zst");
        BuildSampleTree(src);
        var expected = Snapshot(src);

        ArchiveStats written = WriteArchive(src, archive);

        Directory.CreateDirectory(dir.Sub("gnu"));
        Sh($"{Tar} --zstd -xpf {Q(archive)} -C {Q(dir.Sub("gnu"))}");
        AssertSameTree(expected, Snapshot(dir.Sub("gnu")));

        ArchiveStats extracted = ExtractArchive(archive, dir.Sub("ours"), AnyLinks);
        AssertSameTree(AsExtracted(expected), Snapshot(dir.Sub("ours")));
        // Same root too: neither tool touches the target folder, as no "./" entry is stored.
        AssertSameTree(AsExtracted(Snapshot(dir.Sub("gnu"), includeRoot: true).Where(kv => kv.Key != ".").ToDictionary()),
            Snapshot(dir.Sub("ours")));

        int files = expected.Count(kv => kv.Value.Kind == FileKind.Regular);
        Assert.Equal(new ArchiveStats(files - 2, expected.Count(kv => kv.Value.Kind == FileKind.Directory),
            expected.Count(kv => kv.Value.Kind == FileKind.Symlink), 2,
            expected.Where(kv => kv.Value.Kind == FileKind.Regular && kv.Key is not ("links/hard2" or "other/hard3")).Sum(kv => kv.Value.Size)),
            written);
        Assert.Equal(written, extracted);
    }

    [Fact]
    public void ListingMatchesGnuTarOfTheSameTree()
    {
        // GNU tar with --sort=name walks in the same order, so the `tar -tv` listings of both
        // archives agree line for line once GNU's "./" prefix and root entry are dropped: same
        // names, types, modes, sizes, mtimes, link targets and hard-link choices.
        using var dir = new TempDir();
        string src = dir.Sub("src"), ours = dir.Sub("ours.tar.zst"), gnu = dir.Sub("gnu.tar");
        BuildSampleTree(src);
        WriteArchive(src, ours);
        Sh($"{Tar} --sort=name --format=gnu -cf {Q(gnu)} -C {Q(src)} .");

        string[] ourList = Sh($"TZ=UTC {Tar} --zstd --numeric-owner -tvf {Q(ours)}").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        string[] gnuList = Sh($"TZ=UTC {Tar} --numeric-owner -tvf {Q(gnu)}").Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Where(l => !l.EndsWith(" ./"))
            .Select(l => l.Replace(" ./", " ").Replace(" link to ./", " link to "))
            .ToArray();
        Assert.Equal(gnuList, ourList);
        Assert.Contains(ourList, l => l.StartsWith("drwxrwxrwt ") && l.EndsWith(" tmp/"));
        Assert.Contains(ourList, l => l.StartsWith("drwxr-sr-x ") && l.EndsWith(" shared/"));
        Assert.Contains(ourList, l => l.StartsWith("hrw-r--r-- ") && l.EndsWith(" links/hard2 link to links/hard1"));
        Assert.DoesNotContain(ourList, l => l.Contains("dirlink/")); // symlinked folders are not entered

        // And the archives are about the same size (GNU stores user names, we do not).
        long gnuZst = long.Parse(Sh($"zstd -3 -c {Q(gnu)} | wc -c"));
        long ourZst = new FileInfo(ours).Length;
        Assert.InRange(ourZst, gnuZst * 0.95, gnuZst * 1.02);
    }

    [Fact]
    public void GnuTarArchiveExtractsIdenticallyWithUs()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("gnu.tar.zst");
        BuildSampleTree(src);
        // Not sorted, "./" prefixes, a root entry: what `tar -C dir .` really writes.
        Sh($"{Tar} -cf - -C {Q(src)} . | zstd -q -T0 -o {Q(archive)}");

        Directory.CreateDirectory(dir.Sub("gnu"));
        Sh($"{Tar} --zstd -xpf {Q(archive)} -C {Q(dir.Sub("gnu"))}");
        ExtractArchive(archive, dir.Sub("ours"), AnyLinks);

        AssertSameTree(AsExtracted(Snapshot(src)), Snapshot(dir.Sub("ours")));
        // The "./" entry gives the target folder the source root's mode and mtime, as with GNU tar.
        AssertSameTree(AsExtracted(Snapshot(dir.Sub("gnu"), includeRoot: true)), Snapshot(dir.Sub("ours"), includeRoot: true));
    }

    [Fact]
    public void ModesFollowTheUmaskWithoutSetuidOrSetgid()
    {
        // For root too, as GNU tar does for a normal user: an archive planted in a shared folder
        // must not give whoever unpacks it a setuid program or a world-writable file.
        using var dir = new TempDir();
        byte[] tar = Craft(w =>
        {
            w.AddDir("d", 0x1FF);         // 0777
            w.AddDir("s", 0xFFF);         // 7777: sticky stays on a folder
            w.AddFile("d/f", "x", 0x1B6); // 0666
            w.AddFile("g", "y", 0xFFF);   // 7777: setuid, setgid and sticky too
        });
        Directory.CreateDirectory(dir.Sub("t"));
        TreeArchive.Extract(new MemoryStream(tar), dir.Sub("t"), ExtractOptions.Default);
        var snap = Snapshot(dir.Sub("t"));
        int umask = (int)PosixIo.Umask();
        Assert.Equal(Octal((UnixFileMode)(0x1FF & ~umask)), snap["d"].Mode);
        Assert.Equal(Octal((UnixFileMode)(0x3FF & ~umask)), snap["s"].Mode);
        Assert.Equal(Octal((UnixFileMode)(0x1B6 & ~umask)), snap["d/f"].Mode);
        Assert.Equal(Octal((UnixFileMode)(0x1FF & ~umask)), snap["g"].Mode);
    }

    [Fact]
    public void LargeFilesStreamBothWays()
    {
        // Above the writer's preload limit (read while writing the tar) and above the
        // extractor's in-memory limit (streamed to disk, then shown to TransformLarge, not Transform).
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("a.tar.zst");
        Directory.CreateDirectory(src);
        var big = new byte[(24 << 20) + 12345];
        new Random(3).NextBytes(big.AsSpan(0, 1 << 20));
        big[^1] = 7;
        File.WriteAllBytes(Path.Combine(src, "big.so"), big);
        var mid = new byte[TreeWriter.PrefetchLimit + 1];
        mid[0] = 1;
        File.WriteAllBytes(Path.Combine(src, "mid.bin"), mid);
        File.WriteAllText(Path.Combine(src, "small.txt"), "/old/venv");
        foreach (string f in Directory.GetFiles(src))
            PosixIo.SetMTime(f, 1_600_000_000, 0); // the archive keeps whole seconds
        WriteArchive(src, archive);

        var seen = new System.Collections.Concurrent.ConcurrentBag<string>();
        var seenLarge = new List<string>();
        Directory.CreateDirectory(dir.Sub("out"));
        using (Stream tar = ArchiveFile.OpenRead(archive))
            TreeArchive.Extract(tar, dir.Sub("out"), new ExtractOptions
            {
                Transform = (rel, content) =>
                {
                    seen.Add(rel);
                    return null;
                },
                TransformLarge = (rel, input, open) =>
                {
                    seenLarge.Add(rel);
                    Assert.Equal(0, input.Position);
                    return false;
                },
            });
        AssertSameTree(AsExtracted(Snapshot(src)), Snapshot(dir.Sub("out")));
        Assert.Equal(["small.txt"], seen.Order(StringComparer.Ordinal));
        Assert.Equal(["big.so", "mid.bin"], seenLarge.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void LargeFileInAFolderMadeJustBefore()
    {
        // Folders are made by the writer thread, large files by the reader: a large file must
        // wait for its folder, whether the archive names it (pkg/) or only implies it (pkg/sub/,
        // as Python's tarfile writes when given files alone).
        using var dir = new TempDir();
        string archive = dir.Sub("a.tar.zst");
        Sh($$"""
            cd {{Q(dir.Path)}} && python3 - <<'PY'
            import io, tarfile
            def add(t, name, data=None):
                i = tarfile.TarInfo(name)
                if data is None:
                    i.type, i.mode = tarfile.DIRTYPE, 0o755
                    t.addfile(i)
                else:
                    i.size, i.mode = len(data), 0o644
                    t.addfile(i, io.BytesIO(data))
            with tarfile.open("a.tar", "w") as t:
                add(t, "pkg/")
                add(t, "pkg/a.txt", b"a")
                add(t, "pkg/sub/deeper/big.bin", bytes(range(256)) * (12 << 10))
                add(t, "pkg/sub/deeper/z.txt", b"z")
                add(t, "pkg/other/big2.bin", b"\x01" * (5 << 20))
            PY
            zstd -q --rm a.tar -o a.tar.zst
            """);
        ExtractArchive(archive, dir.Sub("out"));
        Assert.Equal(bytes256x(12 << 10), File.ReadAllBytes(dir.Sub("out/pkg/sub/deeper/big.bin")));
        Assert.Equal(5 << 20, new FileInfo(dir.Sub("out/pkg/other/big2.bin")).Length);
        Assert.Equal("z", File.ReadAllText(dir.Sub("out/pkg/sub/deeper/z.txt")));
        Assert.Equal("a", File.ReadAllText(dir.Sub("out/pkg/a.txt")));

        static byte[] bytes256x(int n) => Enumerable.Repeat(Enumerable.Range(0, 256).Select(i => (byte)i), n).SelectMany(b => b).ToArray();
    }

    [Fact]
    public void EmptyTreeAndStats()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(dir.Sub("src"));
        ArchiveStats s = WriteArchive(dir.Sub("src"), dir.Sub("a.tar.zst"));
        Assert.Equal(new ArchiveStats(0, 0, 0, 0, 0), s);
        Assert.Equal("", Sh($"{Tar} --zstd -tf {Q(dir.Sub("a.tar.zst"))}"));
        Assert.Equal(s, ExtractArchive(dir.Sub("a.tar.zst"), dir.Sub("out")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Sub("out")));
    }

    [Fact]
    public void SocketsAndFifosAreSkippedWithoutBlocking()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src");
        Directory.CreateDirectory(src);
        File.WriteAllText(Path.Combine(src, "a"), "a");
        Sh($"mkfifo {Q(Path.Combine(src, "fifo"))}");
        using var socket = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix,
            System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        socket.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(Path.Combine(src, "sock")));

        ArchiveStats s = WithTimeout(() => WriteArchive(src, dir.Sub("a.tar.zst")));
        Assert.Equal(2, s.Skipped);
        Assert.Equal(1, s.Files);
        Assert.Equal("a\n", Sh($"{Tar} --zstd -tf {Q(dir.Sub("a.tar.zst"))}"));
    }

    [Fact]
    public void MissingSourceIsAUserError()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<KslurmException>(() => WriteArchive(dir.Sub("nope"), dir.Sub("a.tar.zst")));
        Assert.Contains(dir.Sub("nope"), e.Message);
    }

    [Fact]
    public void TargetMustBeEmpty()
    {
        using var dir = new TempDir();
        File.WriteAllText(dir.Sub("x"), "");
        var e = Assert.Throws<KslurmException>(() =>
            TreeArchive.Extract(new MemoryStream(Craft(w => w.AddFile("a"))), dir.Path, ExtractOptions.Default));
        Assert.Contains("not empty", e.Message);
    }

    [Fact]
    public void ExcludeLeavesOutEntriesAndSubtrees()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("a.tar.zst");
        BuildSampleTree(src);
        var asked = new List<string>();
        WriteArchive(src, archive, exclude: rel =>
        {
            asked.Add(rel);
            return rel is "data" or "secret" or "links/hard1";
        });
        Assert.DoesNotContain(asked, a => a.StartsWith("data/")); // never entered
        Assert.Contains("bin/python", asked);
        Assert.Contains("level00-dddddddddddddddddddddd/level01-dddddddddddddddddddddd", asked);
        Assert.DoesNotContain(asked, a => a.EndsWith('/'));

        ExtractArchive(archive, dir.Sub("out"), AnyLinks);
        var expected = AsExtracted(Snapshot(src));
        foreach (string k in expected.Keys.Where(k => k is "data" or "secret" or "links/hard1" || k.StartsWith("data/")).ToList())
            expected.Remove(k);
        // With the first name excluded, the second carries the content and the third links to it.
        expected["links/hard2"] = expected["links/hard2"] with { SameInode = "links/hard2,other/hard3" };
        expected["other/hard3"] = expected["other/hard3"] with { SameInode = "links/hard2,other/hard3" };
        AssertSameTree(expected, Snapshot(dir.Sub("out")));
    }

    [Fact]
    public void ExtractExcludeAndTransform()
    {
        using var dir = new TempDir();
        string src = dir.Sub("src"), archive = dir.Sub("a.tar.zst");
        BuildSampleTree(src);
        WriteArchive(src, archive);
        byte[] oldPath = Encoding.UTF8.GetBytes("/old/venv"), newPath = Encoding.UTF8.GetBytes("/new/place/venv");
        int threads = 0;
        var threadIds = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        ExtractArchive(archive, dir.Sub("out"), new ExtractOptions
        {
            Symlink = (_, t) => t,
            Exclude = rel => rel is "private" or "links/hard1",
            Transform = (rel, content) =>
            {
                threadIds[Environment.CurrentManagedThreadId] = true;
                Interlocked.Increment(ref threads);
                if (content.Span.IndexOf(oldPath) < 0)
                    return null;
                return Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(content.Span).Replace("/old/venv", "/new/place/venv"));
            },
        });
        var expected = AsExtracted(Snapshot(src));
        expected.Remove("private");
        expected.Remove("private/key");
        // links/hard1 is excluded: the hard links to it are skipped with it.
        expected.Remove("links/hard1");
        expected.Remove("links/hard2");
        expected.Remove("other/hard3");
        var actual = Snapshot(dir.Sub("out"));
        Assert.Equal("#!/bin/sh\necho /new/place/venv/bin/tool\n", File.ReadAllText(dir.Sub("out/bin/tool")));
        Assert.DoesNotContain("/old/venv", File.ReadAllText(dir.Sub("out/data/text.py")));
        Assert.Equal(3000, File.ReadAllText(dir.Sub("out/data/text.py")).Split("/new/place/venv").Length - 1);
        foreach (string changed in new[] { "bin/tool", "data/text.py" })
        {
            Assert.NotEqual(expected[changed].Sha, actual[changed].Sha);
            // a rewritten file gets a fresh mtime, so Python does not trust a .pyc of the old text
            Assert.True(File.GetLastWriteTimeUtc(dir.Sub("out/" + changed)) > DateTime.UtcNow.AddMinutes(-10), changed);
            expected[changed] = actual[changed] with { Sha = expected[changed].Sha, Size = expected[changed].Size };
            actual[changed] = actual[changed] with { Sha = expected[changed].Sha, Size = expected[changed].Size };
        }
        AssertSameTree(expected, actual); // modes kept on transformed files
    }

    [Fact]
    public void KpySymlinkPolicy()
    {
        // kpy's rules: links into the venv's old absolute location move with it, every other
        // link is kept as it is (a link is data); nothing is written through any of them.
        using var dir = new TempDir();
        byte[] tar = Craft(w =>
        {
            w.AddDir("bin");
            w.AddLink(TarEntryType.SymbolicLink, "bin/python", "python3.11");
            w.AddLink(TarEntryType.SymbolicLink, "bin/python3.11", "/usr/bin/python3.11");
            w.AddLink(TarEntryType.SymbolicLink, "lib64", "/old/venv/lib");
        });
        Func<string, string, string?> kpy = new VenvRelocation(["/old/venv"], "/new/venv").RewriteSymlink;
        var asked = new List<string>();
        Directory.CreateDirectory(dir.Sub("t"));
        TreeArchive.Extract(new MemoryStream(tar), dir.Sub("t"), new ExtractOptions
        {
            Symlink = (rel, target) =>
            {
                asked.Add(rel);
                return kpy(rel, target);
            },
        });
        Assert.Equal(["bin/python3.11", "lib64"], asked); // the relative link stays inside: not asked
        Assert.Equal("python3.11", new FileInfo(dir.Sub("t/bin/python")).LinkTarget);
        Assert.Equal("/usr/bin/python3.11", new FileInfo(dir.Sub("t/bin/python3.11")).LinkTarget);
        Assert.Equal("/new/venv/lib", new FileInfo(dir.Sub("t/lib64")).LinkTarget);

        Directory.CreateDirectory(dir.Sub("u"));
        byte[] other = Craft(w =>
        {
            w.AddLink(TarEntryType.SymbolicLink, "etc", "/etc");
            w.AddLink(TarEntryType.SymbolicLink, "up", "../..");
        });
        TreeArchive.Extract(new MemoryStream(other), dir.Sub("u"), new ExtractOptions { Symlink = kpy });
        Assert.Equal("/etc", new FileInfo(dir.Sub("u/etc")).LinkTarget);
        Assert.Equal("../..", new FileInfo(dir.Sub("u/up")).LinkTarget);

        Directory.CreateDirectory(dir.Sub("v"));
        byte[] through = Craft(w =>
        {
            w.AddLink(TarEntryType.SymbolicLink, "etc", "/etc");
            w.AddFile("etc/kslurm-test-should-not-exist");
        });
        var e = Assert.Throws<KslurmException>(() =>
            TreeArchive.Extract(new MemoryStream(through), dir.Sub("v"), new ExtractOptions { Symlink = kpy }));
        Assert.Contains("'etc/kslurm-test-should-not-exist': it would be written through the symlink 'etc'", e.Message);
        Assert.False(File.Exists("/etc/kslurm-test-should-not-exist"));
    }
}
