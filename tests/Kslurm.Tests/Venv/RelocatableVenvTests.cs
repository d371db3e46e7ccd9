using System.Text;
using Kslurm.Venv;
using static Kslurm.Tests.Venv.VenvLab;

namespace Kslurm.Tests.Venv;

/// <summary>
/// The relocatable form written for `kpy save --image`: scripts and activate files as pip and
/// CPython's venv write them, rewritten so that they find the venv from their own place.
/// </summary>
[Trait("Tier", "Unit")]
public class RelocatableVenvRulesTests
{
    static readonly string[] Old = ["/scratch/job1/kpy/sci", "/real/scratch/kpy/sci"];

    static string? Script(string text) => RelocatableVenv.Script(Encoding.UTF8.GetBytes(text), Old) is { } b ? Encoding.UTF8.GetString(b) : null;

    const string Relocated = "#!/bin/sh\n'''exec' \"$(s=$0; [ -L \"$s\" ] && s=$(readlink -f -- \"$s\"); dirname -- \"$s\")/";

    [Fact]
    public void A_plain_shebang_becomes_the_sh_trampoline_with_the_same_interpreter_name_and_args()
    {
        var body = "# -*- coding: utf-8 -*-\nimport re\nimport sys\nfrom pip._internal.cli.main import main\n";
        Assert.Equal(Relocated + "python3\" \"$0\" \"$@\"\n' '''\n" + body, Script("#!/scratch/job1/kpy/sci/bin/python3\n" + body));
        Assert.Equal(Relocated + "python\" -E \"$0\" \"$@\"\n' '''\nx\n", Script("#!/real/scratch/kpy/sci/bin/python -E\nx\n"));
        Assert.Equal(Relocated.Replace("\n", "\r\n") + "python3.11\" \"$0\" \"$@\"\r\n' '''\r\nx\r\n", Script("#!/scratch/job1/kpy/sci/bin/python3.11\r\nx\r\n"));
    }

    [Fact]
    public void Pips_trampolines_bare_and_quoted_are_read()
    {
        Assert.Equal(Relocated + "python3\" \"$0\" \"$@\"\n' '''\nbody\n",
            Script("#!/bin/sh\n'''exec' /scratch/job1/kpy/sci/bin/python3 \"$0\" \"$@\"\n' '''\nbody\n"));
        string[] spaced = ["/with space/sci"];
        var r = RelocatableVenv.Script(Encoding.UTF8.GetBytes("#!/bin/sh\n'''exec' \"/with space/sci/bin/python3\" \"$0\" \"$@\"\n' '''\nbody\n"), spaced);
        Assert.Equal(Relocated + "python3\" \"$0\" \"$@\"\n' '''\nbody\n", Encoding.UTF8.GetString(r!));
    }

    [Theory]
    [InlineData("#!/usr/bin/python3\nx\n")]                       // the base interpreter: not the venv's
    [InlineData("#!/scratch/job1/kpy/sci2/bin/python3\nx\n")]     // another venv
    [InlineData("#!/scratch/job1/kpy/sci/bin/bash\nx\n")]         // not Python: the trampoline is Python-only
    [InlineData("#!/scratch/job1/kpy/sci/lib/python3\nx\n")]      // not in bin/
    [InlineData("no shebang\n")]
    [InlineData("#!/bin/sh\necho hi\n")]
    public void Other_scripts_are_left_alone(string text) => Assert.Null(Script(text));

    [Fact]
    public void The_relocated_form_is_left_alone_and_the_archive_relocation_finds_nothing_in_it()
    {
        var once = Script("#!/scratch/job1/kpy/sci/bin/python3\nprint(1)\n")!;
        Assert.Null(Script(once));
        var r = new VenvRelocation(Old, "/elsewhere/kpy/sci");
        Assert.Null(r.RewriteFile("bin/tool", Encoding.UTF8.GetBytes(once)));
    }

