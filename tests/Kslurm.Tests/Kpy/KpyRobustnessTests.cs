using System.Diagnostics;
using System.Formats.Tar;
using System.Text;
using Kslurm.Archive;
using Kslurm.Venv;

namespace Kslurm.Tests.Kpy;

/// <summary>What must never happen: escapes from the target, half-loaded venvs, lost archives.</summary>
[Trait("Tier", "Binary")]
public class KpyRobustnessTests
{
    /// <summary>A kpy-shaped archive (record first) followed by whatever entries a test wants.</summary>
    internal static void Craft(string path, Action<TarWriter> entries, string baseInterpreter = "/usr/bin/python3", byte[]? record = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        using var z = new ZstdCompressStream(file);
        using var tar = new TarWriter(z, TarEntryFormat.Pax);
        var meta = new VenvMeta { Name = "evil", PythonVersion = "3.11.2", BaseInterpreter = baseInterpreter, OriginalPaths = ["/old/evil"] };
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, ".kpy.json") { DataStream = new MemoryStream(record ?? meta.ToBytes()) });
        tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "pyvenv.cfg") { DataStream = new MemoryStream("home = /usr/bin\n"u8.ToArray()) });
        entries(tar);
    }

    internal static PaxTarEntry File_(string name, string text = "x") => new(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
    internal static PaxTarEntry Link(TarEntryType type, string name, string target) => new(type, name) { LinkName = target };

    /// <summary>A 12 MB tmpfs at <paramref name="path"/> (a full disk on demand), unmounted on dispose.</summary>
    static IDisposable SmallTmpfs(Sandbox s, string path)
    {
        if (Environment.UserName != "root")
            throw new InvalidOperationException("this test mounts a small tmpfs and needs root (make test runs as root in CI)");
        Directory.CreateDirectory(path);
        Expect.Ok(s.Exec("mount", ["-t", "tmpfs", "-o", "size=12m", "tmpfs", path]));
        return new Unmount(s, path);
    }

    sealed record Unmount(Sandbox S, string Dir) : IDisposable
    {
        public void Dispose() => S.Exec("umount", [Dir]);
    }

    public static TheoryData<string, string> Hostile => new()
    {
        { "dotdot", "../escaped" },
        { "absolute", "/tmp/kslurm-escaped-abs" },
        { "nested-dotdot", "lib/../../escaped" },
        { "symlink-then-write", "link/escaped" },
        { "hardlink-outside", "hard" },
        { "device", "dev" },
        { "fifo", "fifo" },
    };

    [Theory, MemberData(nameof(Hostile))]
    public void Hostile_archives_are_refused_and_leave_nothing(string kind, string entry)
    {
        using var k = new KpySandbox();
        var outside = Path.Combine(k.S.Dir, "outside");
        Directory.CreateDirectory(outside);
        Craft(Path.Combine(k.Archives, "evil.tar.zst"), tar =>
        {
            switch (kind)
            {
                case "dotdot" or "absolute" or "nested-dotdot":
                    tar.WriteEntry(File_(entry));
                    break;
                case "symlink-then-write":
                    tar.WriteEntry(Link(TarEntryType.SymbolicLink, "link", outside));
                    tar.WriteEntry(File_("link/escaped"));
                    break;
                case "hardlink-outside":
                    tar.WriteEntry(Link(TarEntryType.HardLink, entry, "/etc/passwd"));
                    break;
                case "device":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.CharacterDevice, entry) { DeviceMajor = 1, DeviceMinor = 3 });
                    break;
                case "fifo":
                    tar.WriteEntry(new PaxTarEntry(TarEntryType.Fifo, entry));
                    break;
            }
        });
        var r = k.Kpy("load", "evil");
        Expect.Error(r, "kpy", 1, "evil.tar.zst");
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
        Assert.False(File.Exists(Path.Combine(k.LiveRoot, "..", "escaped")));
        Assert.False(File.Exists("/tmp/kslurm-escaped-abs"));
        Assert.DoesNotContain(Directory.Exists(k.LiveRoot) ? Directory.EnumerateFileSystemEntries(k.LiveRoot) : [], e => !e.EndsWith(".lock"));
    }

    [Fact]
    public void A_bit_flipped_archive_is_reported_and_nothing_is_registered()
    {
        using var k = new KpySandbox();
        var live = k.CreateDemo("flip");
        Directory.Delete(live, recursive: true);
        var archive = Path.Combine(k.Archives, "flip.tar.zst");
        var bytes = File.ReadAllBytes(archive);
        bytes[bytes.Length / 2] ^= 0x10;
        File.WriteAllBytes(archive, bytes);
        var r = k.Kpy("load", "flip");
        Expect.Error(r, "kpy", 1, "damaged");
        Assert.DoesNotContain(Directory.EnumerateFileSystemEntries(k.LiveRoot), e => !e.EndsWith(".lock"));
    }

    [Fact]
    public void A_missing_base_interpreter_names_the_module_to_load()
    {
        using var k = new KpySandbox();
        Craft(Path.Combine(k.Archives, "gone.tar.zst"), _ => { }, baseInterpreter: "/cvmfs/soft/python/3.99/bin/python3.99");
        var r = k.Kpy("load", "gone");
        Expect.Error(r, "kpy", 1, "/cvmfs/soft/python/3.99/bin/python3.99, which is not on this node");
        Assert.Contains("module load python/3.11", r.Stderr); // from the record's python_version
    }

    [Fact]
    public void Kill_9_during_save_keeps_the_previous_archive()
    {
        using var k = new KpySandbox();
        var live = k.CreateDemo("victim");
        var archive = Path.Combine(k.Archives, "victim.tar.zst");
        var before = File.ReadAllBytes(archive);
        // make the next save take a while: 300 MB of incompressible data
        using (var big = File.Create(Path.Combine(live, "big.bin")))
        {
            var buf = new byte[1 << 20];
            for (var i = 0; i < 300; i++) { Random.Shared.NextBytes(buf); big.Write(buf); }
        }
        var psi = new ProcessStartInfo(Repo.Tool("kpy"), ["save", "-f", "victim"]) { RedirectStandardError = true };
        foreach (var (key, v) in k.S.Env) psi.Environment[key] = v;
        psi.Environment["VIRTUAL_ENV"] = live;
        using var p = Process.Start(psi)!;
        var tmpSeen = false;
        for (var i = 0; i < 100 && !tmpSeen; i++)
        {
            Thread.Sleep(20);
            tmpSeen = Directory.EnumerateFiles(k.Archives, ".victim.tar.zst.tmp-*").Any();
        }
        p.Kill(); // SIGKILL
        p.WaitForExit();
        Assert.True(tmpSeen, "the save was killed while writing its temporary file");
        Assert.Equal(before, File.ReadAllBytes(archive));
        File.Delete(Path.Combine(live, "big.bin"));
        // the next save cleans the leftover and works; the kept archive still loads
        Expect.Ok(k.Bash("kpy activate victim 2>/dev/null; kpy save -f victim"));
        Assert.Empty(Directory.EnumerateFiles(k.Archives, ".victim.tar.zst.tmp-*"));
        Expect.Ok(k.Bash("kpy load victim --as revived 2>/dev/null && kslurm-demo"));
    }

    [Fact]
    public async Task Concurrent_saves_of_one_name_never_interleave()
    {
        using var k = new KpySandbox();
        var live = k.CreateDemo("shared", save: false);
        var env = new Dictionary<string, string?> { ["VIRTUAL_ENV"] = live };
        var saves = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ =>
            Task.Run(() => k.S.Exec(Repo.Tool("kpy"), ["save", "shared"], extraEnv: env))));
        Assert.Equal(1, saves.Count(r => r.Code == 0));
        Assert.All(saves.Where(r => r.Code != 0), r => Assert.Contains("shared is already saved", r.Stderr));
        var forced = await Task.WhenAll(Enumerable.Range(0, 3).Select(_ =>
            Task.Run(() => k.S.Exec(Repo.Tool("kpy"), ["save", "-f", "shared"], extraEnv: env))));
        Assert.All(forced, Expect.Ok);
        Assert.Equal(0, k.S.Exec("zstd", ["-tq", Path.Combine(k.Archives, "shared.tar.zst")]).Code);
        Expect.Ok(k.Bash("kpy load shared --as check 2>/dev/null && kslurm-demo"));
    }

    [Fact]
    public void A_full_disk_fails_the_save_and_keeps_the_old_archive()
    {
        using var k = new KpySandbox();
        var small = Path.Combine(k.S.Dir, "small-fs");
        using (SmallTmpfs(k.S, small))
        {
            Expect.Ok(k.S.Tool("kslurm", "config", "pipdir", small));
            var live = k.CreateDemo("tight"); // a plain venv with pip fits
            var archive = Path.Combine(small, "venv_archives", "tight.tar.zst");
            var before = File.ReadAllBytes(archive);
            using (var big = File.Create(Path.Combine(live, "big.bin")))
            {
                var buf = new byte[1 << 20];
                for (var i = 0; i < 20; i++) { Random.Shared.NextBytes(buf); big.Write(buf); }
            }
            var r = k.S.Exec(Repo.Tool("kpy"), ["save", "-f", "tight"], extraEnv: new Dictionary<string, string?> { ["VIRTUAL_ENV"] = live });
            Expect.Error(r, "kpy", 1, "could not save tight");
            Assert.Contains("previously saved archive is unchanged", r.Stderr);
            Assert.Equal(before, File.ReadAllBytes(archive));
            Assert.Empty(Directory.EnumerateFiles(Path.Combine(small, "venv_archives"), ".tight*tmp*"));
        }
    }

    [Fact]
    public void A_full_scratch_fails_the_load_and_leaves_no_half_venv()
    {
        using var k = new KpySandbox();
        var live = k.CreateDemo("roomy", save: false);
        using (var big = File.Create(Path.Combine(live, "big.bin")))
        {
            var buf = new byte[1 << 20];
            for (var i = 0; i < 24; i++) { Random.Shared.NextBytes(buf); big.Write(buf); }
        }
        Expect.Ok(k.S.Exec(Repo.Tool("kpy"), ["save", "roomy"], extraEnv: new Dictionary<string, string?> { ["VIRTUAL_ENV"] = live }));
        var small = Path.Combine(k.S.Dir, "small-scratch");
        using (SmallTmpfs(k.S, small))
        {
            var r = k.S.Exec(Repo.Tool("kpy"), ["load", "roomy"], extraEnv: new Dictionary<string, string?> { ["TMPDIR"] = small });
            Assert.Equal(1, r.Code);
            var error = Assert.Single(r.Stderr.Split('\n'), l => l.StartsWith("kpy: error: ", StringComparison.Ordinal));
            Assert.Contains("roomy", error);
            Assert.DoesNotContain("   at ", r.Stderr);
            // nothing half-unpacked: neither the venv nor a temporary folder is left on the scratch
            // (the per-name lock file stays, as every lock file does: removing one under flock races)
            var root = Path.Combine(small, $"kpy-{Environment.UserName}");
            Assert.False(Directory.Exists(Path.Combine(root, "roomy")), "a half-loaded venv was left");
            Assert.Equal("", string.Join(" ", Directory.Exists(root) ? Directory.EnumerateFileSystemEntries(root).Select(Path.GetFileName).Where(n => n != ".roomy.lock") : []));
        }
    }
}
