using static Kslurm.Tests.Venv.VenvLab;
using Kslurm.Venv;

namespace Kslurm.Tests.Venv;

/// <summary>
/// End to end, on real venvs: create (venv or virtualenv), install a wheel and two editable
/// projects, move A -> B through the relocation API, pip install at B, move B -> C, and check at
/// each stop that everything runs with and without activation.
/// </summary>
[Trait("Tier", "Binary")]
public class VenvMoveTests
{
    public enum Place { Deep, Short, Space }

    static string PathFor(string root, Place place, string tag) => place switch
    {
        // "#!" + this + "/bin/python3" is far beyond 127 bytes: pip writes the /bin/sh trampoline
        Place.Deep => Path.Combine(root, string.Concat(Enumerable.Repeat("deep-directory-", 9)), tag, "venv"),
        Place.Short => Path.Combine(root, tag),
        // a space in a parent folder: pip writes the quoted trampoline
        Place.Space => Path.Combine(root, "with space", tag, "venv"),
        _ => throw new ArgumentOutOfRangeException(nameof(place)),
    };

    [Theory]
    [InlineData(Creator.Venv, Place.Deep, Place.Short, Place.Space, false)]
    [InlineData(Creator.Venv, Place.Space, Place.Deep, Place.Short, true)]
    [InlineData(Creator.Virtualenv, Place.Deep, Place.Short, Place.Space, true)]
    [InlineData(Creator.Virtualenv, Place.Space, Place.Deep, Place.Short, false)]
    public void Venv_works_after_two_moves(Creator creator, Place first, Place second, Place third, bool secondMoveInPlace)
    {
        using var lab = new VenvLab();
        var a = PathFor(lab.Dir, first, "a");
        var b = PathFor(lab.Dir, second, "b");
        var c = PathFor(lab.Dir, third, "c");
        Assert.True((a + "/bin/python3").Length + 3 > 127 || first != Place.Deep);

        // a wheelhouse built from projects written here, and two editable projects: one outside the
        // venv (src layout: a plain path .pth) and one inside it (flat layout: an __editable__ finder)
        var wheels = Path.Combine(lab.Dir, "wheels");
        WriteProject(Path.Combine(lab.Dir, "proj-hello"), "hello-kpy", srcLayout: true, script: "hello-kpy");
        WriteProject(Path.Combine(lab.Dir, "proj-second"), "second-kpy", srcLayout: true, script: "second-kpy");
        var outside = Path.Combine(lab.Dir, "proj-edit");
        WriteProject(outside, "edit-kpy", srcLayout: true, script: "edit-kpy");

        lab.Create(creator, a);
        lab.RunOk(Path.Combine(a, "bin", "pip"), "wheel", "--quiet", "--no-index", "--no-build-isolation", "-w", wheels,
            Path.Combine(lab.Dir, "proj-hello"), Path.Combine(lab.Dir, "proj-second"));
        lab.PipInstall(a, Directory.GetFiles(wheels, "hello_kpy-*.whl").Single());
        lab.PipInstall(a, "-e", outside);
        var inside = Path.Combine(a, "src", "flat");
        WriteProject(inside, "flat-kpy", srcLayout: false);
        lab.PipInstall(a, "-e", inside);
        Assert.Contains(Directory.GetFiles(a, "__editable___*finder.py", SearchOption.AllDirectories), f => f.Contains("flat_kpy"));
        CheckScripts(lab, a, creator, outside, withSecond: false);

        // A -> B, extractor style
        var refused = Move(a, b, new VenvRelocation([a], b));
        Assert.Empty(refused);
        CheckAll(lab, b, creator, outside, withSecond: false, gone: [a]);

        // change it at B, then B -> C
        lab.PipInstall(b, Directory.GetFiles(wheels, "second_kpy-*.whl").Single());
        if (secondMoveInPlace)
        {
            // `kpy export` / old archives: copy as is, find the old path from the copy, fix in place
            Directory.CreateDirectory(Path.GetDirectoryName(c)!);
            lab.RunOk("/bin/cp", "-a", b, c);
            Directory.Delete(b, recursive: true);
            Assert.Equal(b, VenvRelocation.GuessOldPath(c));
            var report = VenvRelocation.RelocateInPlace(c, new VenvRelocation([b], c));
            Assert.Contains("bin/activate", report.RewrittenFiles);
        }
        else
            Assert.Empty(Move(b, c, new VenvRelocation([b], c)));
        CheckAll(lab, c, creator, outside, withSecond: true, gone: [a, b]);

        // idempotent: the same relocation again finds nothing to do
        var again = VenvRelocation.RelocateInPlace(c, new VenvRelocation([b], c));
        Assert.Empty(again.RewrittenFiles);
        Assert.Empty(again.RewrittenLinks);
    }