    // CPython 3.11's activate (Debian 12), virtualenv's unquoted export form, and 3.13's case branch
    [Theory]
    [InlineData("VIRTUAL_ENV=\"/scratch/job1/kpy/sci\"\nexport VIRTUAL_ENV\n", "", "")]
    [InlineData("VIRTUAL_ENV='/scratch/job1/kpy/sci'\nexport VIRTUAL_ENV\n", "", "")]
    [InlineData("    *)\n        export VIRTUAL_ENV=/scratch/job1/kpy/sci\n        ;;\n", "        ", "export ")]
    public void The_sh_activate_computes_its_folder(string text, string indent, string export)
    {
        var r = Encoding.UTF8.GetString(RelocatableVenv.Activate(RelocatableVenv.ActivateShell.Sh, Encoding.UTF8.GetBytes(text), Old, "sci")!);
        Assert.DoesNotContain("/scratch/job1", r);
        Assert.Contains($"\n{indent}{export}VIRTUAL_ENV=\"$(CDPATH= cd -- \"$(dirname -- \"$__kpy_src\")/..\" && pwd)\"\n", r);
        Assert.Contains("__kpy_src=${BASH_SOURCE[0]}", r);
        Assert.Null(RelocatableVenv.Activate(RelocatableVenv.ActivateShell.Sh, Encoding.UTF8.GetBytes(r), Old, "sci"));
    }

    [Fact]
    public void Fish_and_csh_activate_compute_their_folder_and_other_values_stay()
    {
        var fish = Encoding.UTF8.GetString(RelocatableVenv.Activate(RelocatableVenv.ActivateShell.Fish,
            "set -gx VIRTUAL_ENV \"/scratch/job1/kpy/sci\"\nset -gx VIRTUAL_ENV_PROMPT \"(sci) \"\n"u8.ToArray(), Old, "sci")!);
        Assert.DoesNotContain("/scratch/job1", fish);
        Assert.Contains("(status --current-filename)", fish);
        Assert.Contains("set -gx VIRTUAL_ENV_PROMPT \"(sci) \"\n", fish);
        var csh = Encoding.UTF8.GetString(RelocatableVenv.Activate(RelocatableVenv.ActivateShell.Csh,
            "setenv VIRTUAL_ENV \"/scratch/job1/kpy/sci\"\n"u8.ToArray(), Old, "sci")!);
        Assert.DoesNotContain("/scratch/job1", csh);
        Assert.Contains("set __kpy_src = ( x `history -h 1` )", csh);
        Assert.Contains("setenv VIRTUAL_ENV \"$SLURM_TMPDIR/kpy/sci\"", csh);
        Assert.Null(RelocatableVenv.Activate(RelocatableVenv.ActivateShell.Sh, "VIRTUAL_ENV=\"/other/venv\"\n"u8.ToArray(), Old, "sci"));
    }
}

