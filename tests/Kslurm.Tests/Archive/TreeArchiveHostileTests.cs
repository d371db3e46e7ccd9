using System.Formats.Tar;
using static Kslurm.Tests.Archive.TreeTestUtil;
using Kslurm.Archive;

namespace Kslurm.Tests.Archive;

/// <summary>
/// Crafted archives that try to write outside the target folder, through symlinks, or create
/// special files. Each must be refused with a message naming the entry, leave everything
/// outside the target untouched, and stop before the entries that follow.
/// </summary>
[Trait("Tier", "Unit")]
public class TreeArchiveHostileTests
{
    /// <summary>
    /// A sandbox with the target folder "t" and a sibling "outside" holding one file. Paths the
    /// attacks aim at lie in "outside", never in real system folders: a bug must not be able to
    /// damage the machine running the tests.
    /// </summary>
    private sealed class Scene : IDisposable
    {
        public readonly TempDir Dir = new();
        public string Target => Dir.Sub("t");
        public string Outside => Dir.Sub("outside");

        public Scene()
        {
            Directory.CreateDirectory(Target);
            Directory.CreateDirectory(Outside);
            File.WriteAllText(Path.Combine(Outside, "passwd"), "root:x:0:0\n");
        }

        public KslurmException Refused(byte[] tar, string entry, ExtractOptions? options = null)
        {
            var before = Snapshot(Dir.Path, includeRoot: false).Where(kv => !kv.Key.StartsWith("t/") && kv.Key != "t").ToDictionary();
            var e = WithTimeout(() => Assert.Throws<KslurmException>(() =>
                TreeArchive.Extract(new ZstdDecompressStream(new MemoryStream(Zstd(tar))), Target,
                    options ?? new ExtractOptions { ArchiveName = "evil.tar.zst" })));
            Assert.Contains($"'{entry}'", e.Message);
            Assert.DoesNotContain("\n", e.Message);
            // Nothing outside the target changed, nothing after the refused entry was written.
            var after = Snapshot(Dir.Path, includeRoot: false).Where(kv => !kv.Key.StartsWith("t/") && kv.Key != "t").ToDictionary();
            AssertSameTree(before, after);
            Assert.False(File.Exists(Path.Combine(Target, "after")), "an entry after the refused one was extracted");
            return e;
        }

        public void Dispose() => Dir.Dispose();
    }

    private static void After(TarWriter w) => w.AddFile("after", "should not be extracted");

    [Theory]
    [InlineData("../x")]
    [InlineData("a/../../x")]
    [InlineData("a/b/../../../x")]
    [InlineData("./../x")]
    [InlineData("..")]
    public void DotDotNames(string name)
    {
        using var s = new Scene();
        var e = s.Refused(Craft(w =>
        {
            w.AddDir("a");
            w.AddFile(name.Replace("x", "outside/passwd"), "pwned");
            After(w);
        }), name.Replace("x", "outside/passwd"));
        Assert.Contains("leads out of the target folder", e.Message);
        Assert.StartsWith("evil.tar.zst: refusing entry", e.Message);
        Assert.NotNull(e.Hint);
    }

    [Fact]
    public void AbsoluteName()
    {
        using var s = new Scene();
        string abs = Path.Combine(s.Outside, "passwd");
        var e = s.Refused(Craft(w =>
        {
            w.AddFile(abs, "pwned");
            After(w);
        }), abs);
        Assert.Contains("absolute path", e.Message);
    }

    [Theory]
    [InlineData("/")]    // Python's tarfile adding the folder with arcname="" (the Python kslurm's kpy save)
    [InlineData("./")]   // tar -C dir .
    [InlineData(".")]
    [InlineData("//")]
    [InlineData("/./")]
    public void RootEntryIsTheTargetItself(string name)
    {
        using var s = new Scene();
        TreeArchive.Extract(new MemoryStream(Craft(w =>
        {
            w.AddDir(name, 0x1C0);
            w.AddFile("f");
        })), s.Target, ExtractOptions.Default);
        Assert.Equal("0700", Snapshot(s.Target, includeRoot: true)["."].Mode);
        Assert.True(File.Exists(Path.Combine(s.Target, "f")));
    }

    [Fact]
    public void RootEntryThatIsNotAFolderIsRefused()
    {
        using var s = new Scene();
        var e = s.Refused(Craft(w =>
        {
            w.AddFile("/", "x");
            After(w);
        }), "/");
        Assert.Contains("the archive root is not a directory", e.Message);
    }

