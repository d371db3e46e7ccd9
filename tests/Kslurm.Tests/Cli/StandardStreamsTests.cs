namespace Kslurm.Tests.Cli;

/// <summary>What the tools' stdout and stderr do when the other end misbehaves
/// (src/Common/Cli/StandardStreams.cs): a reader that left, a full disk, a non-blocking pipe.</summary>
[Trait("Tier", "Binary")]
public class StandardStreamsTests
{
    // Python sets up the descriptors a shell or a parent program could hand a tool, runs it, and
    // prints its exit code, its stderr and what reached the pipe.
    static Result Probe(Sandbox s, string setup, string tool, params string[] args)
    {
        var script = $$"""
            import fcntl, os, subprocess, sys, time
            argv = sys.argv[1:]
            {{setup}}
            """;
        return s.Exec("python3", ["-c", script, Repo.Tool(tool), .. args]);
    }

    [Fact]
    public void A_reader_that_went_away_ends_the_output_quietly()
    {
        using var s = new Sandbox();
        var r = Probe(s, """
            r, w = os.pipe()
            os.close(r)
            p = subprocess.run(argv, stdout=w, stderr=subprocess.PIPE)
            print(p.returncode, repr(p.stderr.decode()))
            """, "kpy", "--help");
        Expect.Ok(r);
        Assert.Equal("0 ''\n", r.Stdout);
    }

    [Fact]
    public void A_full_disk_behind_stdout_is_a_one_line_error()
    {
        using var s = new Sandbox();
        var r = Probe(s, """
            with open("/dev/full", "w") as full:
                p = subprocess.run(argv, stdout=full, stderr=subprocess.PIPE)
            sys.stderr.write(p.stderr.decode())
            sys.exit(p.returncode)
            """, "kslurm", "--help");
        Expect.Error(r, "kslurm", 1, "cannot write to standard output: No space left on device");
    }

    [Fact]
    public void A_full_non_blocking_pipe_is_waited_for_and_nothing_is_lost()
    {
        using var s = new Sandbox();
        var expected = s.Tool("kpy", "--help");
        Expect.Ok(expected);
        Assert.True(expected.Stdout.Length > 2000, "the help should not fit in what is left of the pipe");
        // A one-page pipe, 3000 bytes already in it, the write end non-blocking: the tool's first
        // write stops short with EAGAIN, and the rest must follow once the reader drains the pipe.
        var r = Probe(s, """
            r, w = os.pipe()
            fcntl.fcntl(w, 1031, 4096)  # F_SETPIPE_SZ
            fcntl.fcntl(w, fcntl.F_SETFL, fcntl.fcntl(w, fcntl.F_GETFL) | os.O_NONBLOCK)
            os.write(w, b"x" * 3000)
            p = subprocess.Popen(argv, stdout=w)
            os.close(w)
            time.sleep(0.5)
            data = b""
            while chunk := os.read(r, 65536):
                data += chunk
            sys.stdout.write(f"{p.wait()}\n")
            sys.stdout.flush()
            sys.stdout.buffer.write(data[3000:])
            """, "kpy", "--help");
        Expect.Ok(r);
        Assert.Equal("0\n" + expected.Stdout, r.Stdout);
    }
}
