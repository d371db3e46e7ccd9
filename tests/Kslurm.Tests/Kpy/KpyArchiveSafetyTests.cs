using System.Formats.Tar;
using System.Text;
using static Kslurm.Tests.Kpy.KpyRobustnessTests;
using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// Save and load agree on what a venv may hold (symlinks anywhere, UTF-8 names), and what an
/// archive planted in a shared pipdir cannot do to the member who loads it (setuid programs,
/// world-writable files, writes through links); damaged records say so.
/// </summary>
[Trait("Tier", "Binary")]
public class KpyArchiveSafetyTests
{
    static string SitePackages(string venv) => Directory.GetDirectories(Path.Combine(venv, "lib"), "python3.*")[0] + "/site-packages";

    /// <summary>Links out of the venv as Debian's Python, conda and module trees have them.</summary>
    internal static void AddOutsideLinks(string venv)
    {
        File.CreateSymbolicLink(Path.Combine(SitePackages(venv), "sitecustomize.py"), "/etc/python3.11/sitecustomize.py");
        File.CreateSymbolicLink(Path.Combine(venv, "share-doc"), "/usr/share/doc");
        File.CreateSymbolicLink(Path.Combine(venv, "up"), "../../..");
        File.CreateSymbolicLink(Path.Combine(venv, "lib", "rel-hostname"), "../../../../../../../../../../etc/hostname");
    }

    static readonly string[] OutsideLinks = ["share-doc", "up", "lib/rel-hostname"];

    [Fact]
    public void A_venv_with_links_out_of_it_round_trips()
    {
        using var k = new KpySandbox();
        var venv = k.CreateDemo("linky", save: false);
        AddOutsideLinks(venv);
        var expected = OutsideLinks.Append(SitePackages(venv)[(venv.Length + 1)..] + "/sitecustomize.py")
            .ToDictionary(l => l, l => new FileInfo(Path.Combine(venv, l)).LinkTarget);
        Expect.Ok(k.Bash("kpy activate linky 2>/dev/null && kpy save linky"));

        var loaded = Path.Combine(k.LiveRoot, "copy");
        var r = k.Bash("kpy load linky --as copy 2>/dev/null || exit 9; kslurm-demo");
        Expect.Ok(r);
        Assert.Contains($"prefix={loaded}\n", r.Stdout);
        foreach (var (link, target) in expected)
            Assert.Equal(target, new FileInfo(Path.Combine(loaded, link)).LinkTarget);

        var exported = Path.Combine(k.S.Dir, "exported");
        Expect.Ok(k.Kpy("export", "linky", "--path", exported));
        foreach (var (link, target) in expected)
            Assert.Equal(target, new FileInfo(Path.Combine(exported, link)).LinkTarget);

        Directory.Delete(Path.Combine(k.LiveRoot, "linky"), recursive: true);
        var x = k.Kpy("exec", "linky", "--", "sh", "-c", "cat \"$VIRTUAL_ENV\"/lib/python3*/site-packages/sitecustomize.py");
        Expect.Ok(x);
        Assert.Equal(File.ReadAllText("/etc/python3.11/sitecustomize.py"), x.Stdout);
    }

    public static TheoryData<string> ThroughLinks => ["absolute", "root", "relative"];

