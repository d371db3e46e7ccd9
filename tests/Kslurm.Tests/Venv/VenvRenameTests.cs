using static Kslurm.Tests.Venv.VenvLab;
using Kslurm.Venv;

namespace Kslurm.Tests.Venv;

/// <summary>kpy load X --as Y: the prompt becomes Y in pyvenv.cfg and in every activation script.</summary>
[Trait("Tier", "Unit")]
public class VenvRenameTests
{
    [Theory]
    [InlineData(Creator.Venv, "oldname")]        // venv bakes '(oldname) ' into activate, .csh, .fish; pyvenv.cfg prompt = 'oldname'
    [InlineData(Creator.Venv, null)]             // no --prompt: the folder name, and no prompt key in pyvenv.cfg
    [InlineData(Creator.Virtualenv, "oldname")]  // virtualenv: "xoldname" != x, if ('oldname' != ""), test -n 'oldname', nu, ps1
    [InlineData(Creator.Virtualenv, null)]       // virtualenv without prompt: empty literals, prompt from the folder at run time
    public void Prompt_becomes_the_new_name(Creator creator, string? prompt)
    {
        using var lab = new VenvLab();
        var a = Path.Combine(lab.Dir, "old-folder", "venv");
        var b = Path.Combine(lab.Dir, "new folder", "venv");
        lab.Create(creator, a, bare: true, prompt: prompt);
        Move(a, b, new VenvRelocation([a], b, oldName: prompt ?? "venv", newName: "new name"));

        var cfg = File.ReadAllLines(Path.Combine(b, "pyvenv.cfg"));
        var promptLines = cfg.Where(l => l.StartsWith("prompt", StringComparison.Ordinal)).ToList();
        Assert.Single(promptLines);
        // venv writes the prompt with repr() quotes and Activate.ps1 strips them; virtualenv writes it bare
        Assert.Equal(creator == Creator.Venv && prompt is not null ? "prompt = 'new name'" : "prompt = new name", promptLines[0]);

        foreach (var file in Directory.GetFiles(Path.Combine(b, "bin"), "*ctivate*"))
            Assert.DoesNotContain("oldname", File.ReadAllText(file));

        var bash = lab.Bash($"PS1='$ '; source {Q(b + "/bin/activate")}; echo \"PS1=$PS1\"; echo \"VE=$VIRTUAL_ENV\"");
        Assert.True(bash.Code == 0, bash.ToString());
        Assert.Contains("PS1=(new name) $ ", bash.Stdout.Split('\n'));
        Assert.Contains("VE=" + b, bash.Stdout.Split('\n'));
        if (creator == Creator.Venv)
            Assert.Contains("VIRTUAL_ENV_PROMPT=(new name) ", lab.Bash($"source {Q(b + "/bin/activate")}; echo \"VIRTUAL_ENV_PROMPT=$VIRTUAL_ENV_PROMPT\"").Stdout);

        if (Which("tcsh") is { } tcsh)
        {
            var r = lab.Box.Exec(tcsh, ["-f", "-c", $"set prompt='> '\nsource {Q(b + "/bin/activate.csh")}\necho \"P=$prompt\""]);
            Assert.True(r.Code == 0, r.ToString());
            Assert.Contains("P=(new name) > ", r.Stdout.Split('\n'));
        }
        if (Which("fish") is { } fish)
        {
            var r = lab.Box.Exec(fish, ["--no-config", "-c", $"function fish_prompt; echo -n '> '; end; source {Q(b + "/bin/activate.fish")}; fish_prompt | string replace -ra '\\e\\[[0-9;]*m|\\e\\(B' ''; true"]);
            Assert.True(r.Code == 0, r.ToString());
            Assert.StartsWith("(new name) ", r.Stdout);
        }
        if (creator == Creator.Virtualenv)
        {
            var nu = File.ReadAllText(Path.Combine(b, "bin", "activate.nu"));
            Assert.Contains("if ('new name' == '')", nu);
            Assert.Contains("'(new name) '", nu);
            Assert.Contains($"let virtual_env = '{b}'", nu);
            var ps = File.ReadAllText(Path.Combine(b, "bin", "activate.ps1"));
            Assert.Contains("if (\"new name\" -ne \"\")", ps);
            Assert.Contains("(\"(new name) \" + $previous_prompt_value)", ps);
        }
    }