    [Fact]
    public void AbsoluteNamePax()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "/etc/"));
            After(w);
        }, TarEntryFormat.Pax), "/etc/");
    }

    [Fact]
    public void SymlinkToEtcIsRefusedByDefault()
    {
        using var s = new Scene();
        var e = s.Refused(Craft(w =>
        {
            w.AddLink(TarEntryType.SymbolicLink, "l", "/etc");
            w.AddFile("l/passwd", "pwned");
        }), "l");
        Assert.Contains("outside the target folder", e.Message);
    }

    [Fact]
    public void WritingThroughAnAllowedSymlinkIsRefused()
    {
        // Even when the policy accepts the link itself, nothing is written through it.
        using var s = new Scene();
        var e = s.Refused(Craft(w =>
        {
            w.AddLink(TarEntryType.SymbolicLink, "l", s.Outside);
            w.AddFile("l/passwd", "pwned");
            After(w);
        }), "l/passwd", AnyLinks);
        Assert.Contains("through the symlink 'l'", e.Message);
    }

    [Fact]
    public void WritingThroughAnInsideSymlinkIsRefused()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddDir("d");
            w.AddLink(TarEntryType.SymbolicLink, "e", "d");
            w.AddFile("e/f");
            After(w);
        }), "e/f");
    }

    [Theory]
    [InlineData("..")]
    [InlineData("../outside")]
    [InlineData("d/../..")]
    [InlineData("./../../../../../../../../etc")]
    public void SymlinkLeadingOut(string target)
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddDir("d");
            w.AddLink(TarEntryType.SymbolicLink, "l", target);
            After(w);
        }), "l");
    }

    [Fact]
    public void SymlinkChainThroughEarlierLinks()
    {
        // d/up -> .. is the root: harmless alone; d/up2 -> up/.. goes one level above it.
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddDir("d");
            w.AddLink(TarEntryType.SymbolicLink, "d/up", "..");
            w.AddLink(TarEntryType.SymbolicLink, "d/up2", "up/../outside");
            After(w);
        }), "d/up2");
    }

    [Fact]
    public void SymlinkChainThroughLaterLinks()
    {
        // d/x -> s/../../outside looks inside while d/s does not exist (d/s/.. = d, d/.. = the
        // root); once d/s -> .. (the root) arrives it leads out. Caught by the final check,
        // before any symlink is created.
        using var s = new Scene();
        var e = s.Refused(Craft(w =>
        {
            w.AddDir("d");
            w.AddLink(TarEntryType.SymbolicLink, "d/x", "s/../../outside");
            w.AddLink(TarEntryType.SymbolicLink, "d/s", "..");
        }), "d/x");
        Assert.Contains("through other links", e.Message);
        Assert.False(Path.Exists(Path.Combine(s.Target, "d/x")));
        Assert.False(Path.Exists(Path.Combine(s.Target, "d/s")));
    }

    [Fact]
    public void SymlinkThroughAnApprovedAbsoluteLink()
    {
        // The policy approved bin/python3 -> /usr/bin/python3 as an end point; a relative link
        // that goes on through it must ask the policy again (which refuses).
        using var s = new Scene();
        var options = new ExtractOptions
        {
            Symlink = (rel, target) => target == "/usr/bin/python3" ? target : null,
        };
        s.Refused(Craft(w =>
        {
            w.AddDir("bin");
            w.AddLink(TarEntryType.SymbolicLink, "bin/python3", "/usr/bin/python3");
            w.AddLink(TarEntryType.SymbolicLink, "bin/python", "python3");
            w.AddLink(TarEntryType.SymbolicLink, "bin/lib", "python3/../../lib");
            After(w);
        }), "bin/lib", options);
    }

    [Fact]
    public void SymlinkLoopsAreHarmless()
    {
        using var s = new Scene();
        byte[] tar = Craft(w =>
        {
            w.AddLink(TarEntryType.SymbolicLink, "a", "b");
            w.AddLink(TarEntryType.SymbolicLink, "b", "a/..");
            w.AddLink(TarEntryType.SymbolicLink, "self", "self/x");
        });
        TreeArchive.Extract(new MemoryStream(tar), s.Target, ExtractOptions.Default);
        Assert.Equal("b", new FileInfo(Path.Combine(s.Target, "a")).LinkTarget);
    }

    [Fact]
    public void AnApprovedRelativeLinkOutIsCreatedButNeverWrittenThrough()
    {
        using var s = new Scene();
        TreeArchive.Extract(new MemoryStream(Craft(w => w.AddLink(TarEntryType.SymbolicLink, "l", "/x"))), s.Target,
            new ExtractOptions { Symlink = (_, _) => "../outside" });
        Assert.Equal("../outside", new FileInfo(Path.Combine(s.Target, "l")).LinkTarget);

        Directory.Delete(s.Target, recursive: true);
        Directory.CreateDirectory(s.Target);
        s.Refused(Craft(w =>
        {
            w.AddLink(TarEntryType.SymbolicLink, "l", "../outside");
            w.AddLink(TarEntryType.SymbolicLink, "m", "l/..");
            w.AddFile("m/outside/passwd", "pwned");
            After(w);
        }), "m/outside/passwd", AnyLinks);
    }

    [Fact]
    public void HardLinkToEtcPasswd()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddLink(TarEntryType.HardLink, "h", "/etc/passwd");
            After(w);
        }), "h");
    }

    [Fact]
    public void HardLinkToOutside()
    {
        using var s = new Scene();
        var e = s.Refused(Craft(w =>
        {
            w.AddLink(TarEntryType.HardLink, "h", "../outside/passwd");
            After(w);
        }), "h");
        Assert.Contains("outside the target folder", e.Message);
    }

    [Fact]
    public void HardLinkToSomethingNotExtracted()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddLink(TarEntryType.HardLink, "h", "later");
            w.AddFile("later");
            After(w);
        }), "h");
    }

    [Fact]
    public void HardLinkThroughASymlink()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddLink(TarEntryType.SymbolicLink, "l", s.Outside);
            w.AddLink(TarEntryType.HardLink, "h", "l/passwd");
            After(w);
        }), "h", AnyLinks);
    }

    [Theory]
    [InlineData(TarEntryType.CharacterDevice, "device node")]
    [InlineData(TarEntryType.BlockDevice, "device node")]
    [InlineData(TarEntryType.Fifo, "fifo")]
    public void SpecialFiles(TarEntryType type, string what)
    {
        using var s = new Scene();
        var e = s.Refused(Craft(w =>
        {
            w.AddFile("before");
            var special = new GnuTarEntry(type, "dev/null");
            if (type != TarEntryType.Fifo)
                (special.DeviceMajor, special.DeviceMinor) = (1, 3);
            w.WriteEntry(special);
            After(w);
        }), "dev/null");
        Assert.Contains(what, e.Message);
    }

    [Fact]
    public void DuplicateEntries()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddFile("f", "one");
            w.AddFile("f", "two");
            After(w);
        }), "f");
        using var s2 = new Scene();
        s2.Refused(Craft(w =>
        {
            w.AddDir("d");
            w.AddLink(TarEntryType.SymbolicLink, "d", "elsewhere");
            After(w);
        }), "d");
    }

    [Fact]
    public void FileUsedAsAFolder()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddFile("f");
            w.AddFile("f/g");
            After(w);
        }), "f/g");
    }

    // The extractor reuses the last folder it checked while entries stay in it: a link or file
    // declared among that folder's files must still stop what is written through it.
    [Fact]
    public void SymlinkDeclaredAmongTheFilesOfTheSameFolder()
    {
        using var s = new Scene();
        s.Refused(Craft(w =>
        {
            w.AddFile("d/a");
            w.AddDir("d/sub");
            w.AddLink(TarEntryType.SymbolicLink, "d/s", "sub");
            w.AddFile("d/b");
            w.AddFile("d/s/evil");
            After(w);
        }), "d/s/evil");
        using var s2 = new Scene();
        s2.Refused(Craft(w =>
        {
            w.AddFile("d/a");
            w.AddFile("d/f");
            w.AddFile("d/b");
            w.AddFile("d/f/g");
            After(w);
        }), "d/f/g");
        using var s3 = new Scene();
        s3.Refused(Craft(w =>
        {
            w.AddFile("d/e/a");
            w.AddFile("d/x");
            w.AddLink(TarEntryType.SymbolicLink, "d/e", "elsewhere");
            After(w);
        }), "d/e");
    }

    [Fact]
    public void HardLinkAndSymlinkChecksFindEntriesInOtherFolders()
    {
        // Links are resolved through the whole tree of names, not only the last folder.
        using var s = new Scene();
        TreeArchive.Extract(new MemoryStream(Craft(w =>
        {
            w.AddFile("a/b/c/file", "content");
            w.AddFile("x/y");
            w.AddLink(TarEntryType.HardLink, "x/hard", "a/b/c/file");
            w.AddLink(TarEntryType.SymbolicLink, "x/soft", "../a/b/c/file");
            w.AddLink(TarEntryType.SymbolicLink, "a/up", "../x");
        })), s.Target, ExtractOptions.Default);
        Assert.Equal("content", File.ReadAllText(Path.Combine(s.Target, "x/hard")));
        Assert.Equal("content", File.ReadAllText(Path.Combine(s.Target, "x/soft")));
        Assert.Equal("a/b/c/file,x/hard", Snapshot(s.Target)["x/hard"].SameInode);
        using var s2 = new Scene();
        s2.Refused(Craft(w =>
        {
            w.AddFile("a/b/file");
            w.AddLink(TarEntryType.SymbolicLink, "a/l", "b");
            w.AddLink(TarEntryType.HardLink, "x/hard", "a/l/file");
            After(w);
        }), "x/hard");
    }

    [Fact]
    public void RepeatedDirectoryIsFineAndMissingParentsAreCreated()
    {
        // What plain tar archives contain: a folder listed twice (e.g. appended archives), and
        // files without entries for their folders.
        using var s = new Scene();
        TreeArchive.Extract(new MemoryStream(Craft(w =>
        {
            w.AddDir("d", 0x1C0);
            w.AddFile("d/f");
            w.AddDir("d/", 0x1ED);
            w.AddFile("x/y/z");
        })), s.Target, ExtractOptions.Default);
        Assert.Equal("0755", Snapshot(s.Target)["d"].Mode);
        Assert.True(File.Exists(Path.Combine(s.Target, "x/y/z")));
    }
}
