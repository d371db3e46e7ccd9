using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// Real Lmod and test modulefiles: a venv saved with two modules loaded works again wherever it
/// is used, because kpy loads them first. `kpylib` puts a shared library on LD_LIBRARY_PATH that
/// the venv's program `kpy-needs-lib` opens (as a compiled extension needs its module's library).
/// </summary>
[Trait("Tier", "Binary")]
public class KpyModuleTests
{
    public const string Lmod = "/usr/share/lmod/lmod/libexec/lmod";
    public const string Modules = "kpylib/1.0:kpytool/2";

    /// <summary>The modulefiles (in <paramref name="root"/>) and the library they point at.</summary>
    public static string ModuleTree(string root)
    {
        var lib = Directory.CreateDirectory(Path.Combine(root, "kpylib-1.0", "lib")).FullName;
        File.Copy("/lib/x86_64-linux-gnu/libz.so.1", Path.Combine(lib, "libkpydemo.so.1"));
        var tree = Path.Combine(root, "modulefiles");
        Directory.CreateDirectory(Path.Combine(tree, "kpylib"));
        File.WriteAllText(Path.Combine(tree, "kpylib", "1.0.lua"), $"prepend_path(\"LD_LIBRARY_PATH\", \"{lib}\")\n");
        Directory.CreateDirectory(Path.Combine(tree, "kpytool"));
        File.WriteAllText(Path.Combine(tree, "kpytool", "2.lua"), "setenv(\"KPYTOOL\", \"2\")\n");
        return tree;
    }

    /// <summary>The program in the venv: needs libkpydemo from kpylib's LD_LIBRARY_PATH.</summary>
    public const string Program = """
        import ctypes, os, sys
        lib = ctypes.CDLL("libkpydemo.so.1")
        lib.zlibVersion.restype = ctypes.c_char_p
        print("lib=" + lib.zlibVersion().decode())
        print("tool=" + str(os.environ.get("KPYTOOL")))
        print("modules=" + str(os.environ.get("LOADEDMODULES")))
        print("prefix=" + sys.prefix)
        """;

    static KpySandbox Saved(string name)
    {
        var k = new KpySandbox();
        k.S.Env["MODULEPATH"] = ModuleTree(k.S.Dir);
        k.S.Env["LMOD_CMD"] = Lmod;
        var prog = Path.Combine(k.S.Dir, "prog.py");
        File.WriteAllText(prog, Program);
        var r = k.Bash($"""
            eval "$("$LMOD_CMD" bash load kpylib/1.0 kpytool/2)" || exit 9
            kpy create {name} 2>/dev/null || exit 10
            ( echo "#!$VIRTUAL_ENV/bin/python"; cat {ShellQuote.Quote(prog)} ) > "$VIRTUAL_ENV/bin/kpy-needs-lib"
            chmod +x "$VIRTUAL_ENV/bin/kpy-needs-lib"
            kpy-needs-lib >/dev/null || exit 11
            kpy save {name} || exit 12
            """);
        Expect.Ok(r);
        Directory.Delete(Path.Combine(k.LiveRoot, name), recursive: true); // only the archive is left
        return k;
    }

    static void Works(Result r, string venv)
    {
        Expect.Ok(r);
        Assert.Matches(@"lib=1\.\d", r.Stdout);
        Assert.Contains("tool=2\n", r.Stdout);
        Assert.Contains($"modules={Modules}\n", r.Stdout);
        Assert.Contains($"prefix={venv}\n", r.Stdout);
    }

    [Fact]
    public void Info_shows_the_recorded_modules()
    {
        using var k = Saved("modv");
        Assert.Contains("modules:     kpylib/1.0 kpytool/2\n", k.Kpy("info", "modv").Stdout);
    }

    [Fact]
    public void A_fresh_shell_gets_the_modules_back_with_load_and_activate()
    {
        using var k = Saved("modv");
        var live = Path.Combine(k.LiveRoot, "modv");
        Works(k.Bash("kpy load modv 2>/dev/null || exit 20\nkpy-needs-lib"), live);
        Works(k.Bash("kpy activate modv || exit 20\nkpy-needs-lib"), live);
        // --no-modules: the venv alone, and its program misses the library
        var bare = k.Bash("kpy activate modv --no-modules || exit 20\necho \"ve=$VIRTUAL_ENV mods=${LOADEDMODULES-}\"\nkpy-needs-lib 2>&1");
        Assert.Contains($"ve={live} mods=\n", bare.Stdout);
        Assert.Contains("libkpydemo.so.1", bare.Stdout);
        Assert.NotEqual(0, bare.Code);
    }

    [Fact]
    public void Exec_applies_lmods_changes_and_skips_modules_already_loaded()
    {
        using var k = Saved("modv");
        var live = Path.Combine(k.LiveRoot, "modv");
        Works(k.Kpy("exec", "modv", "--", "kpy-needs-lib"), live);
        // kpytool already loaded: only kpylib is added, after it
        var pre = k.Bash("eval \"$(\"$LMOD_CMD\" bash load kpytool/2)\"\nkpy exec modv kpy-needs-lib");
        Expect.Ok(pre);
        Assert.Contains("modules=kpytool/2:kpylib/1.0\n", pre.Stdout);
        var none = k.Kpy("exec", "--no-modules", "modv", "--", "kpy-needs-lib");
        Assert.NotEqual(0, none.Code);
        Assert.Contains("libkpydemo.so.1", none.Stderr);
        Assert.Equal(none.Code, k.Kpy("exec", "modv", "--no-modules", "kpy-needs-lib").Code);
    }