    [Fact]
    public void Without_a_new_name_nothing_but_paths_changes()
    {
        using var lab = new VenvLab();
        var a = Path.Combine(lab.Dir, "a");
        var b = Path.Combine(lab.Dir, "b");
        lab.Create(Creator.Venv, a, bare: true, prompt: "keep");
        var before = File.ReadAllText(Path.Combine(a, "bin", "activate"));
        Move(a, b, new VenvRelocation([a], b));
        Assert.Equal(before.Replace(a, b), File.ReadAllText(Path.Combine(b, "bin", "activate")));
        Assert.Contains("prompt = 'keep'", File.ReadAllText(Path.Combine(b, "pyvenv.cfg")));
    }

    [Fact]
    public void Rename_is_idempotent_and_leaves_other_files_alone()
    {
        var r = new VenvRelocation(["/old/v"], "/new/v", "a", "b");
        var activate = "    PS1='(a) '\"${PS1:-}\"\n    VIRTUAL_ENV_PROMPT='(a) '\n"u8.ToArray();
        var once = r.RewriteFile("bin/activate", activate)!;
        Assert.Equal("    PS1='(b) '\"${PS1:-}\"\n    VIRTUAL_ENV_PROMPT='(b) '\n", System.Text.Encoding.UTF8.GetString(once));
        Assert.Null(r.RewriteFile("bin/activate", once));
        Assert.Null(r.RewriteFile("lib/python3.11/site-packages/x.py", "print('(a) ')\n"u8));
        Assert.Null(r.RewriteFile("bin/activate-helper", "(a) \n"u8));
    }

    [Theory]
    // CPython 3.13+ bakes the bare name, shell-quoted
    [InlineData("bin/activate", "VIRTUAL_ENV_PROMPT=old\nPS1=\"(\"old\") ${PS1:-}\"\n", "VIRTUAL_ENV_PROMPT='n m'\nPS1=\"(\"'n m'\") ${PS1:-}\"\n")]
    [InlineData("bin/activate.fish", "set -gx VIRTUAL_ENV_PROMPT old\n        builtin printf \"%s(%s)%s \" (builtin set_color 4B8BBE) old (builtin set_color normal)\n",
                                     "set -gx VIRTUAL_ENV_PROMPT 'n m'\n        builtin printf \"%s(%s)%s \" (builtin set_color 4B8BBE) 'n m' (builtin set_color normal)\n")]
    [InlineData("bin/activate.csh", "setenv VIRTUAL_ENV_PROMPT \"old\"\n    set prompt = \"(old) $prompt:q\"\n", "setenv VIRTUAL_ENV_PROMPT \"n m\"\n    set prompt = \"(n m) $prompt:q\"\n")]
    // virtualenv >= 20.26: shell-quoted prompt in the test and the assignment, the computed branch untouched
    [InlineData("bin/activate", "if [ \"x\"'' != x ] ; then\n    VIRTUAL_ENV_PROMPT=''\nelse\n    VIRTUAL_ENV_PROMPT=$(basename \"$VIRTUAL_ENV\")\nfi\n",
                                "if [ \"x\"'n m' != x ] ; then\n    VIRTUAL_ENV_PROMPT='n m'\nelse\n    VIRTUAL_ENV_PROMPT=$(basename \"$VIRTUAL_ENV\")\nfi\n")]
    [InlineData("bin/activate.ps1", "if ('' -ne \"\") {\n    $env:VIRTUAL_ENV_PROMPT = ''\n}\n", "if ('n m' -ne \"\") {\n    $env:VIRTUAL_ENV_PROMPT = 'n m'\n}\n")]
    [InlineData("bin/activate.nu", "    let virtual_env_prompt = if ('' | is-empty) {\n        ($virtual_env | path basename)\n    } else {\n        ''\n    }\n    let x = ''\n",
                                   "    let virtual_env_prompt = if ('n m' | is-empty) {\n        ($virtual_env | path basename)\n    } else {\n        'n m'\n    }\n    let x = ''\n")]
    public void Other_template_generations(string file, string before, string after)
    {
        var r = new VenvRelocation(["/old/v"], "/new/v", "old", "n m");
        var got = r.RewriteFile(file, System.Text.Encoding.UTF8.GetBytes(before));
        Assert.Equal(after, got is null ? before : System.Text.Encoding.UTF8.GetString(got));
    }

    [Theory]
    [InlineData("a'b"), InlineData("a\"b"), InlineData("a$b"), InlineData("a`b"), InlineData("a\\b"), InlineData("a\nb"), InlineData(""), InlineData("a/b")]
    public void Unsafe_names_are_refused(string name)
        => Assert.Throws<ArgumentException>(() => new VenvRelocation(["/old/v"], "/new/v", null, name));
}
