using System.Text.RegularExpressions;
using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// `kpy freeze`: requirements from a saved archive that install off the cluster. The venv is built
/// by real pip from wheels carrying DRAC-style local versions, an editable project and a git
/// checkout; the old kslurm's archive is written by Python's tarfile.
/// </summary>
[Trait("Tier", "Binary")]
public class KpyFreezeTests
{
    static string Q(string s) => ShellQuote.Quote(s);

    /// <summary>A venv as the DRAC guide builds it, saved as NAME. Returns the git checkout's commit.</summary>
    static string BuildGuideVenv(KpySandbox k, string name)
    {
        DemoWheel.WriteTo(k.Wheelhouse, "2.31.0+computecanada", name: "requests");
        DemoWheel.WriteTo(k.Wheelhouse, "1.4+computecanada", name: "Sci_Kit.thing");
        DemoWheel.WriteTo(k.Wheelhouse, "2024.1.1.2", name: "tzstuff");
        DemoWheel.WriteTo(k.Wheelhouse, "2.0rc1", name: "betapkg");
        var proj = Path.Combine(k.S.Dir, "src", "myproj");
        Directory.CreateDirectory(Path.Combine(proj, "myproj"));
        File.WriteAllText(Path.Combine(proj, "pyproject.toml"), """
            [build-system]
            requires = ["setuptools>=64"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "myproj"
            version = "0.3.1"
            """);
        File.WriteAllText(Path.Combine(proj, "myproj", "__init__.py"), "");
        var repo = Path.Combine(k.S.Dir, "src", "gitpkg");
        Directory.CreateDirectory(Path.Combine(repo, "gitpkg"));
        File.WriteAllText(Path.Combine(repo, "pyproject.toml"), """
            [build-system]
            requires = ["setuptools>=64"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "gitpkg"
            version = "1.2.0"
            """);
        File.WriteAllText(Path.Combine(repo, "gitpkg", "__init__.py"), "");
        var r = k.Bash($"""
            set -e
            cd {Q(repo)}
            git init -q . && git add -A && git -c user.name=t -c user.email=t@t commit -qm init
            commit=$(git rev-parse HEAD)
            cd /
            kpy create {name} >/dev/null 2>&1
            # setuptools < 70 builds wheels with the `wheel` package: Debian's offline copy
            pip install -q --no-index --find-links /usr/share/python-wheels wheel
            pip install -q --no-index --find-links {Q(k.Wheelhouse)} requests sci-kit-thing tzstuff betapkg
            pip install -q --no-index --no-build-isolation -e {Q(proj)} "git+file://{repo}"
            pip list 2>/dev/null | grep -q 'requests *2.31.0+computecanada'
            kpy save {name} >/dev/null 2>&1
            echo "$commit"
            """);
        Expect.Ok(r);
        return r.Stdout.Trim();
    }

    [Fact]
    public void Freeze_strips_site_labels_pins_compatible_releases_and_marks_local_installs()
    {
        using var k = new KpySandbox();
        var commit = BuildGuideVenv(k, "guide");
        var r = k.Kpy("freeze", "guide");
        Expect.Ok(r);
        var lines = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Matches(@"^# kpy freeze guide: Python 3\.\d+\.\d+", lines[0]);
        Assert.Equal(
        [
            "betapkg~=2.0.0rc1",
            $"# gitpkg==1.2.0: installed from git+file://{k.S.Dir}/src/gitpkg@{commit} (only on the machine that has it)",
            $"# myproj==0.3.1: editable install of file://{k.S.Dir}/src/myproj (only on the machine that has it)",
            "requests~=2.31.0",
            "Sci_Kit.thing~=1.4.0",
            "tzstuff~=2024.1.1.2",
        ], lines[1..]);
        Assert.Contains("kpy: 2 local installs are left as a comment", r.Stderr);

        var exact = k.Kpy("freeze", "guide", "--exact");
        Expect.Ok(exact);
        Assert.Contains("requests==2.31.0\n", exact.Stdout);
        Assert.Contains("Sci_Kit.thing==1.4\n", exact.Stdout);
        Assert.DoesNotContain("computecanada", exact.Stdout);
        Assert.DoesNotMatch(@"(?m)^(pip|setuptools|wheel)\b", exact.Stdout);

        // The tilde lines are real requirements: pip installs them here from the same
        // wheelhouse (`~=2.31.0` admits 2.31.0+computecanada), and `==` too.
        var reqs = Path.Combine(k.S.Dir, "requirements.txt");
        File.WriteAllText(reqs, r.Stdout);
        var again = k.Bash($"""
            set -e
            kpy create again >/dev/null 2>&1
            pip install -q --no-index --find-links {Q(k.Wheelhouse)} -r {Q(reqs)}
            pip list 2>/dev/null
            """);
        Expect.Ok(again);
        Assert.Matches(@"requests\s+2\.31\.0\+computecanada", again.Stdout);
        Assert.Matches(@"tzstuff\s+2024\.1\.1\.2", again.Stdout);
    }

