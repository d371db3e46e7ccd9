using System.Text.RegularExpressions;
using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// `kpy save --image` and loads that mount it (issue 15): saved on the login node as the test
/// user, loaded in real Slurm jobs on two compute nodes (so at two mount points), with the real
/// mksquashfs, squashfuse and fusermount3 (tests/setup.sh installs them and opens /dev/fuse).
/// </summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KpyImageTests
{
    const string Init = "eval \"$(\"$KPY\" init bash)\"";

    static ClusterUser SavedWithImage(string name)
    {
        var u = KpyClusterTests.WithPipdirAndWheels(out var wheels);
        u.Env["KPY"] = Cluster.Tool("kpy");
        // python3 -m venv (kpy create), then pip installs a real wheel with a console script
        // (Debian's wheel) and the demo wheel
        var r = u.Run("bash", ["-c", $"""
            mkdir -p "$TMPDIR"
            {Init}
            kpy create {name} 2>/dev/null || exit 10
            pip install -q --no-index --find-links {wheels} kslurmdemo || exit 11
            pip install -q --no-index /usr/share/python-wheels/wheel-*.whl || exit 12
            kpy save --image {name} || exit 14
            """]);
        Expect.Ok(r);
        return u;
    }

    static string Pipdir(ClusterUser u) => Path.Combine(u.Home, "pipdir", "venv_archives");

    [Fact]
    public void A_saved_image_mounts_in_jobs_on_two_nodes_and_every_entry_point_works()
    {
        using var u = SavedWithImage("img");
        Assert.True(File.Exists(Path.Combine(Pipdir(u), "img.tar.zst")));
        Assert.True(File.Exists(Path.Combine(Pipdir(u), "img.sqfs")));
        var list = u.Tool("kpy", "list");
        Expect.Ok(list);
        Assert.Matches(@"NAME\s+SIZE\s+SAVED\s+PYTHON\s+MODULES\s+HERE\s+IMAGE", list.Stdout);
        Assert.Matches(@"\nimg\s.*\d+(\.\d+)? [kKMG]i?B\s*\n", list.Stdout);

        var mounts = new List<string>();
        foreach (var node in new[] { "node1", "node2" })
        {
            var job = u.Tool("krun", $"--nodelist={node}", "0:05", "bash", "-c", $"""
                exec 2>&1
                {Init}
                kpy load img || exit 20
                echo "tmp=$SLURM_TMPDIR host=$(hostname)"
                grep " $SLURM_TMPDIR/kpy/.img.image fuse.squashfuse[_l]* ro," /proc/mounts | cut -d' ' -f2,3 | sed 's/^/mount=/'
                echo "VE=$VIRTUAL_ENV"
                echo "PY=$(which python)"
                python -c 'import sys; print("PREFIX=" + sys.prefix)'
                pip --version
                kslurm-demo 'a b'
                wheel version
                kpy list | grep '^img ' | sed 's/^/list=/'
                pip install --no-index /usr/share/python-wheels/wheel-*.whl; echo "pip-rc=$?"
                kpy save -f img; echo "save-rc=$?"
                kpy deactivate || exit 21
                echo "after=${"{"}VIRTUAL_ENV-unset{"}"}"
                grep -c " $SLURM_TMPDIR/kpy/.img.image " /proc/mounts | sed 's/^/mounted=/'
                ls -A "$SLURM_TMPDIR/kpy" | grep -v '^\.img\.lock$' | sed 's/^/left=/'
                kpy load img || exit 22
                grep -c " $SLURM_TMPDIR/kpy/.img.image " /proc/mounts | sed 's/^/again=/'
                # --unpack over the mount: it is unmounted, and a copy to change takes its place
                kpy load --unpack img || exit 23
                grep -c " $SLURM_TMPDIR/kpy/.img.image " /proc/mounts | sed 's/^/unpacked-mounts=/'
                [ -d "$SLURM_TMPDIR/kpy/img" ] && [ ! -L "$SLURM_TMPDIR/kpy/img" ] && echo unpacked-dir
                pip uninstall -y -q wheel && echo pip-changed
                """);
            Expect.Ok(job);
            var o = job.Stdout;
            var tmp = o.Split('\n').Single(l => l.StartsWith("tmp=", StringComparison.Ordinal))[4..].Split(' ')[0];
            Assert.Contains($"host={node}", o);
            var v = $"{tmp}/kpy/img";
            mounts.Add(tmp);
            Assert.Matches(@"kpy: img mounted read-only at \S+/kpy/img from its image \(\d\.\d\d s\)", o);
            Assert.Matches($@"mount={Regex.Escape(tmp)}/kpy/\.img\.image fuse\.squashfuse(_ll)?\n", o);
            Assert.Contains($"VE={v}\n", o);
            Assert.Contains($"PY={v}/bin/python\n", o);
            Assert.Contains($"PREFIX={v}\n", o);
            Assert.Contains($"from {v}/lib/python", o);       // pip --version
            Assert.Contains($"prefix={v}\n", o);              // the demo's console script
            Assert.Contains("args=['a b']", o);
            Assert.Matches(@"\nwheel \d", o);                  // a real wheel's console script
            Assert.Matches(@"list=img\s.*\smounted\s", o);
            Assert.Contains($"kpy: error: pip cannot change img: it is mounted read-only from its image ({v})\nkpy: hint: for a copy you can change: kpy load --unpack img\npip-rc=1\n", o);
            Assert.Contains($"kpy: error: {v} is read-only (mounted from its image?): there is nothing to save\nkpy: hint: to change it, load a copy: kpy load --unpack img\nsave-rc=1\n", o);
            Assert.Contains("kpy: unmounted img\n", o);
            Assert.Contains("after=unset\n", o);
            Assert.Contains("mounted=0\n", o);
            Assert.DoesNotContain("left=", o);
            Assert.Contains("again=1\n", o);
            Assert.Contains("unpacked-mounts=0\n", o);
            Assert.Contains("unpacked-dir\n", o);
            Assert.Contains("pip-changed\n", o);
            Assert.DoesNotContain("Traceback", o);
        }
        Assert.NotEqual(mounts[0], mounts[1]);
    }

    [Fact]
    public void Without_squashfuse_or_with_a_stale_image_the_load_unpacks_and_says_why()
    {
        using var u = SavedWithImage("stale");
        var dir = Pipdir(u);
        File.Copy(Path.Combine(dir, "stale.sqfs"), Path.Combine(u.Home, "old.sqfs"));
        // a later plain save keeps the image matching
        Expect.Ok(u.Run("bash", ["-c", $"""
            {Init}
            kpy activate stale 2>/dev/null || exit 9
            pip uninstall -y -q wheel || exit 10
            kpy save -f stale || exit 11
            """]));
        Assert.NotEqual(File.ReadAllBytes(Path.Combine(u.Home, "old.sqfs")), File.ReadAllBytes(Path.Combine(dir, "stale.sqfs")));

        var job = u.Tool("krun", "0:05", "bash", "-c", $"""
            exec 2>&1
            PATH=/nowhere "$KPY" load stale </dev/null; echo "rc=$?"
            [ -d "$SLURM_TMPDIR/kpy/stale" ] && [ ! -L "$SLURM_TMPDIR/kpy/stale" ] && echo unpacked
            "$SLURM_TMPDIR/kpy/stale/bin/kslurm-demo" x
            rm -rf "$SLURM_TMPDIR/kpy/stale"
            cp {ShellQuote.Quote(Path.Combine(u.Home, "old.sqfs"))} {ShellQuote.Quote(Path.Combine(dir, "stale.sqfs"))}
            "$KPY" load stale </dev/null; echo "rc=$?"
            grep -c " $SLURM_TMPDIR/kpy/.stale.image " /proc/mounts | sed 's/^/mounts=/'
            [ -d "$SLURM_TMPDIR/kpy/stale" ] && [ ! -L "$SLURM_TMPDIR/kpy/stale" ] && echo unpacked-again
            """);
        Expect.Ok(job);
        var o = job.Stdout;
        Assert.Contains("kpy: not mounting stale's image (squashfuse is not installed): unpacking instead\n", o);
        Assert.Contains("kpy: not mounting stale's image (it is older than the archive): unpacking instead\n", o);
        Assert.Equal(2, o.Split('\n').Count(l => l == "rc=0"));
        Assert.Contains("unpacked\n", o);
        Assert.Contains("args=['x']", o);
        Assert.Contains("mounts=0\n", o);
        Assert.Contains("unpacked-again\n", o);
    }

    [Fact]
    public void Rm_removes_the_image_and_a_missing_mksquashfs_is_one_line()
    {
        using var u = SavedWithImage("gone");
        var r = u.Run("bash", ["-c", $"""
            {Init}
            kpy activate gone 2>/dev/null || exit 9
            PATH="$VIRTUAL_ENV/bin" "$KPY" save -f --image gone; echo "rc=$?"
            """]);
        Expect.Ok(r);
        Assert.Contains("kpy: error: mksquashfs is not installed (needed for --image)\nkpy: hint: install squashfs-tools", r.Stderr);
        Assert.Contains("rc=1", r.Stdout);
        // krun --venv (kpy exec in the job) mounts it too, and runs the command inside
        var job = u.Tool("krun", "--venv", "gone", "0:05", "sh", "-c",
            "kslurm-demo; grep \" $SLURM_TMPDIR/kpy/.gone.image \" /proc/mounts | cut -d' ' -f3 | sed 's/^/fs=/'; \"$KPY\" deactivate gone");
        Expect.Ok(job);
        Assert.Matches(@"prefix=/\S+/kpy/gone\n", job.Stdout);
        Assert.Matches(@"fs=fuse\.squashfuse(_ll)?\n", job.Stdout);
        Assert.Contains("kpy: gone mounted read-only at", job.Stderr);
        Assert.Contains("kpy: unmounted gone", job.Stderr);
        Expect.Ok(u.Tool("kpy", "rm", "gone"));
        Assert.False(File.Exists(Path.Combine(Pipdir(u), "gone.tar.zst")));
        Assert.False(File.Exists(Path.Combine(Pipdir(u), "gone.sqfs")));
    }

    [Fact]
    public void A_mount_ends_with_its_job_step_and_the_next_step_mounts_again()
    {
        using var u = SavedWithImage("steps");
        // each srun is a job step: Slurm ends squashfuse with the first, leaving a dead mount
        var r = u.Tool("kbatch", "0:05", "--wait", "bash", "-c", """
            exec 2>&1
            srun -n1 "$KPY" exec steps -- kslurm-demo first
            grep -c " $SLURM_TMPDIR/kpy/.steps.image " /proc/mounts | sed 's/^/listed=/'
            ls "$SLURM_TMPDIR/kpy/steps/bin" >/dev/null 2>&1 || echo dead
            srun -n1 "$KPY" exec steps -- kslurm-demo second
            "$KPY" deactivate steps
            grep -c " $SLURM_TMPDIR/kpy/.steps.image " /proc/mounts | sed 's/^/at-end=/'
            """);
        Expect.Ok(r);
        var o = File.ReadAllText(Path.Combine(u.Work, $"slurm-{r.Stdout.Trim()}.out"));
        Assert.Contains("args=['first']", o);
        Assert.Contains("listed=1\n", o);
        Assert.Contains("dead\n", o);
        Assert.Contains("args=['second']", o);
        Assert.Equal(2, o.Split('\n').Count(l => l.StartsWith("kpy: steps mounted read-only at", StringComparison.Ordinal)));
        Assert.Contains("kpy: unmounted steps\n", o);
        Assert.Contains("at-end=0\n", o);
    }
}