/// <summary>
/// A real venv (python3 -m venv, pip installing a real wheel with a console script and a hand-made
/// one) made relocatable in place, then copied to two other folders and its original removed:
/// every entry point works in each copy, in bash, zsh, fish and tcsh.
/// </summary>
[Trait("Tier", "Binary")]
public class RelocatableVenvTests
{
    [Fact]
    public void A_relocatable_venv_works_from_two_other_folders_with_its_original_gone()
    {
        using var lab = new VenvLab();
        var wheels = Path.Combine(lab.Dir, "wheels");
        DemoWheel.WriteTo(wheels);
        var orig = Path.Combine(lab.Dir, "orig", "sci");
        lab.Create(Creator.Venv, orig);
        lab.PipInstall(orig, "--find-links", wheels, DemoWheel.Name);
        var report = RelocatableVenv.MakeInPlace(orig, "sci");
        Assert.Contains("bin/activate", report.Rewritten);
        Assert.Contains("bin/pip", report.Rewritten);
        Assert.Contains("bin/kslurm-demo", report.Rewritten);
        Assert.Contains("bin/wheel", report.Rewritten);
        Assert.Empty(report.StillAbsolute);
        Assert.Empty(RelocatableVenv.MakeInPlace(orig, "sci").Rewritten); // idempotent

        string[] copies = [Path.Combine(lab.Dir, "a", "one"), Path.Combine(lab.Dir, "b b", "deeper", "two")];
        foreach (var c in copies)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(c)!);
            lab.RunOk("cp", "-a", orig, c);
        }
        // nothing that runs the venv names the folder it was made in (only pyvenv.cfg's informational
        // `command =` line, and compiled bytecode's recorded source names)
        var grep = lab.Run("grep", "-rlF", "--exclude=*.pyc", "--exclude=pyvenv.cfg", orig, copies[0]);
        Assert.True(grep.Code == 1, "files still naming the old folder:\n" + grep.Stdout);
        Directory.Delete(orig, recursive: true);

        foreach (var v in copies)
        {
            var r = lab.Bash($"""
                cd /
                {Q(v + "/bin/kslurm-demo")} 'x y'
                {Q(v + "/bin/pip")} --version
                {Q(v + "/bin/wheel")} version
                {Q(v + "/bin/python")} -c 'import sys; print("PREFIX=" + sys.prefix)'
                ln -s {Q(v + "/bin/kslurm-demo")} /tmp/kslurm-demo-link-$$ && /tmp/kslurm-demo-link-$$ linked; rm -f /tmp/kslurm-demo-link-$$
                """);
            Assert.True(r.Code == 0, r.ToString());
            Assert.Contains($"prefix={v}\n", r.Stdout);
            Assert.Contains("args=['x y']", r.Stdout);
            Assert.Contains("args=['linked']", r.Stdout);
            Assert.Contains($"from {v}/lib/python", r.Stdout);
            Assert.Contains($"PREFIX={v}\n", r.Stdout);
            Assert.Matches(@"wheel \d", r.Stdout);

            foreach (var shell in new[] { "/bin/bash", "/usr/bin/zsh" }.Where(File.Exists))
            {
                var s = lab.Box.Exec(shell, ["-c", $"cd /; . {Q(v + "/bin/activate")} || exit 9; echo \"VE=$VIRTUAL_ENV\"; echo \"PY=$(command -v python)\"; kslurm-demo; deactivate; echo \"AFTER=${{VIRTUAL_ENV-unset}}\""]);
                Assert.True(s.Code == 0, shell + "\n" + s);
                Assert.Contains($"VE={v}\n", s.Stdout);
                Assert.Contains($"PY={v}/bin/python\n", s.Stdout);
                Assert.Contains($"prefix={v}\n", s.Stdout);
                Assert.Contains("AFTER=unset", s.Stdout);
            }
            if (Which("fish") is { } fish)
            {
                var f = lab.Box.Exec(fish, ["--no-config", "-c", $"cd /; source {Q(v + "/bin/activate.fish")}; or exit 9; echo \"VE=$VIRTUAL_ENV\"; echo PY=(command -v python); kslurm-demo"]);
                Assert.True(f.Code == 0, f.ToString());
                Assert.Contains($"VE={v}\n", f.Stdout);
                Assert.Contains($"PY={v}/bin/python\n", f.Stdout);
            }
            if (Which("tcsh") is { } tcsh && !v.Contains(' '))
            {
                // an interactive tcsh (a terminal, through util-linux's `script`): the folder comes
                // from the `source` line typed; without one, from kpy's place for the name
                var t = lab.Box.Exec("script", ["-qec", $"{tcsh} -f -i", "/dev/null"],
                    stdin: $"set history=10\nsource {v}/bin/activate.csh\necho \"VE=$VIRTUAL_ENV\"\necho PY=`which python`\nexit\n");
                Assert.True(t.Code == 0, t.ToString());
                Assert.Contains($"VE={v}\r\n", t.Stdout);
                Assert.Contains($"PY={v}/bin/python\r\n", t.Stdout);
                var tmp = Path.Combine(lab.Dir, "tmp");
                var n = lab.Box.Exec("env", ["TMPDIR=" + tmp, "USER=u1", tcsh, "-f", "-c", $"set prompt='> '\nsource {v}/bin/activate.csh\necho \"VE=$VIRTUAL_ENV\"\n"]);
                Assert.True(n.Code == 0, n.ToString());
                Assert.Contains($"VE={tmp}/kpy-u1/sci\n", n.Stdout);
            }
        }
    }
}
