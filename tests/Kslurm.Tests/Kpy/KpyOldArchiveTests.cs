using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// Switching from the Python kslurm: archives its `kpy save` wrote (Python's tarfile, `.tar.gz`
/// in `<pipdir>/venv_archives`) list, load and export, and `kpy save NEW` renames the venv as
/// its README promised.
/// </summary>
[Trait("Tier", "Binary")]
public class KpyOldArchiveTests
{
    /// <summary>
    /// What the Python kslurm's `kpy save` does: `tarfile.open(tmp, "w:gz")` and
    /// `tar.add(venv_dir, arcname="")`, which stores the folder itself as a first member named
    /// "/". ARCNAME "-" adds the members one by one instead (no root entry); "." gives "./".
    /// </summary>
    internal const string OldSave = """
        import os, sys, tarfile
        venv, dest, arcname = sys.argv[1], sys.argv[2], sys.argv[3]
        with tarfile.open(dest, "w:gz") as tar:
            if arcname == "-":
                for name in sorted(os.listdir(venv)):
                    tar.add(os.path.join(venv, name), arcname=name)
            else:
                tar.add(venv, arcname=arcname)
        """;

    /// <summary>A venv where the Python kslurm made them (mkdtemp: kslurm-XXXXXXXX, mode 0700),
    /// the demo package installed, saved by the old code to venv_archives/NAME.tar.gz, then gone.</summary>
    internal static void OldKslurmArchive(KpySandbox k, string name, string arcname)
    {
        var old = Path.Combine(k.S.Dir, "old-tmp", "kslurm-q7w2e9rt");
        Directory.CreateDirectory(Path.GetDirectoryName(old)!);
        Expect.Ok(k.S.Exec("/usr/bin/python3", ["-m", "venv", old]));
        File.SetUnixFileMode(old, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Expect.Ok(k.S.Exec(Path.Combine(old, "bin", "pip"), ["install", "-q", "--no-index", "--find-links", k.Wheelhouse, "kslurmdemo"]));
        Directory.CreateDirectory(k.Archives);
        Expect.Ok(k.S.Exec("/usr/bin/python3", ["-c", OldSave, old, Path.Combine(k.Archives, name + ".tar.gz"), arcname]));
        Directory.Delete(old, recursive: true);
    }

    [Theory]
    [InlineData("", "/")]       // what the old kpy save writes (Python 3.10 and 3.11)
    [InlineData(".", "./")]     // the same folder added as "."
    [InlineData("-", "bin/")]   // members added one by one: no root entry
    public void Python_kslurm_archives_list_load_and_export(string arcname, string firstMember)
    {
        using var k = new KpySandbox();
        OldKslurmArchive(k, "oldenv", arcname);
        var archive = Path.Combine(k.Archives, "oldenv.tar.gz");
        Assert.Equal(firstMember, k.S.Exec("tar", ["-tzf", archive]).Stdout.Split('\n')[0]);

        var list = k.Kpy("list");
        Expect.Ok(list);
        Assert.Matches(@"(?m)^oldenv .*\(kslurm \.tar\.gz\)", list.Stdout);

        var live = Path.Combine(k.LiveRoot, "oldenv");
        var r = k.Bash("kpy load oldenv 2>/dev/null || exit 9; kslurm-demo; python -c 'import sys; print(\"sys.prefix=\" + sys.prefix)'");
        Expect.Ok(r);
        Assert.Contains($"prefix={live}\n", r.Stdout);
        Assert.Contains($"sys.prefix={live}\n", r.Stdout);

        var target = Path.Combine(k.S.Dir, "exported", "oldenv");
        var e = k.S.Exec("sh", ["-c", $"umask 022; exec kpy export oldenv --path {ShellQuote.Quote(target)}"]);
        Expect.Ok(e);
        Assert.Contains($"prefix={target}\n", k.S.Exec(Path.Combine(target, "bin", "kslurm-demo"), []).Stdout);
        // The root entry is the venv folder itself: its mode (mkdtemp's 0700) is applied.
        var rootMode = File.GetUnixFileMode(target) & (UnixFileMode)0xFFF;
        Assert.Equal(arcname == "-" ? (UnixFileMode)0x1ED : (UnixFileMode)0x1C0, rootMode);
    }

    [Fact]
    public void Only_the_root_itself_may_be_absolute()
    {
        using var k = new KpySandbox();
        var outside = Path.Combine(k.S.Dir, "outside");
        Directory.CreateDirectory(outside);
        Directory.CreateDirectory(k.Archives);
        // "/" then an absolute member: the first is the venv folder, the second is refused.
        var script = $$"""
            import io, sys, tarfile
            with tarfile.open(sys.argv[1], "w:gz") as tar:
                d = tarfile.TarInfo(""); d.type = tarfile.DIRTYPE; d.mode = 0o755; tar.addfile(d)
                f = tarfile.TarInfo("{{outside}}/pwned"); f.size = 3; tar.addfile(f, io.BytesIO(b"bad"))
            """;
        Expect.Ok(k.S.Exec("/usr/bin/python3", ["-c", script, Path.Combine(k.Archives, "evil.tar.gz")]));
        var r = k.Kpy("load", "evil");
        Expect.Error(r, "kpy", 1, $"refusing entry '{outside}/pwned': absolute path");
        Assert.Empty(Directory.EnumerateFileSystemEntries(outside));
    }

    [Fact]
    public void Save_under_a_new_name_renames_the_venv()
    {
        using var k = new KpySandbox();
        var oldDir = k.CreateDemo("first", save: false);
        var newDir = Path.Combine(k.LiveRoot, "second");
        // PS1 is set in the script: bash drops an inherited one when not interactive.
        var r = k.Bash("""
            PS1='$ '
            kpy activate first 2>/dev/null || exit 9
            kpy save second || exit 10
            echo "after-save=$VIRTUAL_ENV ps1=$PS1"
            kslurm-demo
            deactivate
            kpy activate second 2>/dev/null || exit 11
            echo "activated=$VIRTUAL_ENV ps1=$PS1 prompt=$(kpy _prompt)"
            kslurm-demo
            """);
        Expect.Ok(r);
        Assert.Contains($"after-save={newDir} ps1=(second) $ ", r.Stdout);
        Assert.Contains($"activated={newDir} ps1=(second) $  prompt=second", r.Stdout);
        Assert.DoesNotContain($"prefix={oldDir}", r.Stdout);
        Assert.Equal(2, r.Stdout.Split('\n').Count(l => l == $"prefix={newDir}"));
        Assert.False(Directory.Exists(oldDir), "the live folder keeps its old name");
        Assert.Contains("prompt = 'second'", File.ReadAllText(Path.Combine(newDir, "pyvenv.cfg")));
        foreach (var f in Directory.GetFiles(Path.Combine(newDir, "bin"), "activate*"))
            Assert.DoesNotContain("first", File.ReadAllText(f));
        Assert.Contains("\"name\":\"second\"", File.ReadAllText(Path.Combine(newDir, ".kpy.json")).Replace(" ", ""));
        Assert.True(File.Exists(Path.Combine(k.Archives, "second.tar.zst")));
        Assert.False(File.Exists(Path.Combine(k.Archives, "first.tar.zst")));

        // The archive loads under its name, prompt and paths right.
        Directory.Delete(newDir, recursive: true);
        var again = k.Bash("PS1='$ '; kpy load second 2>/dev/null || exit 9; kslurm-demo; echo \"ps1=$PS1\"");
        Expect.Ok(again);
        Assert.Contains($"prefix={newDir}\n", again.Stdout);
        Assert.Contains("ps1=(second) $ ", again.Stdout);
    }

    [Fact]
    public void Save_under_the_name_of_another_live_venv_is_refused_before_anything_changes()
    {
        using var k = new KpySandbox();
        var a = k.CreateDemo("aaa", save: false);
        k.CreateDemo("bbb", save: false);
        var r = k.Bash("kpy activate aaa 2>/dev/null || exit 9; kpy save bbb");
        Expect.Error(r, "kpy", 1, "a venv called bbb is already on this node");
        Assert.True(Directory.Exists(a));
        Assert.False(File.Exists(Path.Combine(k.Archives, "bbb.tar.zst")));
    }
}
