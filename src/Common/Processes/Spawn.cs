using System.Runtime.InteropServices;
using Kslurm.Files;

namespace Kslurm.Processes;

/// <summary>
/// Starting a program with posix_spawn: argv and envp exactly as given, chosen file descriptors
/// for stdin/stdout/stderr, signals back to their defaults. We do this ourselves instead of
/// System.Diagnostics.Process, which pulls sockets, URIs and async pipe machinery into every
/// binary (~400 KB) for features we do not use.
/// </summary>
internal static unsafe partial class Spawn
{
    const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    const int O_CLOEXEC = 0x80000;

    // Signals a .NET process handles or ignores (SIGPIPE is ignored by the runtime); a child must
    // start with the defaults, as it would from a shell.
    static readonly int[] DefaultSignals = [1, 2, 3, 13, 14, 15, 17, 18, 20, 21, 22, 10, 12, 25];

    /// <summary>Starts the program; -1 for a descriptor means "ours" (inherited).</summary>
    public static int Start(string path, IReadOnlyList<string> argv, string?[] envp, int stdin = -1, int stdout = -1, int stderr = -1)
    {
        // Opaque glibc structs (80 and 336 bytes on x86_64); sigset_t is 128 bytes.
        var fa = NativeMemory.AllocZeroed(512);
        var attr = NativeMemory.AllocZeroed(512);
        var set = NativeMemory.AllocZeroed(256);
        try
        {
            Libc.SpawnFaInit(fa);
            Libc.SpawnAttrInit(attr);
            if (stdin >= 0) Libc.SpawnFaDup2(fa, stdin, 0);
            if (stdout >= 0) Libc.SpawnFaDup2(fa, stdout, 1);
            if (stderr >= 0) Libc.SpawnFaDup2(fa, stderr, 2);
            Libc.SigEmpty(set);
            Libc.SpawnAttrMask(attr, set);
            foreach (var s in DefaultSignals)
                Libc.SigAdd(set, s);
            Libc.SpawnAttrDefault(attr, set);
            Libc.SpawnAttrFlags(attr, (short)(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
            var rc = Libc.PosixSpawn(out var pid, path, fa, attr, [.. argv, null], envp);
            if (rc != 0)
                throw new KslurmException($"cannot run {argv[0]}: {Libc.ErrorText(rc)}");
            Interrupt.Started(pid);
            return pid;
        }
        finally
        {
            Libc.SpawnFaDestroy(fa);
            Libc.SpawnAttrDestroy(attr);
            NativeMemory.Free(fa);
            NativeMemory.Free(attr);
            NativeMemory.Free(set);
        }
    }

    /// <summary>A pipe whose ends are closed on exec (the child gets its end through dup2).</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (Libc.Pipe2(fds, O_CLOEXEC) != 0)
            throw new KslurmException($"cannot create a pipe: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
        return (fds[0], fds[1]);
    }

    /// <summary>Waits for the child; its exit code, or 128+N when signal N ended it (as a shell reports).</summary>
    public static int Wait(int pid)
    {
        int status;
        while (Libc.WaitPid(pid, &status, 0) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR)
                throw new KslurmException($"cannot wait for process {pid}: {Libc.ErrorText(errno)}");
        }
        Interrupt.Ended(pid);
        var signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    /// <summary>The exit code if the child has ended (reaping it), else null.</summary>
    public static int? TryWait(int pid)
    {
        int status;
        int r;
        while ((r = Libc.WaitPid(pid, &status, 1 /* WNOHANG */)) < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EINTR)
                throw new KslurmException($"cannot wait for process {pid}: {Libc.ErrorText(errno)}");
        }
        if (r == 0)
            return null;
        Interrupt.Ended(pid);
        var signal = status & 0x7f;
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal;
    }

    /// <summary>Before exec: what a new program should not inherit from the .NET runtime.</summary>
    public static void ResetSignalsForExec()
    {
        foreach (var s in DefaultSignals)
            Libc.Signal(s, IntPtr.Zero); // SIG_DFL
        var empty = stackalloc byte[256];
        Libc.SigEmpty(empty);
        Libc.SigProcMask(2 /* SIG_SETMASK */, empty, null);
    }
}
