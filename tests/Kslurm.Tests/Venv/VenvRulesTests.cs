using System.Text;
using static Kslurm.Tests.Venv.VenvLab;
using Kslurm.Venv;

namespace Kslurm.Tests.Venv;

/// <summary>The individual rules: text vs binary, path boundaries, shebangs, symlinks, guessing the old path.</summary>
[Trait("Tier", "Unit")]
public class VenvRulesTests
{
    static string? Rewrite(VenvRelocation r, string rel, string text)
        => r.RewriteFile(rel, Encoding.UTF8.GetBytes(text)) is { } b ? Encoding.UTF8.GetString(b) : null;

    // ---- boundaries ----------------------------------------------------------------------------------

    [Theory]
    [InlineData("/old/venv\n", "/new/v\n")]
    [InlineData("/old/venv/lib/x.py\n", "/new/v/lib/x.py\n")]
    [InlineData("'/old/venv' \"/old/venv/bin\" (/old/venv) /old/venv:/usr/bin", "'/new/v' \"/new/v/bin\" (/new/v) /new/v:/usr/bin")]
    [InlineData("/old/venv2/x /old/venv-x /old/venv.bak /old/venv_1 /old/venvé", null)]
    [InlineData("/x/old/venv/y a/old/venv.old/venv", null)]
    [InlineData("see /old/venv2/x and /old/venv/x", "see /old/venv2/x and /new/v/x")]
    [InlineData("{\"url\": \"file:///old/venv/src/p\"}", "{\"url\": \"file:///new/v/src/p\"}")]
    [InlineData("no path here", null)]
    public void Old_path_is_replaced_only_at_a_path_boundary(string before, string? after)
        => Assert.Equal(after, Rewrite(new VenvRelocation(["/old/venv"], "/new/v"), "lib/python3.11/site-packages/a.pth", before));

    [Fact]
    public void Both_the_given_and_the_resolved_old_path_are_replaced()
    {
        var r = new VenvRelocation(["/home/u/venv", "/gpfs/home/u/venv/"], "/scratch/v");
        Assert.Equal("/scratch/v/a\n/scratch/v/b\n", Rewrite(r, "x.pth", "/home/u/venv/a\n/gpfs/home/u/venv/b\n"));
    }

    [Fact]
    public void Urls_use_percent_encoding_on_both_sides()
    {
        var r = new VenvRelocation(["/old/my venv"], "/new/with space");
        Assert.Equal("{\"url\": \"file:///new/with%20space/src/p\"} /new/with space/x",
            Rewrite(r, "lib/python3.11/site-packages/p.dist-info/direct_url.json", "{\"url\": \"file:///old/my%20venv/src/p\"} /old/my venv/x"));
        var back = new VenvRelocation(["/new/with space"], "/short");
        Assert.Equal("file:///short/src/p", Rewrite(back, "a.json", "file:///new/with%20space/src/p"));
    }

    [Fact]
    public void Rewriting_is_idempotent_even_when_the_new_path_extends_the_old()
    {
        var r = new VenvRelocation(["/a/v"], "/a/v/inner/v");
        var once = Rewrite(r, "x.pth", "/a/v/lib\n")!;
        Assert.Equal("/a/v/inner/v/lib\n", once);
        Assert.Null(Rewrite(r, "x.pth", once));
        var shrink = new VenvRelocation(["/a/v/inner/v"], "/a/v");
        Assert.Equal("/a/v/lib /a/v/lib\n", Rewrite(shrink, "x.pth", "/a/v/inner/v/lib /a/v/lib\n"));
    }