    [Fact]
    public void A_module_that_is_gone_is_one_line_with_the_spider_hint_and_no_lmod_is_said_once()
    {
        using var k = Saved("modv");
        Directory.Delete(Path.Combine(k.S.Env["MODULEPATH"]!, "kpytool"), recursive: true);
        var r = k.Kpy("exec", "modv", "--", "true");
        Expect.Error(r, "kpy", 1, "module kpytool/2, loaded when modv was saved, does not exist here");
        Assert.Contains("kpy: hint: find what provides it with `module spider kpytool`", r.Stderr);
        var sh = k.Bash("kpy activate modv; echo \"rc=$? ve=${VIRTUAL_ENV-}\"");
        Assert.Contains("rc=1 ve=\n", sh.Stdout);
        Assert.Contains("kpy: error: module kpytool/2, loaded when modv was saved, does not exist here", sh.Stderr);
        Expect.Ok(k.Kpy("exec", "--no-modules", "modv", "--", "true"));

        // no Lmod on this machine: said once, the venv still runs
        var nolmod = k.S.Exec(Repo.Tool("kpy"), ["exec", "modv", "--", "python", "-c", "print('ran')"],
            extraEnv: new Dictionary<string, string?> { ["LMOD_CMD"] = "/nonexistent/lmod" });
        Expect.Ok(nolmod);
        Assert.Equal("ran\n", nolmod.Stdout);
        Assert.Equal("kpy: modv was saved with modules kpylib/1.0 kpytool/2, but this machine has no Lmod: they are not loaded\n", nolmod.Stderr);
    }
}

/// <summary>The same venv in a real Slurm job (krun --venv) and as a notebook kernel.</summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KpyModuleClusterTests
{
    [Fact]
    public void Krun_venv_loads_the_modules_in_the_job()
    {
        using var u = new ClusterUser();
        var tree = KpyModuleTests.ModuleTree(u.Home);
        var prog = Path.Combine(u.Home, "prog.py");
        File.WriteAllText(prog, KpyModuleTests.Program);
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", u.Home]);
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        u.Env["TMPDIR"] = Path.Combine(u.Home, "login-tmp");
        u.Env["MODULEPATH"] = tree;
        u.Env["LMOD_CMD"] = KpyModuleTests.Lmod;
        var r = u.Run("bash", ["-c", $"""
            mkdir -p "$TMPDIR"
            eval "$({Cluster.Tool("kpy")} init bash)"
            eval "$("$LMOD_CMD" bash load kpylib/1.0 kpytool/2)" || exit 9
            kpy create modv 2>/dev/null || exit 10
            ( echo "#!$VIRTUAL_ENV/bin/python"; cat {prog} ) > "$VIRTUAL_ENV/bin/kpy-needs-lib"
            chmod +x "$VIRTUAL_ENV/bin/kpy-needs-lib"
            kpy save modv || exit 12
            """]);
        Expect.Ok(r);
        // the job starts from the login shell's environment, without the modules
        var job = u.Tool("krun", "--venv", "modv", "0:05", "sh", "-c", "kpy-needs-lib; echo \"tmp=$SLURM_TMPDIR\"");
        Expect.Ok(job);
        var tmp = job.Stdout.Split('\n').Single(l => l.StartsWith("tmp=", StringComparison.Ordinal))[4..];
        Assert.Matches(@"lib=1\.\d", job.Stdout);
        Assert.Contains("tool=2\n", job.Stdout);
        Assert.Contains($"modules={KpyModuleTests.Modules}\n", job.Stdout);
        Assert.Contains($"prefix={tmp}/kpy/modv\n", job.Stdout);
        // --no-modules: the plan says so, and in the job the program misses its library
        var plan = u.Tool("krun", "-t", "--venv", "modv", "--no-modules", "0:05", "kpy-needs-lib");
        Expect.Ok(plan);
        Assert.Contains("exec --no-modules modv -- kpy-needs-lib", plan.Stdout + plan.Stderr);
        var bare = u.Tool("krun", "--venv", "modv", "--no-modules", "0:05", "sh", "-c", "kpy-needs-lib 2>&1; echo \"rc=$? mods=${LOADEDMODULES-}\"");
        Expect.Ok(bare);
        Assert.Contains("libkpydemo.so.1", bare.Stdout);
        Assert.Contains("mods=\n", bare.Stdout);
        Assert.DoesNotContain("rc=0", bare.Stdout);
    }

    [Fact]
    public void Venv_kernel_starts_with_the_modules_loaded()
    {
        using var k = new Kslurm.Tests.Kjupyter.KernelSandbox();
        k.S.Env["MODULEPATH"] = KpyModuleTests.ModuleTree(k.S.Dir);
        k.S.Env["LMOD_CMD"] = KpyModuleTests.Lmod;
        var dir = k.MakeVenv(Path.Combine(k.S.Dir, "made", "modk"));
        Expect.Ok(k.S.Exec("bash", ["-c", $"eval \"$(\"$LMOD_CMD\" bash load kpylib/1.0 kpytool/2)\" && VIRTUAL_ENV={dir} {Repo.Tool("kpy")} save modk"]));
        Directory.Delete(dir, recursive: true);
        k.Install("modk", "--venv", "modk");
        var p = k.Start("modk", KpyModuleTests.Program);
        Assert.True(p.Ok, p.ToString());
        Assert.Matches(@"lib=1\.\d", p.Output);
        Assert.Contains("tool=2\n", p.Output);
        Assert.Contains($"modules={KpyModuleTests.Modules}\n", p.Output);
        Assert.Contains($"prefix={Path.Combine(k.LiveRoot, "modk")}\n", p.Output);
    }
}
