using System.Runtime.InteropServices;
using System.Text;
using Kslurm.Files;

namespace Kslurm.Cli;

/// <summary>
/// Console.Out and Console.Error as plain UTF-8 writers over descriptors 1 and 2. The first write
/// through .NET's own console sets up terminal handling (a signal thread, SIGINT/SIGQUIT/SIGCONT
/// handlers, terminfo): about 1 ms of the 7 ms `kpy --help` took, for tools that never draw on a
/// terminal. Reading the keyboard (Console.ReadKey, ReadLine) still sets it up when needed.
/// </summary>
public static class StandardStreams
{
    public static void Install()
    {
        Console.SetOut(Writer(1));
        Console.SetError(Writer(2));
    }

    // Each Write reaches the descriptor whole before it returns, as with the console: output
    // interleaves correctly with children writing to the same descriptors.
    static StreamWriter Writer(int fd)
        => new(new DescriptorStream(fd), new UTF8Encoding(false), 4096) { AutoFlush = true };
}

/// <summary>A write-only stream over a descriptor we do not own. A reader that went away (EPIPE,
/// `kpy list | head`) ends the output silently, as the console does; other errors on standard
/// output (a full disk behind `> file`) are thrown so the tool says so on standard error and exits
/// non-zero. Standard error has nowhere to report its own failure: it goes quiet.</summary>
sealed unsafe class DescriptorStream(int fd) : Stream
{
    bool _readerGone;

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        fixed (byte* start = buffer)
        {
            var p = start;
            var left = (nint)buffer.Length;
            while (left > 0 && !_readerGone)
            {
                var n = Libc.Write(fd, p, left);
                if (n >= 0)
                {
                    p += n;
                    left -= n;
                    continue;
                }
                var errno = Marshal.GetLastPInvokeError();
                if (errno == Libc.EINTR)
                    continue;
                if (errno == Libc.EWOULDBLOCK) // a non-blocking pipe we inherited: wait until it drains
                {
                    var pfd = new Libc.PollFd { Fd = fd, Events = Libc.POLLOUT };
                    Libc.Poll(&pfd, 1, -1);
                    continue;
                }
                if (errno == Libc.EPIPE || fd == 2)
                {
                    _readerGone = true;
                    return;
                }
                throw new IOException($"cannot write to {(fd == 1 ? "standard output" : "standard error")}: {Libc.ErrorText(errno)}");
            }
        }
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));
    public override void Flush() { }
    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
