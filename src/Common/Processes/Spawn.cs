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
    const string Lib = "libc";
    const short POSIX_SPAWN_SETSIGDEF = 0x04, POSIX_SPAWN_SETSIGMASK = 0x08;
    const int O_CLOEXEC = 0x80000;

    // Signals a .NET process handles or ignores (SIGPIPE is ignored by the runtime); a child must
    // start with the defaults, as it would from a shell.
    static readonly int[] DefaultSignals = [1, 2, 3, 13, 14, 15, 17, 18, 20, 21, 22, 10, 12, 25];

    [LibraryImport(Lib, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int PosixSpawn(out int pid, string path, void* fileActions, void* attr, string?[] argv, string?[] envp);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_init")] private static partial int FaInit(void* fa);
    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_destroy")] private static partial int FaDestroy(void* fa);
    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_adddup2")] private static partial int FaDup2(void* fa, int fd, int newFd);
    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_init")] private static partial int AttrInit(void* a);
    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_destroy")] private static partial int AttrDestroy(void* a);
    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setflags")] private static partial int AttrFlags(void* a, short flags);
    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigmask")] private static partial int AttrMask(void* a, void* set);
    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigdefault")] private static partial int AttrDefault(void* a, void* set);
    [LibraryImport(Lib, EntryPoint = "sigemptyset")] private static partial int SigEmpty(void* set);
    [LibraryImport(Lib, EntryPoint = "sigaddset")] private static partial int SigAdd(void* set, int sig);
    [LibraryImport(Lib, EntryPoint = "pipe2", SetLastError = true)] private static partial int Pipe2(int* fds, int flags);
    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)] private static partial int WaitPid(int pid, int* status, int options);
    [LibraryImport(Lib, EntryPoint = "close")] internal static partial int Close(int fd);
    [LibraryImport(Lib, EntryPoint = "signal")] private static partial IntPtr Signal(int sig, IntPtr handler);
    [LibraryImport(Lib, EntryPoint = "sigprocmask")] private static partial int SigProcMask(int how, void* set, void* old);

    /// <summary>Starts the program; -1 for a descriptor means "ours" (inherited).</summary>
    public static int Start(string path, IReadOnlyList<string> argv, string?[] envp, int stdin = -1, int stdout = -1, int stderr = -1)
    {
        // Opaque glibc structs (80 and 336 bytes on x86_64); sigset_t is 128 bytes.
        var fa = NativeMemory.AllocZeroed(512);
        var attr = NativeMemory.AllocZeroed(512);
        var set = NativeMemory.AllocZeroed(256);
        try
        {
            FaInit(fa);
            AttrInit(attr);
            if (stdin >= 0) FaDup2(fa, stdin, 0);
            if (stdout >= 0) FaDup2(fa, stdout, 1);
            if (stderr >= 0) FaDup2(fa, stderr, 2);
            SigEmpty(set);
            AttrMask(attr, set);
            foreach (var s in DefaultSignals)
                SigAdd(set, s);
            AttrDefault(attr, set);
            AttrFlags(attr, (short)(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK));
            var rc = PosixSpawn(out var pid, path, fa, attr, [.. argv, null], envp);
            if (rc != 0)
                throw new KslurmException($"cannot run {argv[0]}: {Libc.ErrorText(rc)}");
            Interrupt.Started(pid);
            return pid;
        }
        finally
        {
            FaDestroy(fa);
            AttrDestroy(attr);
            NativeMemory.Free(fa);
            NativeMemory.Free(attr);
            NativeMemory.Free(set);
        }
    }

    /// <summary>A pipe whose ends are closed on exec (the child gets its end through dup2).</summary>
    public static (int Read, int Write) Pipe()
    {
        int* fds = stackalloc int[2];
        if (Pipe2(fds, O_CLOEXEC) != 0)
            throw new KslurmException($"cannot create a pipe: {Libc.ErrorText(Marshal.GetLastPInvokeError())}");
        return (fds[0], fds[1]);
    }

    /// <summary>Waits for the child; its exit code, or 128+N when signal N ended it (as a shell reports).</summary>
    public static int Wait(int pid)
    {
        int status;
        while (WaitPid(pid, &status, 0) < 0)
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
        while ((r = WaitPid(pid, &status, 1 /* WNOHANG */)) < 0)
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
            Signal(s, IntPtr.Zero); // SIG_DFL
        var empty = stackalloc byte[256];
        SigEmpty(empty);
        SigProcMask(2 /* SIG_SETMASK */, empty, null);
    }
}