    [Fact]
    public void Bare_shell_words_get_quotes_when_the_new_path_needs_them()
    {
        var r = new VenvRelocation(["/old/v"], "/new dir/v");
        // CPython 3.11 writes VIRTUAL_ENV unquoted when the path needs no quoting (shlex.quote)
        Assert.Equal("# at /new dir/v\nVIRTUAL_ENV='/new dir/v'\nexport X='/new dir/v'/bin\nY=\"/new dir/v/bin\"\nZ='/new dir/v'\n",
            Rewrite(r, "bin/activate", "# at /old/v\nVIRTUAL_ENV=/old/v\nexport X=/old/v/bin\nY=\"/old/v/bin\"\nZ='/old/v'\n"));
        Assert.Equal("set -gx VIRTUAL_ENV '/new dir/v'\n", Rewrite(r, "bin/activate.fish", "set -gx VIRTUAL_ENV /old/v\n"));
        Assert.Equal("setenv VIRTUAL_ENV '/new dir/v'\n", Rewrite(r, "bin/activate.csh", "setenv VIRTUAL_ENV /old/v\n"));
        // outside activation scripts a path is text, quoted or not
        Assert.Equal("/new dir/v/src\n", Rewrite(r, "lib/python3.11/site-packages/x.pth", "/old/v/src\n"));
    }

    [Fact]
    public void Bytes_around_the_path_are_kept_exactly()
    {
        var r = new VenvRelocation(["/old/v"], "/new/v");
        var before = "caf\u00e9 \r\n/old/v/x\tno newline at end";
        Assert.Equal(before.Replace("/old/v", "/new/v"), Rewrite(r, "x.txt", before));
        byte[] latin1 = [0xE9, (byte)' ', .. "/old/v"u8.ToArray(), (byte)'\n'];
        byte[] expected = [0xE9, (byte)' ', .. "/new/v"u8.ToArray(), (byte)'\n'];
        Assert.Equal(expected, r.RewriteFile("x.txt", latin1));
    }

