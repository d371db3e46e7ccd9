using Kslurm.Shell;

namespace Kslurm.Tests.Krun;

/// <summary>
/// The command reaches the job word for word, whatever its words look like: shell syntax typed
/// out of habit from the Python kslurm (`kbatch cd dir \&\& make`, `kbatch echo '$SLURM_TMPDIR'`)
/// runs as typed, with one warning line that gives the `bash -c` form; a command after `--` is
/// the command even when it starts with a dash.
/// </summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class CommandWordsTests
{
    static string WarningOf(Result r, string tool)
    {
        Expect.Ok(r);
        var warnings = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => l.StartsWith($"{tool}: warning: ")).ToList();
        Assert.True(warnings.Count == 1, $"expected one warning line\n{r}");
        return warnings[0];
    }

    [Theory]
    [InlineData("&&")]
    [InlineData("||")]
    [InlineData("|")]
    [InlineData(";")]
    [InlineData(">")]
    [InlineData(">>")]
    [InlineData("<")]
    public void A_shell_operator_word_is_run_as_typed_with_a_warning(string op)
    {
        using var s = new Sandbox();
        var r = s.Tool("kbatch", "-t", "0:05", "cd", "dir", op, "make");
        var w = WarningOf(r, "kbatch");
        Assert.Equal($"kbatch: warning: '{op}' is passed to cd as an argument: commands are not run through a shell; " +
                     $"for shell syntax use: kbatch ... bash -c 'cd dir {op} make'", w);
        Assert.EndsWith($"cd dir '{op}' make\n", r.Stdout); // the job still gets the argv as typed
    }

    [Theory]
    [InlineData("$SLURM_TMPDIR", "echo $SLURM_TMPDIR")]
    [InlineData("${HOME}/x", "echo ${HOME}/x")]
    [InlineData("$(hostname)", "echo $(hostname)")]
    [InlineData("$_x y", "echo \"$_x y\"")]
    public void A_word_a_shell_would_expand_is_passed_as_typed_with_a_warning(string word, string script)
    {
        using var s = new Sandbox();
        var r = s.Tool("krun", "-t", "0:05", "echo", word);
        var w = WarningOf(r, "krun");
        Assert.Equal($"krun: warning: echo gets '{word}' unexpanded: commands are not run through a shell; " +
                     $"for shell syntax use: krun ... bash -c {ShellQuote.Quote(script)}", w);
        Assert.EndsWith($" -- echo {ShellQuote.Quote(word)}\n", r.Stdout);
    }

    [Theory]
    [InlineData("awk", "{print $1}")]          // positional parameters are the program's own syntax
    [InlineData("echo", "cost: 5$")]
    [InlineData("echo", "a&&b")]               // not an operator word on its own
    [InlineData("bash", "-c", "cd x && echo $HOME")] // already a shell
    [InlineData("/bin/sh", "-c", "a | b")]
    public void Ordinary_words_and_shells_get_no_warning(params string[] command)
    {
        using var s = new Sandbox();
        var r = s.Tool("kbatch", ["-t", "0:05", .. command]);
        Expect.Ok(r);
        Assert.DoesNotContain("warning", r.Stderr);
    }

    [Fact]
    public void The_suggested_bash_form_does_what_the_old_tool_did()
    {
        using var s = new Sandbox();
        Directory.CreateDirectory(Path.Combine(s.Dir, "dir"));
        var w = WarningOf(s.Tool("kbatch", "-t", "0:05", "cd", "dir", "&&", "echo", "$HOME", ">", "out.txt"), "kbatch");
        var suggested = w[(w.IndexOf("kbatch ... ", StringComparison.Ordinal) + "kbatch ... ".Length)..];
        Assert.StartsWith("bash -c ", suggested);
        Expect.Ok(s.Exec("bash", ["-c", suggested])); // run by a shell here, as it would be in the job
        Assert.Equal(s.Home + "\n", File.ReadAllText(Path.Combine(s.Dir, "dir", "out.txt")));
    }

    [Fact]
    public void A_script_file_gets_its_arguments_without_a_warning()
    {
        using var s = new Sandbox();
        var script = Path.Combine(s.Dir, "job.sh");
        File.WriteAllText(script, "#!/bin/bash\necho \"$1\"\n");
        var r = s.Tool("kbatch", "-t", "0:05", "job.sh", "$HOME");
        Expect.Ok(r);
        Assert.DoesNotContain("warning", r.Stderr);
    }

    [Fact]
    public void After_double_dash_a_dash_word_is_the_command_not_an_srun_option()
    {
        using var s = new Sandbox();
        var r = s.Tool("krun", "-t", "0:05", "--", "--qos=x", "a b");
        Expect.Ok(r);
        Assert.Equal("srun --quit-on-interrupt --time=00:05:00 --cpus-per-task=1 --mem=4000 -- --qos=x 'a b'\n", r.Stdout);
        var batch = s.Tool("kbatch", "-t", "0:05", "--", "--qos=x");
        Expect.Ok(batch);
        Assert.StartsWith("sbatch --parsable --time=00:05:00 --cpus-per-task=1 --mem=4000 '<script>'\n", batch.Stdout);
        Assert.EndsWith("\n--qos=x\n", batch.Stdout); // in the script, as the command
    }

    /// <summary>A program whose name starts with a dash, on the user's PATH: it prints its argv.</summary>
    internal static string DashProgram(ClusterUser u)
    {
        var bin = Path.Combine(u.Work, "bin");
        Directory.CreateDirectory(bin);
        var program = Path.Combine(bin, "--qos=x");
        File.WriteAllText(program, "#!/usr/bin/python3\nimport sys\nsys.stdout.write('\\0'.join(sys.argv[1:]))\n");
        File.SetUnixFileMode(program, (UnixFileMode)0b111_101_101);
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", bin]);
        u.Env["PATH"] = $"{bin}:/usr/local/bin:/usr/bin:/bin";
        return program;
    }

    [Fact]
    public void Krun_runs_a_dash_command_after_double_dash_on_the_node()
    {
        using var u = new ClusterUser();
        DashProgram(u);
        string[] args = ["--partition=gpu", "-t", "a b", "$HOME"];
        var r = u.Tool("krun", ["0:05", "--", "--qos=x", .. args]);
        Expect.Ok(r);
        Assert.Equal(args, r.Stdout.Split('\0'));
    }

    [Fact]
    public void Kbatch_job_gets_shell_words_verbatim_and_the_user_was_warned()
    {
        using var u = new ClusterUser();
        var r = u.Tool("kbatch", "0:05", "100M", "python3", "-c", "import sys; print(sys.argv[1:])", "$SLURM_TMPDIR", "&&", "echo", "done");
        Expect.Ok(r);
        var id = r.Stdout.Trim();
        Assert.Matches(@"^\d+$", id);
        Assert.Contains("kbatch: warning: python3 gets '$SLURM_TMPDIR' unexpanded", r.Stderr);
        Assert.Contains("bash -c 'python3 -c '\\''import sys; print(sys.argv[1:])'\\'' $SLURM_TMPDIR && echo done'", r.Stderr);
        Cluster.WaitJob(id);
        Assert.Equal("['$SLURM_TMPDIR', '&&', 'echo', 'done']\n", File.ReadAllText(Path.Combine(u.Work, $"slurm-{id}.out")));
    }
}
