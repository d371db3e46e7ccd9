using Kslurm.Cli;
using Kslurm.Files;
using System.Diagnostics;

namespace Kslurm.Tests.Files;

/// <summary>
/// FileLock (src/Common/Files/FileLock.cs) against other processes: it is the same flock(2) lock
/// that util-linux `flock` and Python's fcntl.flock take, it waits (saying so once) up to its
/// timeout, and a holder that dies releases it: a left-over lock file is never a stale lock.
/// </summary>
[Trait("Tier", "Unit")]
public sealed class FileLockTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kslurm-lock-").FullName;
    readonly List<Process> _holders = [];

    public void Dispose()
    {
        foreach (var p in _holders)
            if (!p.HasExited) { p.Kill(); p.WaitForExit(); }
        Directory.Delete(_dir, recursive: true);
    }

    string LockPath => Path.Combine(_dir, "sub", "venv.lock");

    /// <summary>Another process (Debian's python3, quick to start) that takes the lock with fcntl.flock, holds it for
    /// <paramref name="seconds"/>, then exits. Returns once it holds the lock.</summary>
    Process Holder(double seconds)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(LockPath)!);
        var p = Process.Start(new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'a')\nfcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(float(sys.argv[2]))",
                             LockPath, seconds.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        _holders.Add(p);
        Assert.Equal("held", p.StandardOutput.ReadLine());
        return p;
    }

    static int FlockCli(string path) // util-linux flock: 1 when the lock is taken
    {
        using var p = Process.Start(new ProcessStartInfo("flock", ["-n", "-E", "1", path, "true"]) { UseShellExecute = false })!;
        p.WaitForExit();
        return p.ExitCode;
    }

    [Fact]
    public void Held_here_it_is_taken_for_other_processes_and_free_after_dispose()
    {
        using (FileLock.Acquire(LockPath, TimeSpan.FromSeconds(1)))
            Assert.Equal(1, FlockCli(LockPath));
        Assert.Equal(0, FlockCli(LockPath));
        Assert.True(File.Exists(LockPath)); // the file stays; only the lock goes
    }

    [Fact]
    public void Held_by_another_process_it_times_out_with_one_note_and_a_clear_error()
    {
        Holder(seconds: 30);
        var notes = new List<string>();
        var clock = Stopwatch.StartNew();
        var e = Assert.Throws<KslurmException>(() => FileLock.Acquire(LockPath, TimeSpan.FromSeconds(1), notes.Add));
        Assert.InRange(clock.Elapsed.TotalSeconds, 0.9, 10);
        Assert.Equal($"timed out after 1 s waiting for {LockPath}", e.Message);
        Assert.Equal("another kslurm process holds it; wait for it to finish and try again", e.Hint);
        var note = Assert.Single(notes);
        Assert.StartsWith("waiting for another kslurm process to release ", note);
    }

    [Fact]
    public void A_waiter_gets_the_lock_when_the_other_process_lets_go()
    {
        Holder(seconds: 0.7);
        var notes = new List<string>();
        var clock = Stopwatch.StartNew();
        using (FileLock.Acquire(LockPath, TimeSpan.FromSeconds(30), notes.Add))
        {
            Assert.InRange(clock.Elapsed.TotalSeconds, 0.3, 20);
            Assert.Single(notes);
            Assert.Equal(1, FlockCli(LockPath));
        }
    }

    [Fact]
    public void A_holder_killed_with_sigkill_leaves_a_lock_file_but_no_lock()
    {
        var holder = Holder(seconds: 300);
        holder.Kill(); // SIGKILL: no cleanup ran
        holder.WaitForExit();
        Assert.True(File.Exists(LockPath));
        var notes = new List<string>();
        using (FileLock.Acquire(LockPath, TimeSpan.FromSeconds(2), notes.Add))
            Assert.Empty(notes); // no waiting at all
    }

    [Fact]
    public void Two_acquisitions_in_one_process_exclude_each_other()
    {
        // flock belongs to the open file, not the process: two threads of one kpy still take turns
        using (FileLock.Acquire(LockPath, TimeSpan.FromSeconds(1)))
            Assert.Throws<KslurmException>(() => FileLock.Acquire(LockPath, TimeSpan.FromMilliseconds(200)));
        using (FileLock.Acquire(LockPath, TimeSpan.FromSeconds(1))) { }
    }

    [Fact]
    public void Lock_holders_update_a_shared_counter_without_losing_an_increment()
    {
        var counter = Path.Combine(_dir, "counter");
        File.WriteAllText(counter, "0");
        Parallel.For(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 4 }, _ =>
        {
            using var l = FileLock.Acquire(LockPath, TimeSpan.FromSeconds(30));
            var n = int.Parse(File.ReadAllText(counter));
            Thread.Sleep(1);
            AtomicFile.WriteAllText(counter, (n + 1).ToString());
        });
        Assert.Equal("40", File.ReadAllText(counter));
    }

    [Fact]
    public void A_lock_file_that_cannot_be_opened_is_a_one_line_error()
    {
        // /proc refuses new files, for root too
        var e = Assert.Throws<KslurmException>(() => FileLock.Acquire("/proc/kslurm-test.lock", TimeSpan.FromSeconds(1)));
        Assert.StartsWith("cannot open lock file /proc/kslurm-test.lock: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