    [Theory]
    [InlineData("pyvenv.cfg",
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\nexecutable = /usr/bin/python3.11\ncommand = /usr/bin/python3 -m venv /old/v\n",
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.2\nexecutable = /usr/bin/python3.11\ncommand = /usr/bin/python3 -m venv /new/v\n")]
    [InlineData("share/jupyter/kernels/python3/kernel.json",
        "{\n \"argv\": [\n  \"/old/v/bin/python\",\n  \"-m\",\n  \"ipykernel_launcher\",\n  \"-f\",\n  \"{connection_file}\"\n ],\n \"display_name\": \"v\"\n}",
        "{\n \"argv\": [\n  \"/new/v/bin/python\",\n  \"-m\",\n  \"ipykernel_launcher\",\n  \"-f\",\n  \"{connection_file}\"\n ],\n \"display_name\": \"v\"\n}")]
    [InlineData("lib/python3.11/site-packages/__editable___p_0_1_finder.py",
        "MAPPING = {'p': '/old/v/src/p/p'}\nNAMESPACES = {}\n", "MAPPING = {'p': '/new/v/src/p/p'}\nNAMESPACES = {}\n\n")] // same size: one more newline (see below)
    [InlineData("lib/python3.11/site-packages/__editable__.p-0.1.pth", "/old/v/src/p/src\n", "/new/v/src/p/src\n")]
    [InlineData("lib/python3.11/site-packages/p.egg-link", "/old/v/src/p\n.", "/new/v/src/p\n.")]
    [InlineData("lib/python3.11/site-packages/easy-install.pth", "/old/v/src/p\n/elsewhere/q\n", "/new/v/src/p\n/elsewhere/q\n")]
    [InlineData("lib/python3.11/site-packages/p-0.1.dist-info/RECORD",
        "p/__init__.py,sha256=abc,10\n/old/v/etc/p.conf,,\n../../../bin/p,sha256=def,200\n",
        "p/__init__.py,sha256=abc,10\n/new/v/etc/p.conf,,\n../../../bin/p,sha256=def,200\n")]
    [InlineData("lib/python3.11/site-packages/p-0.1.dist-info/direct_url.json",
        "{\"dir_info\": {\"editable\": true}, \"url\": \"file:///old/v/src/p\"}", "{\"dir_info\": {\"editable\": true}, \"url\": \"file:///new/v/src/p\"}")]
    [InlineData("bin/activate_this.py", "VIRTUAL_ENV = '/old/v'\n", "VIRTUAL_ENV = '/new/v'\n\n")]
    public void Venv_files_that_hold_the_path(string rel, string before, string after)
        => Assert.Equal(after, Rewrite(new VenvRelocation(["/old/v"], "/new/v"), rel, before));

    [Fact]
    public void Same_length_python_source_cannot_be_shadowed_by_its_old_bytecode()
    {
        using var lab = new VenvLab();
        var a = Path.Combine(lab.Dir, "aaaa");
        var b = Path.Combine(lab.Dir, "bbbb"); // same length as a
        Directory.CreateDirectory(a);
        File.WriteAllText(Path.Combine(a, "m.py"), $"X = '{a}'\n");
        Assert.Equal(0, lab.Box.Exec(Python, ["-c", "import m"], cwd: a).Code);
        Assert.Single(Directory.GetFiles(Path.Combine(a, "__pycache__")));
        var r = new VenvRelocation([a], b);
        Directory.CreateDirectory(Path.Combine(b, "__pycache__"));
        var pyc = Directory.GetFiles(Path.Combine(a, "__pycache__")).Single();
        File.Copy(pyc, Path.Combine(b, "__pycache__", Path.GetFileName(pyc)));
        var rewritten = r.RewriteFile("m.py", File.ReadAllBytes(Path.Combine(a, "m.py")))!;
        File.WriteAllBytes(Path.Combine(b, "m.py"), rewritten);
        File.SetLastWriteTimeUtc(Path.Combine(b, "m.py"), File.GetLastWriteTimeUtc(Path.Combine(a, "m.py"))); // an extractor restoring mtimes
        Assert.Equal(b + "\n", lab.Box.Exec(Python, ["-c", "import m; print(m.X)"], cwd: b).Stdout);
    }

    // ---- binaries --------------------------------------------------------------------------------------

    [Theory]
    [InlineData("lib/python3.11/site-packages/m/__pycache__/x.cpython-311.pyc")]
    [InlineData("lib/python3.11/site-packages/m/_x.cpython-311-x86_64-linux-gnu.so")]
    [InlineData("lib/libfoo.so.1")]
    [InlineData("bin/tool")]
    public void Files_with_a_nul_byte_or_compiled_names_are_binary(string rel)
    {
        var r = new VenvRelocation(["/old/v"], "/new/v");
        Assert.Null(r.RewriteFile(rel, [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0, .. "/old/v/lib\0"u8]));
        Assert.Null(r.RewriteFile(rel, [.. "#!/old/v/bin/python\n"u8, 0]));
        if (rel.EndsWith(".pyc") || rel.Contains(".so"))
            Assert.Null(r.RewriteFile(rel, "/old/v/lib no nul at all"u8));
    }

    [Fact]
    public void Binaries_in_a_real_venv_survive_a_move_untouched()
    {
        using var lab = new VenvLab();
        var a = Path.Combine(lab.Dir, "a");
        var b = Path.Combine(lab.Dir, "b");
        lab.Create(Creator.Venv, a, bare: true);
        var site = Directory.GetDirectories(Path.Combine(a, "lib"), "python3*").Single() + "/site-packages";
        File.Copy("/bin/true", Path.Combine(a, "bin", "true-copy"));
        File.SetUnixFileMode(Path.Combine(a, "bin", "true-copy"), (UnixFileMode)0b111_101_101);
        // an ELF whose strings mention the old path (as RPATHs do) and a .pyc whose co_filename is the old path
        byte[] elf = [.. File.ReadAllBytes("/bin/true"), .. Encoding.UTF8.GetBytes(a + "/lib\0")];
        File.WriteAllBytes(Path.Combine(site, "_ext.cpython-311-x86_64-linux-gnu.so"), elf);
        File.WriteAllText(Path.Combine(site, "mod.py"), "X = 1\n");
        lab.RunOk(Path.Combine(a, "bin", "python"), "-m", "py_compile", Path.Combine(site, "mod.py"));
        var pyc = Directory.GetFiles(Path.Combine(site, "__pycache__"), "mod.*.pyc").Single();
        var pycBytes = File.ReadAllBytes(pyc);
        Assert.True(pycBytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(a)) >= 0);
        var trueBytes = File.ReadAllBytes("/bin/true");

        Move(a, b, new VenvRelocation([a], b));

        var bSite = site.Replace(a, b);
        Assert.Equal(trueBytes, File.ReadAllBytes(Path.Combine(b, "bin", "true-copy")));
        Assert.Equal(elf, File.ReadAllBytes(Path.Combine(bSite, "_ext.cpython-311-x86_64-linux-gnu.so")));
        Assert.Equal(pycBytes, File.ReadAllBytes(pyc.Replace(a, b)));
        Assert.Equal(0, lab.Run(Path.Combine(b, "bin", "true-copy")).Code);
        Assert.Equal("1\n", lab.RunOk(Path.Combine(b, "bin", "python"), "-c", "import mod; print(mod.X)").Stdout);
        Assert.Contains(b, File.ReadAllText(Path.Combine(b, "bin", "activate")));
    }

    // ---- shebangs ----------------------------------------------------------------------------------------

    static readonly string Long = "/" + string.Concat(Enumerable.Repeat("long-directory/", 9)) + "v";

    [Fact]
    public void Short_shebang_stays_plain_and_keeps_its_arguments()
    {
        var r = new VenvRelocation(["/old/v"], "/new/v");
        Assert.Equal("#!/new/v/bin/python3 -E\nimport x  # /new/v\n", Rewrite(r, "bin/tool", "#!/old/v/bin/python3 -E\nimport x  # /old/v\n"));
    }

    [Fact]
    public void Long_or_spaced_shebang_becomes_the_pip_trampoline()
    {
        var r = new VenvRelocation(["/old/v"], Long);
        Assert.Equal($"#!/bin/sh\n'''exec' \"{Long}/bin/python3\" \"$0\" \"$@\"\n' '''\nimport x\n", Rewrite(r, "bin/tool", "#!/old/v/bin/python3\nimport x\n"));
        var s = new VenvRelocation(["/old/v"], "/with space/v");
        Assert.Equal("#!/bin/sh\n'''exec' \"/with space/v/bin/python\" \"$0\" \"$@\"\n' '''\n", Rewrite(s, "bin/tool", "#!/old/v/bin/python\n"));
    }

    [Fact]
    public void Trampolines_are_read_in_both_pip_spellings_and_become_plain_when_short()
    {
        var r = new VenvRelocation([Long, "/with space/v"], "/new/v");
        // pip writes the interpreter bare for a long path, quoted for a path with a space
        Assert.Equal("#!/new/v/bin/python3\n# -*- coding: utf-8 -*-\n",
            Rewrite(r, "bin/tool", $"#!/bin/sh\n'''exec' {Long}/bin/python3 \"$0\" \"$@\"\n' '''\n# -*- coding: utf-8 -*-\n"));
        Assert.Equal("#!/new/v/bin/python3\n",
            Rewrite(r, "bin/tool", "#!/bin/sh\n'''exec' \"/with space/v/bin/python3\" \"$0\" \"$@\"\n' '''\n"));
        var longer = new VenvRelocation(["/with space/v"], Long);
        Assert.Equal($"#!/bin/sh\n'''exec' \"{Long}/bin/python3\" \"$0\" \"$@\"\n' '''\n",
            Rewrite(longer, "bin/tool", "#!/bin/sh\n'''exec' \"/with space/v/bin/python3\" \"$0\" \"$@\"\n' '''\n"));
    }

    [Fact]
    public void Rewritten_trampoline_runs()
    {
        using var lab = new VenvLab();
        var v = Path.Combine(lab.Dir, string.Concat(Enumerable.Repeat("long-directory/", 9)), "v");
        Directory.CreateDirectory(Path.Combine(v, "bin"));
        File.CreateSymbolicLink(Path.Combine(v, "bin", "python3"), Python);
        var r = new VenvRelocation(["/old/v"], v);
        var script = Path.Combine(v, "bin", "tool");
        File.WriteAllBytes(script, r.RewriteFile("bin/tool", "#!/old/v/bin/python3\nimport sys\nprint(sys.argv[1:], sys.executable)\n"u8)!);
        File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101);
        Assert.Equal($"['a b', '$c'] {v}/bin/python3\n", lab.RunOk(script, "a b", "$c").Stdout);
    }