    /// <summary>A link is data, but nothing is ever written through one, wherever it points.</summary>
    [Theory, MemberData(nameof(ThroughLinks))]
    public void Writing_through_a_link_of_the_archive_is_refused(string kind)
    {
        using var k = new KpySandbox();
        var outside = Path.Combine(k.S.Dir, "outside");
        Directory.CreateDirectory(outside);
        var (link, target, file) = kind switch
        {
            "absolute" => ("l", outside, "l/pwned"),
            "root" => ("r", "/", "r" + outside + "/pwned"),
            _ => ("u", string.Concat(Enumerable.Repeat("../", 12)) + outside.TrimStart('/'), "u/pwned"),
        };
        Craft(Path.Combine(k.Archives, "evil.tar.zst"), tar =>
        {
            tar.WriteEntry(Link(TarEntryType.SymbolicLink, link, target));
            tar.WriteEntry(File_(file, "pwned"));
            tar.WriteEntry(File_("after"));
        });
        foreach (var args in new[] { new[] { "load", "evil" }, ["export", "evil", "--path", Path.Combine(k.S.Dir, "x")], ["exec", "evil", "--", "true"] })
        {
            var r = k.Kpy(args);
            Expect.Error(r, "kpy", 1, $"refusing entry '{file}': it would be written through the symlink '{link}'");
            Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        }
        Assert.False(Directory.Exists(Path.Combine(k.S.Dir, "x")));
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(k.LiveRoot), e => !e.EndsWith(".lock"));
    }

    /// <summary>An archive planted in a shared pipdir: no setuid/setgid program, no file or
    /// folder more open than the member's umask allows, for root too.</summary>
    [Theory]
    [InlineData("022", 0x1ED, 0x1A4, 0x3ED)]   // 0755 programs and folders, 0644 files, 1755 sticky folder
    [InlineData("077", 0x1C0, 0x180, 0x3C0)]   // 0700, 0600, 1700
    public void Modes_lose_setuid_setgid_and_what_the_umask_removes(string umask, int program, int plain, int sticky)
    {
        using var k = new KpySandbox();
        Craft(Path.Combine(k.Archives, "evil.tar.zst"), tar =>
        {
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "bin/") { Mode = (UnixFileMode)0xFFF & ~(UnixFileMode)0x200 }); // 6777
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/suid") { Mode = (UnixFileMode)0x9ED, DataStream = new MemoryStream("#!/bin/sh\n"u8.ToArray()) }); // 4755
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/sgid") { Mode = (UnixFileMode)0x5ED, DataStream = new MemoryStream("#!/bin/sh\n"u8.ToArray()) }); // 2755
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "bin/all") { Mode = (UnixFileMode)0xFFF, DataStream = new MemoryStream("#!/bin/sh\n"u8.ToArray()) }); // 7777
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "world") { Mode = (UnixFileMode)0x1B6, DataStream = new MemoryStream("w"u8.ToArray()) }); // 0666
            tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "tmp/") { Mode = (UnixFileMode)0x3FF }); // 1777
            tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "big") { Mode = (UnixFileMode)0xDFF, DataStream = new MemoryStream(new byte[65 << 20]) }); // 6777, streamed
        });
        var exported = Path.Combine(k.S.Dir, "shared", "evil");
        var e = k.S.Exec("sh", ["-c", $"umask {umask}; exec kpy export evil --path {ShellQuote.Quote(exported)}"]);
        Expect.Ok(e);
        var l = k.S.Exec("sh", ["-c", $"umask {umask}; exec kpy load evil"]);
        Expect.Ok(l);
        foreach (var dir in new[] { exported, Path.Combine(k.LiveRoot, "evil") })
        {
            UnixFileMode Mode(string rel) => File.GetUnixFileMode(Path.Combine(dir, rel));
            Assert.Equal((UnixFileMode)program, Mode("bin"));
            Assert.Equal((UnixFileMode)program, Mode("bin/suid"));
            Assert.Equal((UnixFileMode)program, Mode("bin/sgid"));
            Assert.Equal((UnixFileMode)program, Mode("bin/all"));
            Assert.Equal((UnixFileMode)plain, Mode("world"));
            Assert.Equal((UnixFileMode)sticky, Mode("tmp"));
            Assert.Equal((UnixFileMode)program, Mode("big"));
        }
    }

    [Fact]
    public void Names_that_are_not_utf8_are_refused_by_save_and_by_load()
    {
        using var k = new KpySandbox();
        var venv = k.CreateDemo("latin", save: false);
        var bad = Path.Combine(k.S.Dir, "make-bad-name.py");
        File.WriteAllText(bad, "import os, sys\nopen(os.path.join(os.fsencode(sys.argv[1]), b'caf\\xe9.txt'), 'w').write('x')\n");
        Expect.Ok(k.S.Exec("/usr/bin/python3", [bad, venv]));
        var s = k.Bash("kpy activate latin 2>/dev/null && kpy save latin");
        Expect.Error(s, "kpy", 1, "caf?.txt: the name is not valid UTF-8");
        Assert.False(File.Exists(Path.Combine(k.Archives, "latin.tar.zst")));

        // The same venv archived by the old kpy (Python's tarfile: PAX, hdrcharset=BINARY) and by GNU tar.
        Directory.CreateDirectory(k.Archives);
        Expect.Ok(k.S.Exec("/usr/bin/python3", ["-c", KpyOldArchiveTests.OldSave, venv, Path.Combine(k.Archives, "py.tar.gz"), ""]));
        Expect.Ok(k.S.Exec("tar", ["-czf", Path.Combine(k.Archives, "gnu.tar.gz"), "-C", venv, "."]));
        foreach (var name in new[] { "py", "gnu" })
        {
            var r = k.Kpy("load", name);
            Expect.Error(r, "kpy", 1, "caf\\xe9.txt': the name is not valid UTF-8");
            Assert.False(Directory.Exists(Path.Combine(k.LiveRoot, name)));
        }
    }

    [Theory]
    [InlineData("[\"/\"]")]
    [InlineData("[\"relative/venv\"]")]
    [InlineData("[]")]
    [InlineData("[\"/ok\\u0000nul\"]")]
    public void A_damaged_record_is_a_damaged_archive(string originalPaths)
    {
        using var k = new KpySandbox();
        var record = Encoding.UTF8.GetBytes($$"""{"format":1,"name":"evil","python_version":"3.11.2","base_interpreter":"/usr/bin/python3","modules":[],"original_paths":{{originalPaths}}}""");
        var archive = Path.Combine(k.Archives, "evil.tar.zst");
        Craft(archive, _ => { }, record: record);
        foreach (var args in new[] { new[] { "load", "evil" }, ["export", "evil", "--path", Path.Combine(k.S.Dir, "x")], ["info", "evil"] })
        {
            var r = k.Kpy(args);
            Expect.Error(r, "kpy", 1, $"{archive}: damaged archive: ");
            Assert.DoesNotContain("internal error", r.Stderr);
        }
        Assert.Contains("(damaged)", k.Kpy("list").Stdout);
    }

    [Fact]
    public void Info_and_list_verify_the_checksum_of_the_record_frame()
    {
        using var k = new KpySandbox();
        var live = k.CreateDemo("flip");
        var archive = Path.Combine(k.Archives, "flip.tar.zst");
        Expect.Ok(k.Kpy("info", "flip"));
        var bytes = File.ReadAllBytes(archive);
        // The last bytes of the first frame are its XXH64 checksum: damage it, not the data.
        var second = bytes.AsSpan(4).IndexOf((ReadOnlySpan<byte>)[0x28, 0xB5, 0x2F, 0xFD]);
        var end = second < 0 ? bytes.Length : second + 4;
        bytes[end - 2] ^= 0x01;
        File.WriteAllBytes(archive, bytes);
        Expect.Error(k.Kpy("info", "flip"), "kpy", 1, "damaged archive");
        var list = k.Kpy("list");
        Expect.Ok(list);
        Assert.Matches(@"(?m)^flip .*\(damaged\)", list.Stdout);
        _ = live;
    }
}
