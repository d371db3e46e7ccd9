using System.Text.Json;
using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>kpy on a "login node" (no job): real venvs, real pip, real archives.</summary>
[Trait("Tier", "Binary")]
public class KpyLoginTests
{
    [Fact]
    public void Create_records_python_base_interpreter_and_modules()
    {
        using var k = new KpySandbox();
        var r = k.S.Exec(Repo.Tool("kpy"), ["create", "demo"], extraEnv: new Dictionary<string, string?>
        {
            ["KSLURM_KPY_SHELL"] = "1",
            ["LOADEDMODULES"] = "StdEnv/2023:python/3.11",
        });
        Expect.Ok(r);
        var dir = Path.Combine(k.LiveRoot, "demo");
        Assert.Equal(dir + "\n", r.Stdout); // what the shell function activates
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, ".kpy.json")));
        var m = meta.RootElement;
        Assert.Equal("demo", m.GetProperty("name").GetString());
        Assert.StartsWith("3.", m.GetProperty("python_version").GetString());
        Assert.StartsWith("/usr/bin/python3", m.GetProperty("base_interpreter").GetString());
        Assert.Equal(["StdEnv/2023", "python/3.11"], m.GetProperty("modules").EnumerateArray().Select(e => e.GetString()));
        Assert.True(File.Exists(Path.Combine(dir, "bin", "pip")), "pip is seeded without network");
    }

    [Fact]
    public void Shell_function_activates_in_the_current_shell_and_deactivate_works()
    {
        using var k = new KpySandbox();
        var r = k.Bash("""
            before="$PATH"
            kpy create inplace 2>/dev/null
            echo "venv=$VIRTUAL_ENV"
            echo "python=$(command -v python)"
            deactivate
            [ "$PATH" = "$before" ] && echo "path restored"
            """);
        Expect.Ok(r);
        var dir = Path.Combine(k.LiveRoot, "inplace");
        Assert.Contains($"venv={dir}\n", r.Stdout);
        Assert.Contains($"python={dir}/bin/python\n", r.Stdout);
        Assert.Contains("path restored", r.Stdout);
    }

    [Fact]
    public void Without_the_function_a_terminal_gets_a_subshell_that_deactivate_leaves()
    {
        using var k = new KpySandbox();
        Expect.Ok(k.Kpy("create", "sub"));
        var cmd = ShellQuote.Join(["env", $"HOME={k.S.Home}", $"PATH={k.S.Env["PATH"]}", $"TMPDIR={k.S.Env["TMPDIR"]}",
            $"KSLURM_SITE_CONFIG={k.S.SiteConfig}", Repo.Tool("kpy"), "activate", "sub"]);
        var r = k.S.Exec("script", ["-qec", cmd, "/dev/null"], stdin: "echo INSIDE=$VIRTUAL_ENV\ndeactivate\n");
        Expect.Ok(r);
        Assert.Contains($"INSIDE={Path.Combine(k.LiveRoot, "sub")}", r.Stdout);
    }

    [Fact]
    public void Without_a_terminal_kpy_says_how_to_activate()
    {
        using var k = new KpySandbox();
        var r = k.Kpy("create", "plain");
        Expect.Ok(r);
        Assert.Contains($"activate plain with: source {Path.Combine(k.LiveRoot, "plain", "bin", "activate")}", r.Stderr);
        Assert.Equal("", r.Stdout);
    }

    [Fact]
    public void Save_writes_a_zstd_tar_with_the_record_first_that_stock_tar_reads()
    {
        using var k = new KpySandbox();
        k.CreateDemo("demo");
        var archive = Path.Combine(k.Archives, "demo.tar.zst");
        Assert.True(File.Exists(archive));
        var list = k.S.Exec("tar", ["--zstd", "-tf", archive]);
        Expect.Ok(list);
        Assert.Matches(@"^(\./)?\.kpy\.json$", list.Stdout.Split('\n')[0]); // the record comes first
        var x = Path.Combine(k.S.Dir, "x");
        Directory.CreateDirectory(x);
        Expect.Ok(k.S.Exec("tar", ["--zstd", "-xf", archive, "-C", x]));
        Assert.True(File.Exists(Path.Combine(x, "pyvenv.cfg")));
        Assert.True(File.Exists(Path.Combine(x, "bin", DemoWheel.Script)));
        using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(x, ".kpy.json")));
        Assert.Equal(Path.Combine(k.LiveRoot, "demo"), meta.RootElement.GetProperty("original_paths")[0].GetString());
        // every frame carries a checksum
        var check = k.S.Exec("zstd", ["-lv", archive]);
        Assert.Contains("XXH64", check.Stdout + check.Stderr);
    }

    [Fact]
    public void Saving_over_an_existing_name_needs_force()
    {
        using var k = new KpySandbox();
        k.CreateDemo("dup");
        var again = k.Bash("kpy activate dup 2>/dev/null; kpy save dup");
        Assert.Equal(1, again.Code);
        Assert.Contains("kpy: error: dup is already saved", again.Stderr);
        Assert.Contains("kpy save -f dup", again.Stderr);
        Expect.Ok(k.Bash("kpy activate dup 2>/dev/null; kpy save -f dup"));
    }

    [Fact]
    public void Save_needs_an_active_venv_and_a_pipdir()
    {
        using var k = new KpySandbox();
        Expect.Error(k.Kpy("save", "x"), "kpy", 1, "no active venv to save");
        Expect.Ok(k.S.Tool("kslurm", "config", "--unset", "pipdir"));
        Expect.Error(k.Kpy("list"), "kpy", 1, "pipdir is not set");
    }

    [Fact]
    public void Load_as_another_name_relocates_and_renames_the_prompt()
    {
        using var k = new KpySandbox();
        var original = k.CreateDemo("orig");
        var r = k.Bash("""
            kpy load orig --as copy 2>/dev/null || exit 3
            echo "venv=$VIRTUAL_ENV"
            kslurm-demo a 'b c'
            python -c 'import sys; print("sys.prefix=" + sys.prefix)'
            echo "prompt=$VIRTUAL_ENV_PROMPT"
            """);
        Expect.Ok(r);
        var copy = Path.Combine(k.LiveRoot, "copy");
        Assert.Contains($"venv={copy}\n", r.Stdout);
        Assert.Contains($"prefix={copy}\n", r.Stdout);
        Assert.Contains("args=['a', 'b c']", r.Stdout);
        Assert.Contains($"sys.prefix={copy}\n", r.Stdout);
        Assert.Contains("copy", r.Stdout.Split('\n').First(l => l.StartsWith("prompt=")));
        Assert.DoesNotContain(original, File.ReadAllText(Path.Combine(copy, "bin", "activate")));
        // and without activation: the entry point's shebang points at the copy
        var direct = k.S.Exec(Path.Combine(copy, "bin", DemoWheel.Script), []);
        Assert.Contains($"prefix={copy}\n", direct.Stdout);
    }

    [Fact]
    public void Loading_a_name_already_here_is_refused()
    {
        using var k = new KpySandbox();
        k.CreateDemo("twice");
        var r = k.Kpy("load", "twice");
        Expect.Error(r, "kpy", 1, "a venv called twice is already on this node");
        Assert.Contains("--as", r.Stderr);
    }

    [Fact]
    public void Names_keep_their_dots_and_bad_names_are_refused()
    {
        using var k = new KpySandbox();
        k.CreateDemo("py3.10");
        Assert.True(File.Exists(Path.Combine(k.Archives, "py3.10.tar.zst")));
        Expect.Error(k.Kpy("create", "bad/name"), "kpy", 2, "invalid venv name 'bad/name'");
        Expect.Error(k.Kpy("load", "../x"), "kpy", 2, "invalid venv name '../x'");
    }

    [Fact]
    public void List_info_rm_and_export()
    {
        using var k = new KpySandbox();
        k.CreateDemo("one");
        var list = k.Kpy("list");
        Expect.Ok(list);
        Assert.Matches(@"NAME\s+SIZE\s+SAVED\s+PYTHON\s+MODULES\s+HERE", list.Stdout);
        Assert.Matches(@"one\s+\d+(\.\d)? MB\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+3\.\d+\.\d+\s+yes", list.Stdout);

        var info = k.Kpy("info", "one");
        Expect.Ok(info);
        Assert.Contains($"saved from:  {Path.Combine(k.LiveRoot, "one")}", info.Stdout);
        Assert.Contains("interpreter: /usr/bin/python3", info.Stdout);

        var target = Path.Combine(k.S.Dir, "exported venv");
        Expect.Ok(k.Kpy("export", "one", "--path", target));
        var run = k.S.Exec(Path.Combine(target, "bin", DemoWheel.Script), []);
        Assert.Contains($"prefix={target}\n", run.Stdout);
        Expect.Error(k.Kpy("export", "one", "--path", target), "kpy", 1, "already exists");

        Expect.Ok(k.Kpy("rm", "one"));
        Assert.False(File.Exists(Path.Combine(k.Archives, "one.tar.zst")));
        Expect.Error(k.Kpy("rm", "one"), "kpy", 1, "no saved venv called one");
        Expect.Error(k.Kpy("info", "one"), "kpy", 1, "no saved venv called one");
    }

    [Fact]
    public void Prompt_marks_a_venv_changed_since_it_was_saved()
    {
        using var k = new KpySandbox();
        var r = k.Bash($"""
            kpy create mark 2>/dev/null
            kpy save mark 2>/dev/null
            echo "saved=$(kpy _prompt)"
            pip install -q --no-index --find-links {ShellQuote.Quote(k.Wheelhouse)} kslurmdemo
            echo "changed=$(kpy _prompt)"
            echo "ps1=$PS1"
            kpy save -f mark 2>/dev/null
            echo "resaved=$(kpy _prompt)"
            """, new Dictionary<string, string?> { ["PS1"] = "$ " });
        Expect.Ok(r);
        Assert.Contains("saved=mark\n", r.Stdout);
        Assert.Contains("changed=*mark\n", r.Stdout);
        Assert.Contains("ps1=(*mark) ", r.Stdout);
        Assert.Contains("resaved=mark\n", r.Stdout);
    }

    [Fact]
    public void Old_kslurm_tar_gz_archives_list_and_load()
    {
        using var k = new KpySandbox();
        var old = k.CreateDemo("legacy", save: false);
        Directory.CreateDirectory(k.Archives);
        Expect.Ok(k.S.Exec("tar", ["-czf", Path.Combine(k.Archives, "legacy.tar.gz"), "-C", old, "."]));
        Directory.Delete(old, recursive: true);
        var list = k.Kpy("list");
        Assert.Contains("(kslurm .tar.gz)", list.Stdout);
        var r = k.Bash("kpy load legacy --as moved 2>/dev/null && kslurm-demo");
        Expect.Ok(r);
        Assert.Contains($"prefix={Path.Combine(k.LiveRoot, "moved")}\n", r.Stdout);
    }
}