    [Fact]
    public void Relocating_onto_the_same_path_changes_nothing()
    {
        var r = new VenvRelocation([Long], Long, "a", null);
        Assert.Null(Rewrite(r, "bin/pip", $"#!/bin/sh\n'''exec' {Long}/bin/python3 \"$0\" \"$@\"\n' '''\nimport x\n"));
        Assert.Null(Rewrite(r, "bin/activate", $"VIRTUAL_ENV={Long}\nPS1='(a) '\n"));
        Assert.Equal($"{Long}/bin/python", r.RewriteSymlink("bin/x", $"{Long}/bin/python"));
    }

    [Fact]
    public void Nested_old_and_new_paths_follow_the_longest_prefix()
    {
        var deeper = new VenvRelocation(["/a/v"], "/a/v/inner/v");
        Assert.Equal("/a/v/inner/v/bin/python3", deeper.RewriteSymlink("bin/x", "/a/v/bin/python3"));
        Assert.Equal("/a/v/inner/v/bin/python3", deeper.RewriteSymlink("bin/x", "/a/v/inner/v/bin/python3"));
        Assert.Null(Rewrite(deeper, "bin/t", "#!/a/v/inner/v/bin/python3\n"));
        var shallower = new VenvRelocation(["/a/v/inner/v"], "/a/v");
        Assert.Equal("/a/v/bin/python3", shallower.RewriteSymlink("bin/x", "/a/v/inner/v/bin/python3"));
        Assert.Equal("#!/a/v/bin/python3\n", Rewrite(shallower, "bin/t", "#!/a/v/inner/v/bin/python3\n"));
    }

