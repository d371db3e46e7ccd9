using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// The point of kpy: built and saved on the login node, loaded in a real Slurm job onto
/// $SLURM_TMPDIR, working there with and without activation.
/// </summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KpyClusterTests
{
    /// <summary>A cluster user with a pipdir, the demo wheel in ~/wheels and a TMPDIR of its own on the login node.</summary>
    internal static ClusterUser WithPipdirAndWheels(out string wheels)
    {
        var u = new ClusterUser();
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        wheels = Path.Combine(u.Home, "wheels");
        DemoWheel.WriteTo(wheels);
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", wheels]);
        u.Env["TMPDIR"] = Path.Combine(u.Home, "login-tmp");
        return u;
    }

    internal static ClusterUser WithSavedDemo(string name, bool addLinks = false)
    {
        var u = WithPipdirAndWheels(out var wheels);
        var init = $"eval \"$({Cluster.Tool("kpy")} init bash)\"";
        Expect.Ok(u.Run("bash", ["-c", $"mkdir -p \"$TMPDIR\"; {init}; kpy create {name} 2>/dev/null"]));
        // an editable project inside the venv (as `pip install -e` of a checkout in <venv>/src):
        // its finder holds absolute paths into the venv, which must move with it
        var venv = Path.Combine(u.Env["TMPDIR"], $"kpy-{u.Name}", name);
        Kslurm.Tests.Venv.VenvLab.WriteProject(Path.Combine(venv, "src", "kslurmedit"), "kslurmedit", srcLayout: false, script: "kslurm-edit");
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", Path.Combine(venv, "src")]);
        if (addLinks)
            KpyArchiveSafetyTests.AddOutsideLinks(venv);
        var r = u.Run("bash", ["-c", $"""
            {init}
            kpy activate {name} 2>/dev/null || exit 10
            pip install -q --no-index --find-links {wheels} kslurmdemo || exit 11
            pip install -q --no-index /usr/share/python-wheels/wheel-*.whl || exit 12
            pip install -q --no-index --no-build-isolation -e "$VIRTUAL_ENV/src/kslurmedit" || exit 13
            kpy save {name} || exit 14
            """]);
        Expect.Ok(r);
        return u;
    }

    [Fact]
    public void Krun_venv_loads_onto_slurm_tmpdir_and_runs_the_entry_point()
    {
        using var u = WithSavedDemo("demo");
        var r = u.Tool("krun", "--venv", "demo", "0:05", "sh", "-c",
            "kslurm-demo 'x y'; python -c 'import sys; print(\"sys.prefix=\" + sys.prefix)'; echo \"tmp=$SLURM_TMPDIR\"; kslurm-edit");
        Expect.Ok(r);
        var tmp = r.Stdout.Split('\n').Single(l => l.StartsWith("tmp=", StringComparison.Ordinal))[4..];
        Assert.StartsWith("/", tmp);
        var expected = $"{tmp}/kpy/demo";
        Assert.Contains($"prefix={expected}\n", r.Stdout);
        Assert.Contains($"sys.prefix={expected}\n", r.Stdout);
        Assert.Contains("args=['x y']", r.Stdout);
        // the editable project: its entry point and module both come from the moved venv
        Assert.Contains($"\n{expected}/src/kslurmedit/kslurmedit/__init__.py\n{expected}\n", r.Stdout);
    }

    [Fact]
    public void Kbatch_venv_runs_the_command_inside_the_loaded_venv()
    {
        using var u = WithSavedDemo("batchy");
        var r = u.Tool("kbatch", "--venv", "batchy", "0:05", "--wait", "kslurm-demo", "a b");
        Expect.Ok(r);
        var id = r.Stdout.Trim();
        var output = File.ReadAllText(Path.Combine(u.Work, $"slurm-{id}.out"));
        Assert.Matches(@"prefix=/\S+/kpy/batchy\n", output);
        Assert.Contains("args=['a b']", output);
    }

    [Theory]
    [InlineData("")]   // the old kpy save: tar.add(venv, arcname=""), first member "/"
    [InlineData("-")]  // no root entry
    public void Krun_venv_runs_a_python_kslurm_archive(string arcname)
    {
        using var u = new ClusterUser();
        var pipdir = Path.Combine(u.Home, "pipdir");
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", pipdir));
        var wheels = Path.Combine(u.Home, "wheels");
        DemoWheel.WriteTo(wheels);
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", wheels]);
        var old = Path.Combine(u.Home, "old-tmp", "kslurm-venv-a8k2m4q1"); // where the Python kslurm made them
        var r = u.Run("bash", ["-c", $"""
            set -e
            mkdir -p {old}
            chmod 700 {old}
            python3 -m venv {old}
            {old}/bin/pip install -q --no-index --find-links {wheels} kslurmdemo
            mkdir -p {pipdir}/venv_archives
            python3 -c {ShellQuote.Quote(KpyOldArchiveTests.OldSave)} {old} {pipdir}/venv_archives/oldenv.tar.gz {ShellQuote.Quote(arcname)}
            rm -rf {old}
            """]);
        Expect.Ok(r);
        var job = u.Tool("krun", "--venv", "oldenv", "0:05", "sh", "-c",
            "kslurm-demo; python -c 'import sys; print(\"sys.prefix=\" + sys.prefix)'; echo \"tmp=$SLURM_TMPDIR\"");
        Expect.Ok(job);
        var tmp = job.Stdout.Split('\n').Single(l => l.StartsWith("tmp=", StringComparison.Ordinal))[4..];
        Assert.Contains($"prefix={tmp}/kpy/oldenv\n", job.Stdout);
        Assert.Contains($"sys.prefix={tmp}/kpy/oldenv\n", job.Stdout);
    }

    [Fact]
    public void Krun_venv_restores_links_out_of_the_venv()
    {
        using var u = WithSavedDemo("linky", addLinks: true);
        var job = u.Tool("krun", "--venv", "linky", "0:05", "sh", "-c",
            "kslurm-demo; readlink \"$VIRTUAL_ENV/share-doc\" \"$VIRTUAL_ENV/up\" \"$VIRTUAL_ENV/lib/rel-hostname\"; readlink \"$VIRTUAL_ENV\"/lib/python3*/site-packages/sitecustomize.py");
        Expect.Ok(job);
        Assert.Matches(@"prefix=/\S+/kpy/linky\n", job.Stdout);
        Assert.Contains("\n/usr/share/doc\n../../..\n" + string.Concat(Enumerable.Repeat("../", 10)) + "etc/hostname\n", job.Stdout);
        Assert.EndsWith("etc/hostname\n/etc/python3.11/sitecustomize.py\n", job.Stdout);
    }

    [Fact]
    public void Unknown_venv_fails_before_submitting()
    {
        using var u = WithSavedDemo("known");
        var r = u.Tool("krun", "--venv", "unknown", "0:05", "true");
        Expect.Error(r, "krun", 1, "no saved venv called unknown");
        Assert.Contains("saved venvs: known", r.Stderr);
    }
}
