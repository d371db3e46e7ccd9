using System.Runtime.InteropServices;
using Kslurm.Files;

namespace Kslurm.Archive;

/// <summary>
/// The plain POSIX calls the archive layer makes per entry. .NET's equivalents either follow
/// symlinks (time and mode setters), apply the umask, or add an flock and an fstat to every
/// open; with tens of thousands of small files those extra calls show. Every method throws
/// <see cref="IOException"/> naming the path; callers turn that into a user message.
/// </summary>
internal static unsafe partial class PosixIo
{
    public const int O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_EXCL = 0x80, O_NOFOLLOW = 0x20000,
        O_CLOEXEC = 0x80000, O_NONBLOCK = 0x800;
    private const int AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100;
    private const int EINTR = 4;
    private const long UTIME_OMIT = (1L << 30) - 2;

    /// <summary>The process's umask. umask(2) is read by setting it, so a strict 077 stands in
    /// for the instant until the old one is put back: a file created meanwhile is never more open.</summary>
    public static UnixFileMode Umask()
    {
        int old = Libc.Umask(0x3F);
        Libc.Umask(old);
        return (UnixFileMode)(old & 0x1FF);
    }

    private static IOException Error(string what, string path)
    {
        int errno = Marshal.GetLastPInvokeError();
        return new IOException($"cannot {what} {path}: {Libc.ErrorText(errno)}");
    }

    /// <summary>Opens an existing file for reading without following a final symlink and without
    /// blocking on a fifo that replaced the file since it was listed.</summary>
    public static int OpenRead(string path)
    {
        int fd;
        do fd = Libc.Open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, 0);
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);
        return fd >= 0 ? fd : throw Error("open", path);
    }

    /// <summary>Creates a new file (never an existing one, never through a final symlink) with
    /// <paramref name="mode"/> minus the umask, as GNU tar does; the descriptor is writable
    /// whatever the mode.</summary>
    public static int Create(string path, UnixFileMode mode)
    {
        int fd;
        do fd = Libc.Open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (int)mode);
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);
        return fd >= 0 ? fd : throw Error("create", path);
    }

    /// <summary>Opens a directory as a handle for the *At calls (no access to its contents needed);
    /// a final symlink is refused unless <paramref name="follow"/>.</summary>
    public static int OpenDirectory(string path, bool follow = false)
    {
        const int O_PATH = 0x200000, O_DIRECTORY = 0x10000;
        int fd;
        do fd = Libc.Open(path, O_PATH | O_DIRECTORY | (follow ? 0 : O_NOFOLLOW) | O_CLOEXEC, 0);
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);
        return fd >= 0 ? fd : throw Error("open", path);
    }

    /// <summary><see cref="Create"/> of <paramref name="name"/> in the directory <paramref name="dirFd"/>:
    /// the kernel does not walk the whole path again for every file (<paramref name="path"/> is
    /// for messages).</summary>
    public static int CreateAt(int dirFd, string name, UnixFileMode mode, string path)
    {
        int fd;
        do fd = Libc.OpenAt(dirFd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, (int)mode);
        while (fd < 0 && Marshal.GetLastPInvokeError() == EINTR);
        return fd >= 0 ? fd : throw Error("create", path);
    }

    /// <summary>Reads until <paramref name="buffer"/> is full or end of file; returns the count.</summary>
    public static int Read(int fd, Span<byte> buffer, string path)
    {
        int total = 0;
        fixed (byte* p = buffer)
        {
            while (total < buffer.Length)
            {
                nint n = Libc.Read(fd, p + total, buffer.Length - total);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR)
                        continue;
                    throw Error("read", path);
                }
                if (n == 0)
                    break;
                total += (int)n;
            }
        }
        return total;
    }

    public static void Write(int fd, ReadOnlySpan<byte> data, string path)
    {
        fixed (byte* p = data)
        {
            int done = 0;
            while (done < data.Length)
            {
                nint n = Libc.Write(fd, p + done, data.Length - done);
                if (n < 0)
                {
                    if (Marshal.GetLastPInvokeError() == EINTR)
                        continue;
                    throw Error("write", path);
                }
                done += (int)n;
            }
        }
    }

    public static void Close(int fd, string path)
    {
        // Linux releases the descriptor even when close reports an error; never retry it.
        if (Libc.Close(fd) != 0 && Marshal.GetLastPInvokeError() != EINTR)
            throw Error("close", path);
    }

    public static void Chmod(string path, UnixFileMode mode)
    {
        if (Libc.Chmod(path, (int)mode) != 0)
            throw Error("set the mode of", path);
    }

    /// <summary>Sets the modification time (access time untouched).</summary>
    public static void FSetMTime(int fd, long seconds, long nanoseconds, string path)
    {
        long* t = stackalloc long[4] { 0, UTIME_OMIT, seconds, nanoseconds };
        if (Libc.FutimeNs(fd, t) != 0)
            throw Error("set the time of", path);
    }

    /// <summary>Sets the modification time of the path itself: a symlink is not followed.</summary>
    public static void SetMTime(string path, long seconds, long nanoseconds)
    {
        long* t = stackalloc long[4] { 0, UTIME_OMIT, seconds, nanoseconds };
        if (Libc.UtimeNsAt(AT_FDCWD, path, t, AT_SYMLINK_NOFOLLOW) != 0)
            throw Error("set the time of", path);
    }

    public static void MkDir(string path, UnixFileMode mode)
    {
        if (Libc.Mkdir(path, (int)mode) != 0)
            throw Error("create directory", path);
    }

    /// <summary><see cref="MkDir"/> of <paramref name="name"/> in the directory <paramref name="dirFd"/>
    /// (<paramref name="path"/> is for messages).</summary>
    public static void MkDirAt(int dirFd, string name, UnixFileMode mode, string path)
    {
        if (Libc.MkdirAt(dirFd, name, (int)mode) != 0)
            throw Error("create directory", path);
    }

    public static void Symlink(string target, string path)
    {
        if (Libc.Symlink(target, path) != 0)
            throw Error("create symlink", path);
    }

    /// <summary>Hard link; flags 0 = a final symlink in <paramref name="existing"/> is linked itself,
    /// not followed.</summary>
    public static void Link(string existing, string path)
    {
        if (Libc.LinkAt(AT_FDCWD, existing, AT_FDCWD, path, 0) != 0)
            throw Error("create hard link", path);
    }
}