    [Fact]
    public void Other_interpreters_and_foreign_shebangs()
    {
        var r = new VenvRelocation(["/old/v"], Long);
        // a non-Python interpreter cannot use the Python trampoline: plain, even when long
        Assert.Equal($"#!{Long}/bin/bash\n", Rewrite(r, "bin/x", "#!/old/v/bin/bash\n"));
        // shebangs pointing elsewhere are not touched (only the body path is)
        Assert.Equal($"#!/usr/bin/env python3\n# {Long}\n", Rewrite(r, "bin/x", "#!/usr/bin/env python3\n# /old/v\n"));
        Assert.Null(Rewrite(r, "bin/x", "#!/usr/bin/python3\nprint(1)\n"));
        // a sh script whose line 2 is not pip's exec line is just text
        Assert.Equal($"#!/bin/sh\nexec {Long}/bin/python3 \"$@\"\n", Rewrite(r, "bin/x", "#!/bin/sh\nexec /old/v/bin/python3 \"$@\"\n"));
    }

    // ---- symlinks ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("bin/python", "/usr/bin/python3", "/usr/bin/python3")]       // base interpreter: kept
    [InlineData("bin/python3.11", "/opt/py/bin/python3.11", "/opt/py/bin/python3.11")]
    [InlineData("bin/python3.13t", "/opt/py/bin/python3.13t", "/opt/py/bin/python3.13t")]
    [InlineData("bin/pypy3", "/opt/pypy/bin/pypy3", "/opt/pypy/bin/pypy3")]
    [InlineData("bin/python3", "python", "python")]                         // relative inside: kept
    [InlineData("lib64", "lib", "lib")]
    [InlineData("lib/python3.11/site-packages/a/b", "../../../../bin/x", "../../../../bin/x")]
    [InlineData("bin/tool", "/old/v/lib/tool.py", "/new/v/lib/tool.py")]     // into the old venv: moved
    [InlineData("share/link", "/old/v", "/new/v")]
    [InlineData("bin/python", "/old/v/base/bin/python3", "/new/v/base/bin/python3")]
    [InlineData("bin/tool", "/usr/bin/tool", "/usr/bin/tool")]               // leaves the venv: kept as it is (a link is data)
    [InlineData("bin/python/x", "/usr/bin/python3", "/usr/bin/python3")]
    [InlineData("lib/python3.11/site-packages/sitecustomize.py", "/etc/python3.11/sitecustomize.py", "/etc/python3.11/sitecustomize.py")]
    [InlineData("lib64", "../etc", "../etc")]
    [InlineData("bin/x", "../../v/bin/python", "../../v/bin/python")]
    [InlineData("bin/python3", "/old/v2/bin/python3", "/old/v2/bin/python3")] // not under /old/v
    [InlineData("bin/x", "/old/v2/bin/x", "/old/v2/bin/x")]
    [InlineData("bin/x", "", null)]                                          // no file system holds these
    [InlineData("bin/x", "a\0b", null)]
    [InlineData("bin/x", "/new/v/bin/y", "/new/v/bin/y")]                    // already relocated
    public void Symlink_policy(string rel, string target, string? expected)
        => Assert.Equal(expected, new VenvRelocation(["/old/v"], "/new/v").RewriteSymlink(rel, target));

