using System.Runtime.InteropServices;

namespace Kslurm.Files;

/// <summary>
/// Every libc call kslurm makes, in one place: the few .NET does not expose (flock, fsync of a
/// directory, exec, isatty, posix_spawn, lstat without following links, ...). Callers wrap them
/// with the errors their users need.
/// </summary>
public static unsafe partial class Libc
{
    const string Lib = "libc";

    public const int O_RDONLY = 0, O_RDWR = 2, O_CREAT = 0x40, O_DIRECTORY = 0x10000, O_CLOEXEC = 0x80000;
    public const int LOCK_SH = 1, LOCK_EX = 2, LOCK_NB = 4, LOCK_UN = 8;
    public const int EINTR = 4, EWOULDBLOCK = 11, ENOENT = 2, EPIPE = 32;

    [LibraryImport(Lib, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int OpenAt(int dirfd, string path, int flags, int mode);

    [LibraryImport(Lib, EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport(Lib, EntryPoint = "fsync", SetLastError = true)]
    public static partial int Fsync(int fd);

    [LibraryImport(Lib, EntryPoint = "flock", SetLastError = true)]
    public static partial int Flock(int fd, int operation);

    [LibraryImport(Lib, EntryPoint = "isatty")]
    public static partial int IsATty(int fd);

    [LibraryImport(Lib, EntryPoint = "execve", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Execve(string path, string?[] argv, string?[] envp);

    [LibraryImport(Lib, EntryPoint = "getuid")]
    public static partial uint GetUid();

    [LibraryImport(Lib, EntryPoint = "kill", SetLastError = true)]
    public static partial int Kill(int pid, int signal);

    [LibraryImport(Lib, EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPathNative(string path, IntPtr resolved);

    [LibraryImport(Lib, EntryPoint = "free")]
    private static partial void Free(IntPtr p);

    // ---- memory (Archive/PageBuffer.cs) ----

    public const int PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20, MADV_HUGEPAGE = 14;

    [LibraryImport(Lib, EntryPoint = "mmap", SetLastError = true)]
    public static partial void* Mmap(void* addr, nuint length, int prot, int flags, int fd, nint offset);

    [LibraryImport(Lib, EntryPoint = "munmap", SetLastError = true)]
    public static partial int Munmap(void* addr, nuint length);

    [LibraryImport(Lib, EntryPoint = "madvise", SetLastError = true)]
    public static partial int Madvise(void* addr, nuint length, int advice);

    // ---- files, entry by entry (Archive/PosixIo.cs wraps them with errors naming the path) ----

    [LibraryImport(Lib, EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buf, nint count);

    [LibraryImport(Lib, EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buf, nint count);

    public const short POLLOUT = 4;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd { public int Fd; public short Events; public short Revents; }

    [LibraryImport(Lib, EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint count, int timeoutMs);

    [LibraryImport(Lib, EntryPoint = "fchmod", SetLastError = true)]
    public static partial int FChmod(int fd, int mode);

    [LibraryImport(Lib, EntryPoint = "chmod", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Chmod(string path, int mode);

    [LibraryImport(Lib, EntryPoint = "futimens", SetLastError = true)]
    public static partial int FutimeNs(int fd, long* times);

    [LibraryImport(Lib, EntryPoint = "utimensat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int UtimeNsAt(int dirfd, string path, long* times, int flags);

    [LibraryImport(Lib, EntryPoint = "mkdir", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Mkdir(string path, int mode);

    [LibraryImport(Lib, EntryPoint = "mkdirat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int MkdirAt(int dirfd, string path, int mode);

    /// <summary>rename(2) as is: File.Move follows a link to a folder, this moves the link itself.</summary>
    [LibraryImport(Lib, EntryPoint = "rename", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Rename(string oldPath, string newPath);

    [LibraryImport(Lib, EntryPoint = "symlink", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Symlink(string target, string path);

    [LibraryImport(Lib, EntryPoint = "linkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int LinkAt(int olddirfd, string oldpath, int newdirfd, string newpath, int flags);

    [LibraryImport(Lib, EntryPoint = "umask")]
    public static partial int Umask(int mask);

    // ---- posix_spawn, pipes, waiting and signal masks (Processes/Spawn.cs) ----

    [LibraryImport(Lib, EntryPoint = "posix_spawn", StringMarshalling = StringMarshalling.Utf8)]
    public static partial int PosixSpawn(out int pid, string path, void* fileActions, void* attr, string?[] argv, string?[] envp);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_init")]
    public static partial int SpawnFaInit(void* fa);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_destroy")]
    public static partial int SpawnFaDestroy(void* fa);

    [LibraryImport(Lib, EntryPoint = "posix_spawn_file_actions_adddup2")]
    public static partial int SpawnFaDup2(void* fa, int fd, int newFd);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_init")]
    public static partial int SpawnAttrInit(void* a);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_destroy")]
    public static partial int SpawnAttrDestroy(void* a);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setflags")]
    public static partial int SpawnAttrFlags(void* a, short flags);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigmask")]
    public static partial int SpawnAttrMask(void* a, void* set);

    [LibraryImport(Lib, EntryPoint = "posix_spawnattr_setsigdefault")]
    public static partial int SpawnAttrDefault(void* a, void* set);

    [LibraryImport(Lib, EntryPoint = "sigemptyset")]
    public static partial int SigEmpty(void* set);

    [LibraryImport(Lib, EntryPoint = "sigaddset")]
    public static partial int SigAdd(void* set, int sig);

    [LibraryImport(Lib, EntryPoint = "pipe2", SetLastError = true)]
    public static partial int Pipe2(int* fds, int flags);

    [LibraryImport(Lib, EntryPoint = "waitpid", SetLastError = true)]
    public static partial int WaitPid(int pid, int* status, int options);

    [LibraryImport(Lib, EntryPoint = "signal")]
    public static partial IntPtr Signal(int sig, IntPtr handler);

    [LibraryImport(Lib, EntryPoint = "sigprocmask")]
    public static partial int SigProcMask(int how, void* set, void* old);

    // ---- lstat, as the system call glibc's lstat makes ----

    // glibc 2.17, which the binaries link against, has no lstat symbol (only __lxstat), and looking
    // one up by name at run time first probed the program's own folder (a network home on a
    // cluster). newfstatat exists on every kernel since 2.6.16; its struct stat is glibc's.
    static readonly long SysNewFstatAt = RuntimeInformation.ProcessArchitecture switch
    {
        Architecture.X64 => 262,
        Architecture.Arm64 => 79,
        var other => throw new PlatformNotSupportedException($"lstat: {other} is not supported"),
    };
    const long AtFdCwd = -100, AtSymlinkNoFollow = 0x100;

    // syscall() is variadic; glibc's only moves registers, so a fixed-argument call is safe on
    // x86-64 and arm64 Linux. Every argument is a full register (long), as the kernel reads them.
    [LibraryImport(Lib, EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Syscall(long number, long dirfd, string path, byte* buf, long flags);

    /// <summary>lstat(2): 0, or -1 with errno set.</summary>
    public static int LStat(string path, byte* buf) => (int)Syscall(SysNewFstatAt, AtFdCwd, path, buf, AtSymlinkNoFollow);

    // ---- install folder checks and hard links (Install/InstallFolder.cs) ----

    [LibraryImport(Lib, EntryPoint = "access", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Access(string path, int mode);

    [LibraryImport(Lib, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Link(string existing, string newPath);

    [LibraryImport(Lib, EntryPoint = "getpwuid")]
    public static partial IntPtr GetPwUid(uint uid);

    /// <summary>The path with every symlink resolved, or null if it does not exist.</summary>
    public static string? RealPath(string path)
    {
        var p = RealPathNative(path, IntPtr.Zero);
        if (p == IntPtr.Zero)
            return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Free(p); }
    }

    public static string ErrorText(int errno) => Marshal.GetPInvokeErrorMessage(errno);
}
