using Kslurm.Processes;

namespace Kslurm.Tests.Processes;

/// <summary>Common's process runner, in-process: argv verbatim, exit codes, concurrent capture.</summary>
[Trait("Tier", "Unit")]
public class ChildProcessTests
{
    [Fact]
    public void Arguments_arrive_byte_for_byte()
    {
        string[] tricky = ["a b", "'q'", "\"dq\"", "$HOME", "*", "", "ünï", "back\\slash", "new\nline", ";", "-t"];
        // python3 echoes its argv NUL-separated: nothing can hide a re-quoting or splitting
        var r = ChildProcess.Capture(["python3", "-c", "import sys; sys.stdout.write('\\0'.join(sys.argv[1:]))", .. tricky]);
        Assert.True(r.Ok, r.Stderr);
        Assert.Equal(tricky, r.Stdout.Split('\0'));
    }

    [Theory]
    [InlineData(0), InlineData(1), InlineData(3), InlineData(255)]
    public void Exit_code_is_the_childs(int code)
        => Assert.Equal(code, ChildProcess.Run(["sh", "-c", $"exit {code}"]));

    [Fact]
    public void Killed_child_reports_128_plus_signal()
        => Assert.Equal(128 + 15, ChildProcess.Run(["sh", "-c", "kill -TERM $$"]));

    [Fact]
    public void Capture_reads_both_streams_concurrently_without_deadlock()
    {
        // 1 MB on each stream, interleaved: a sequential reader would block on a full pipe.
        var r = ChildProcess.Capture(["python3", "-c",
            "import sys\nfor i in range(1024):\n sys.stdout.write('o'*1023+'\\n'); sys.stderr.write('e'*1023+'\\n')"]);
        Assert.True(r.Ok);
        Assert.Equal(1024 * 1024, r.Stdout.Length);
        Assert.Equal(1024 * 1024, r.Stderr.Length);
    }

    [Fact]
    public void Capture_feeds_stdin()
    {
        var r = ChildProcess.Capture(["cat"], stdin: "line 1\nline 2\n");
        Assert.Equal("line 1\nline 2\n", r.Stdout);
    }

    [Fact]
    public void Environment_overrides_and_removals_apply()
    {
        Environment.SetEnvironmentVariable("KSLURM_TEST_REMOVE", "present");
        var r = ChildProcess.Capture(["sh", "-c", "echo \"$KSLURM_TEST_SET|${KSLURM_TEST_REMOVE-unset}\""],
            env: new Dictionary<string, string?> { ["KSLURM_TEST_SET"] = "v a l", ["KSLURM_TEST_REMOVE"] = null });
        Assert.Equal("v a l|unset\n", r.Stdout);
    }

    [Fact]
    public void Stream_delivers_lines_as_they_come()
    {
        var lines = new List<(string, bool)>();
        var code = ChildProcess.Stream(["sh", "-c", "echo out1; echo err1 >&2; echo out2; exit 4"], (l, e) => lines.Add((l, e)));
        Assert.Equal(4, code);
        Assert.Contains(("out1", false), lines);
        Assert.Contains(("out2", false), lines);
        Assert.Contains(("err1", true), lines);
    }

    [Fact]
    public void Missing_program_is_a_user_error_naming_it()
    {
        var e = Assert.Throws<KslurmException>(() => ChildProcess.Capture(["kslurm-no-such-program"]));
        Assert.Contains("kslurm-no-such-program not found on PATH", e.Message);
    }

    [Fact]
    public void Which_finds_programs_on_path()
    {
        Assert.NotNull(ChildProcess.Which("sh"));
        Assert.Null(ChildProcess.Which("kslurm-no-such-program"));
    }

    [Fact]
    public void Which_skips_files_that_are_not_executable_like_a_shell()
    {
        // the one PATH lookup (kpy exec used its own, which took the first file of that name)
        var root = Directory.CreateTempSubdirectory("kslurm-which-").FullName;
        try
        {
            var (a, b) = (Path.Combine(root, "a"), Path.Combine(root, "b"));
            Directory.CreateDirectory(a);
            Directory.CreateDirectory(b);
            File.WriteAllText(Path.Combine(a, "prog"), "#!/bin/sh\n");
            File.WriteAllText(Path.Combine(b, "prog"), "#!/bin/sh\n");
            File.SetUnixFileMode(Path.Combine(b, "prog"), (UnixFileMode)0b111_101_101);
            Assert.Equal(Path.Combine(b, "prog"), ChildProcess.Which("prog", a + ":" + b));
            Assert.Null(ChildProcess.Which("prog", a));
            Assert.Equal(Path.Combine(b, "prog"), ChildProcess.Which(Path.Combine(b, "prog"), a));
            Assert.Null(ChildProcess.Which(Path.Combine(a, "prog")));
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