    [Fact]
    public void In_place_relocation_retargets_links_and_drops_stale_bytecode()
    {
        using var lab = new VenvLab();
        var a = Path.Combine(lab.Dir, "a");
        var b = Path.Combine(lab.Dir, "b");
        lab.Create(Creator.Venv, a, bare: true);
        var site = Directory.GetDirectories(Path.Combine(a, "lib"), "python3*").Single() + "/site-packages";
        File.CreateSymbolicLink(Path.Combine(a, "bin", "abs-inside"), Path.Combine(a, "bin", "python"));
        File.CreateSymbolicLink(Path.Combine(a, "bin", "outside"), "/usr/bin/env");
        File.WriteAllText(Path.Combine(site, "where.py"), $"WHERE = '{a}'\n");
        lab.RunOk(Path.Combine(a, "bin", "python"), "-c", "import where");
        Assert.Single(Directory.GetFiles(Path.Combine(site, "__pycache__"), "where.*.pyc"));
        lab.RunOk("/bin/cp", "-a", a, b);

        var report = VenvRelocation.RelocateInPlace(b, new VenvRelocation([a], b));

        var bSite = site.Replace(a, b);
        Assert.Equal(["bin/abs-inside"], report.RewrittenLinks);
        Assert.Contains("bin/activate", report.RewrittenFiles);
        Assert.Contains(bSite[(b.Length + 1)..] + "/where.py", report.RewrittenFiles);
        Assert.Equal(Path.Combine(b, "bin", "python"), new FileInfo(Path.Combine(b, "bin", "abs-inside")).LinkTarget);
        Assert.Equal("/usr/bin/python3", new FileInfo(Path.Combine(b, "bin", "python3")).LinkTarget);
        Assert.Equal("lib", new FileInfo(Path.Combine(b, "lib64")).LinkTarget);
        Assert.Equal("/usr/bin/env", new FileInfo(Path.Combine(b, "bin", "outside")).LinkTarget);
        Assert.Empty(Directory.GetFiles(Path.Combine(bSite, "__pycache__"), "where.*.pyc"));
        Assert.Equal(b + "\n", lab.RunOk(Path.Combine(b, "bin", "abs-inside"), "-c", "import where; print(where.WHERE)").Stdout);
        // the original is untouched
        Assert.Equal(Path.Combine(a, "bin", "python"), new FileInfo(Path.Combine(a, "bin", "abs-inside")).LinkTarget);
        Assert.Contains(a, File.ReadAllText(Path.Combine(a, "bin", "activate")));
    }