    [Fact]
    public void Remote_vcs_and_archive_urls_stay_installable_requirements()
    {
        using var k = new KpySandbox();
        var commit = BuildGuideVenv(k, "urls");
        // What pip writes for `pip install git+https://...` and for a wheel URL (PEP 610), set
        // by hand on the installed distributions, then saved again.
        var site = Directory.GetDirectories(Path.Combine(k.LiveRoot, "urls", "lib"))[0] + "/site-packages";
        var git = Directory.GetDirectories(site, "gitpkg-*.dist-info")[0];
        File.WriteAllText(Path.Combine(git, "direct_url.json"),
            """{"url": "https://github.com/lab/gitpkg.git", "vcs_info": {"commit_id": "COMMIT", "requested_revision": "main", "vcs": "git"}}""".Replace("COMMIT", commit));
        var tz = Directory.GetDirectories(site, "tzstuff-*.dist-info")[0];
        File.WriteAllText(Path.Combine(tz, "direct_url.json"),
            """{"archive_info": {"hash": "sha256=abc123", "hashes": {"sha256": "abc123"}}, "url": "https://files.example.org/tzstuff-2024.1.1.2-py3-none-any.whl"}""");
        Expect.Ok(k.Bash("kpy activate urls 2>/dev/null && kpy save -f urls"));
        var r = k.Kpy("freeze", "urls");
        Expect.Ok(r);
        Assert.Contains($"gitpkg @ git+https://github.com/lab/gitpkg.git@{commit}\n", r.Stdout);
        Assert.Contains("tzstuff @ https://files.example.org/tzstuff-2024.1.1.2-py3-none-any.whl#sha256=abc123\n", r.Stdout);
        Assert.Contains("kpy: 1 local install is left as a comment", r.Stderr);
    }

    [Fact]
    public void Old_kslurm_tar_gz_archives_written_by_python_tarfile_freeze_too()
    {
        using var k = new KpySandbox();
        DemoWheel.WriteTo(k.Wheelhouse, "2.31.0+computecanada", name: "requests");
        var venv = Path.Combine(k.S.Dir, "oldvenv");
        Expect.Ok(k.S.Exec("/usr/bin/python3", ["-m", "venv", venv]));
        Expect.Ok(k.S.Exec(Path.Combine(venv, "bin", "pip"), ["install", "-q", "--no-index", "--find-links", k.Wheelhouse, "requests"]));
        Directory.CreateDirectory(k.Archives);
        // The Python kslurm's save: the venv's contents at the archive root, gzip, by tarfile.
        var archive = Path.Combine(k.Archives, "old.tar.gz");
        Expect.Ok(k.S.Exec("/usr/bin/python3", ["-c", "import sys, tarfile\nwith tarfile.open(sys.argv[1], 'w:gz') as t:\n    t.add(sys.argv[2], arcname='')", archive, venv]));
        var r = k.Kpy("freeze", "old");
        Expect.Ok(r);
        Assert.Equal("# kpy freeze old\nrequests~=2.31.0\n", r.Stdout);
    }

    [Fact]
    public void Bad_input_is_one_line()
    {
        using var k = new KpySandbox();
        Expect.Error(k.Kpy("freeze"), "kpy", 2, "missing NAME");
        Expect.Error(k.Kpy("freeze", "nothing"), "kpy", 1, "no saved venv called nothing");
        Expect.Error(k.Kpy("freeze", "x", "--pin"), "kpy", 2, "unknown option '--pin'");
        k.CreateDemo("cut");
        var archive = Path.Combine(k.Archives, "cut.tar.zst");
        var bytes = File.ReadAllBytes(archive);
        File.WriteAllBytes(archive, bytes[..(bytes.Length * 2 / 3)]);
        Expect.Error(k.Kpy("freeze", "cut"), "kpy", 1, "damaged");
    }
}
