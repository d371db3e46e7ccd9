using System.Runtime.InteropServices;
using Kslurm.Host;

namespace Kslurm.Files;

/// <summary>
/// An exclusive advisory lock (flock) on a lock file, for state that two jobs may update at once
/// (config, archives, image store). Waits, telling the user once, up to a timeout.
/// </summary>
public sealed class FileLock : IDisposable
{
    int _fd;

    FileLock(int fd) => _fd = fd;

    public static FileLock Acquire(string lockPath, TimeSpan timeout, Action<string>? onWait = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(lockPath))!);
        var fd = Libc.Open(lockPath, Libc.O_RDWR | Libc.O_CREAT | Libc.O_CLOEXEC, 0b110_110_110);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new KslurmException($"cannot open lock file {lockPath}: {Libc.ErrorText(errno)}");
        }
        var deadline = DateTime.UtcNow + timeout;
        var told = false;
        while (true)
        {
            if (Libc.Flock(fd, Libc.LOCK_EX | Libc.LOCK_NB) == 0)
                return new FileLock(fd);
            var errno = Marshal.GetLastPInvokeError();
            if (errno != Libc.EWOULDBLOCK && errno != Libc.EINTR)
            {
                Libc.Close(fd);
                throw new KslurmException($"cannot lock {lockPath}: {Libc.ErrorText(errno)}");
            }
            if (DateTime.UtcNow >= deadline)
            {
                Libc.Close(fd);
                throw new KslurmException($"timed out after {timeout.TotalSeconds:0} s waiting for {lockPath}",
                    "another kslurm process holds it; wait for it to finish and try again");
            }
            if (!told && onWait is not null)
            {
                onWait($"waiting for another kslurm process to release {Paths.Pretty(lockPath)} ...");
                told = true;
            }
            Thread.Sleep(50);
        }
    }

    public void Dispose()
    {
        if (_fd >= 0)
        {
            Libc.Close(_fd); // closing releases the flock
            _fd = -1;
        }
    }
}