    static void CheckAll(VenvLab lab, string v, Creator creator, string outside, bool withSecond, string[] gone)
    {
        foreach (var old in gone)
            Assert.Empty(TextFilesMentioning(v, old));
        CheckShebangForm(v, creator);
        CheckScripts(lab, v, creator, outside, withSecond);
        CheckBash(lab, v, withSecond);
        CheckTcsh(lab, v);
        CheckFish(lab, v);
        if (creator == Creator.Virtualenv)
            CheckActivateThis(lab, v);
    }

    /// <summary>The header pip itself would write at this path: plain when it fits, else the trampoline.</summary>
    static void CheckShebangForm(string v, Creator creator)
    {
        var lines = File.ReadAllLines(Path.Combine(v, "bin", "hello-kpy"));
        var python = v + (creator == Creator.Venv ? "/bin/python3" : "/bin/python"); // what each seeds pip with
        var plain = "#!" + python;
        if (plain.Length + 1 <= 127 && !v.Contains(' '))
            Assert.Equal(plain, lines[0]);
        else
        {
            Assert.Equal("#!/bin/sh", lines[0]);
            Assert.Equal($"'''exec' \"{python}\" \"$0\" \"$@\"", lines[1]);
            Assert.Equal("' '''", lines[2]);
        }
    }

    static void CheckScripts(VenvLab lab, string v, Creator creator, string outside, bool withSecond)
    {
        var hello = lab.RunOk(Path.Combine(v, "bin", "hello-kpy")).Stdout.Split('\n');
        Assert.Equal("hello-kpy", hello[0]);
        Assert.StartsWith(v + "/lib/", hello[1]);
        Assert.Equal(v, hello[2]);

        Assert.Equal(v + "\n", lab.RunOk(Path.Combine(v, "bin", "python"), "-c", "import sys; print(sys.prefix)").Stdout);
        Assert.Equal(v + "\n", lab.RunOk(Path.Combine(v, "bin", "python3"), "-c", "import sys; print(sys.prefix)").Stdout);

        var pip = lab.RunOk(Path.Combine(v, "bin", "pip"), "--version").Stdout;
        Assert.Contains($"from {v}/lib/", pip);
        Assert.Contains("hello-kpy", lab.RunOk(Path.Combine(v, "bin", "pip"), "list", "--format=freeze").Stdout);

        var imports = lab.RunOk(Path.Combine(v, "bin", "python"), "-c", "import edit_kpy, flat_kpy; print(edit_kpy.__file__); print(flat_kpy.__file__)").Stdout.Split('\n');
        Assert.Equal(Path.Combine(outside, "src", "edit_kpy", "__init__.py"), imports[0]);
        Assert.Equal(Path.Combine(v, "src", "flat", "flat_kpy", "__init__.py"), imports[1]);
        Assert.Equal("edit-kpy", lab.RunOk(Path.Combine(v, "bin", "edit-kpy")).Stdout.Split('\n')[0]);

        if (withSecond)
            Assert.Equal(v, lab.RunOk(Path.Combine(v, "bin", "second-kpy")).Stdout.Split('\n')[2]);
        if (creator == Creator.Virtualenv)
            Assert.Contains("wheel", lab.RunOk(Path.Combine(v, "bin", "wheel"), "version").Stdout);
    }