    // ---- guessing the old path ------------------------------------------------------------------------------

    [Theory]
    [InlineData(Creator.Venv, "plain")]
    [InlineData(Creator.Venv, "with space")]
    [InlineData(Creator.Virtualenv, "with space")]
    public void Old_path_is_guessed_from_a_real_venv(Creator creator, string folder)
    {
        using var lab = new VenvLab();
        var v = Path.Combine(lab.Dir, folder, "venv");
        lab.Create(creator, v, bare: true);
        Assert.Equal(v, VenvRelocation.GuessOldPath(v));
        File.Delete(Path.Combine(v, "bin", "activate"));
        Assert.Equal(v, VenvRelocation.GuessOldPath(v)); // from activate.csh
        foreach (var f in Directory.GetFiles(Path.Combine(v, "bin"), "*ctivate*"))
            File.Delete(f);
        Assert.Equal(creator == Creator.Venv ? v : null, VenvRelocation.GuessOldPath(v)); // pyvenv.cfg command = (venv only)
    }

    [Fact]
    public void Old_path_guessing_fallbacks()
    {
        using var lab = new VenvLab();
        var v = Path.Combine(lab.Dir, "v");
        Directory.CreateDirectory(Path.Combine(v, "bin"));
        Assert.Null(VenvRelocation.GuessOldPath(v));
        File.WriteAllText(Path.Combine(v, "bin", "pip"), "#!/bin/sh\n'''exec' \"/was here/v/bin/python3\" \"$0\" \"$@\"\n' '''\n");
        Assert.Null(VenvRelocation.GuessOldPath(v)); // this venv has no bin/python3: not its own interpreter
        File.CreateSymbolicLink(Path.Combine(v, "bin", "python3"), "/nonexistent/python3");
        Assert.Equal("/was here/v", VenvRelocation.GuessOldPath(v));
        // a script run by the base interpreter does not make its prefix a venv path
        File.WriteAllText(Path.Combine(v, "bin", "a-tool"), "#!/usr/bin/python3\n");
        File.WriteAllText(Path.Combine(v, "pyvenv.cfg"), "home = /usr/bin\n");
        Assert.Equal(["/was here/v"], VenvRelocation.GuessOldPaths(v));
        File.WriteAllText(Path.Combine(v, "pyvenv.cfg"), "home = /usr/bin\ncommand = /usr/bin/python3 -m venv --prompt=\"a b\" --upgrade-deps /cfg/v\n");
        Assert.Equal("/cfg/v", VenvRelocation.GuessOldPath(v));
        // 3.13 venv: cygpath lines are expansions and are skipped
        File.WriteAllText(Path.Combine(v, "bin", "activate"), "VIRTUAL_ENV=$(cygpath '/x')\n        export VIRTUAL_ENV='/sh/v'\n");
        Assert.Equal("/sh/v", VenvRelocation.GuessOldPath(v));
    }

    // ---- arguments -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("relative/path"), InlineData("/"), InlineData("/a:b"), InlineData("/a'b"), InlineData("/a\"b"), InlineData("/a$b"), InlineData("/a\nb"), InlineData("/a\\b")]
    public void Unsafe_new_paths_are_refused(string path)
        => Assert.Throws<ArgumentException>(() => new VenvRelocation(["/old/v"], path));

    [Fact]
    public void Old_path_cannot_be_the_root()
        => Assert.Throws<ArgumentException>(() => new VenvRelocation(["/"], "/new"));
}