    static void CheckBash(VenvLab lab, string v, bool withSecond)
    {
        var r = lab.Bash($"""
            cd /
            PS1='$ '
            before="$PATH"
            source {Q(v + "/bin/activate")} || exit 9
            echo "VE=$VIRTUAL_ENV"
            echo "PY=$(command -v python)"
            hello-kpy | sed -n 3p
            python -c 'import sys; print("PREFIX=" + sys.prefix)'
            pip --version
            {(withSecond ? "second-kpy | sed -n 3p" : "true")}
            deactivate
            [ "$PATH" = "$before" ] && echo PATH-RESTORED
            echo "AFTER=${"{"}VIRTUAL_ENV-unset{"}"}"
            """);
        Assert.True(r.Code == 0, r.ToString());
        var lines = r.Stdout.Split('\n');
        Assert.Contains("VE=" + v, lines);
        Assert.Contains("PY=" + v + "/bin/python", lines);
        Assert.Contains("PREFIX=" + v, lines);
        Assert.Equal(withSecond ? 2 : 1, lines.Count(l => l == v));
        Assert.Contains(lines, l => l.StartsWith("pip ", StringComparison.Ordinal) && l.Contains($"from {v}/lib/"));
        Assert.Contains("PATH-RESTORED", lines);
        Assert.Contains("AFTER=unset", lines);
        Assert.Equal("", r.Stderr);
    }

    static void CheckTcsh(VenvLab lab, string v)
    {
        if (Which("tcsh") is not { } tcsh)
            return;
        // one command per line: csh expands an alias only on lines read after it was defined
        var r = lab.Box.Exec(tcsh, ["-f", "-c", $"""
            set prompt='> '
            source {Q(v + "/bin/activate.csh")}
            echo "VE=$VIRTUAL_ENV"
            echo PY=`which python`
            hello-kpy
            deactivate
            echo "AFTER=$?VIRTUAL_ENV"
            """]);
        Assert.True(r.Code == 0, r.ToString());
        var lines = r.Stdout.Split('\n');
        Assert.Contains("VE=" + v, lines);
        Assert.Contains("PY=" + v + "/bin/python", lines);
        Assert.Contains(v, lines);
        Assert.Contains("AFTER=0", lines);
    }

    static void CheckFish(VenvLab lab, string v)
    {
        if (Which("fish") is not { } fish)
            return;
        var r = lab.Box.Exec(fish, ["--no-config", "-c",
            $"source {Q(v + "/bin/activate.fish")}; or exit 9; echo \"VE=$VIRTUAL_ENV\"; echo PY=(command -v python); hello-kpy; deactivate; echo AFTER=(set -q VIRTUAL_ENV; and echo set; or echo unset)"]);
        Assert.True(r.Code == 0, r.ToString());
        var lines = r.Stdout.Split('\n');
        Assert.Contains("VE=" + v, lines);
        Assert.Contains("PY=" + v + "/bin/python", lines);
        Assert.Contains(v, lines);
        Assert.Contains("AFTER=unset", lines);
    }

    /// <summary>virtualenv's activate_this.py, run from the base interpreter.</summary>
    static void CheckActivateThis(VenvLab lab, string v)
    {
        var script = $"f = {Q(v + "/bin/activate_this.py")}\n" +
                     "exec(open(f).read(), {'__file__': f})\n" +
                     "import os, sys, hello_kpy, flat_kpy\n" +
                     "print(os.environ['VIRTUAL_ENV']); print(sys.prefix); print(hello_kpy.__file__); print(flat_kpy.__file__)\n";
        var lines = lab.RunOk(Python, "-c", script).Stdout.Split('\n');
        Assert.Equal(v, lines[0]);
        Assert.Equal(v, lines[1]);
        Assert.StartsWith(v + "/lib/", lines[2]);
        Assert.Equal(Path.Combine(v, "src", "flat", "flat_kpy", "__init__.py"), lines[3]);
    }
}
