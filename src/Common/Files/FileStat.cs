using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Kslurm.Files;

/// <summary>The file types of st_mode (S_IFMT bits).</summary>
public enum FileKind
{
    Other,
    Regular,
    Directory,
    Symlink,
    Fifo,
    Socket,
    CharDevice,
    BlockDevice,
}

/// <summary>
/// What lstat(2) says about a path, never following a final symlink. .NET exposes neither the
/// file type beyond file/directory/link, nor inode numbers and link counts (needed to find hard
/// links), and its mode/time getters follow symlinks.
/// </summary>
public readonly record struct FileStat(
    FileKind Kind, UnixFileMode Mode, ulong Device, ulong Inode, ulong Links,
    uint Uid, uint Gid, long Size, long MTimeSeconds, long MTimeNanoseconds)
{
    /// <summary>lstat(path); null when the path does not exist (ENOENT, ENOTDIR).</summary>
    /// <exception cref="IOException">Any other failure (permission, I/O error).</exception>
    public static unsafe FileStat? TryLStat(string path)
    {
        Span<byte> buf = stackalloc byte[256]; // struct stat is 144 bytes on x86-64, 128 on arm64
        int rc;
        fixed (byte* p = buf)
            rc = Libc.LStat(path, p);
        if (rc != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno is Libc.ENOENT or StatNative.ENOTDIR)
                return null;
            throw new IOException($"cannot stat {path}: {Libc.ErrorText(errno)}");
        }
        return StatNative.Parse(buf);
    }

    /// <summary>lstat(path), throwing <see cref="IOException"/> when it fails.</summary>
    public static FileStat LStat(string path)
        => TryLStat(path) ?? throw new IOException($"cannot stat {path}: {Libc.ErrorText(Libc.ENOENT)}");

    public DateTimeOffset MTime => DateTimeOffset.FromUnixTimeSeconds(MTimeSeconds).AddTicks(MTimeNanoseconds / 100);
}

/// <summary>
/// struct stat as the kernel fills it (Libc.LStat): x86-64 has the kernel's own layout, arm64
/// the generic one; both are decoded here.
/// </summary>
internal static class StatNative
{
    public const int ENOTDIR = 20;

    public static FileStat Parse(ReadOnlySpan<byte> b)
    {
        uint mode;
        ulong links;
        uint uid, gid;
        switch (RuntimeInformation.ProcessArchitecture)
        {
            case Architecture.X64:
                links = BinaryPrimitives.ReadUInt64LittleEndian(b[16..]);
                mode = BinaryPrimitives.ReadUInt32LittleEndian(b[24..]);
                uid = BinaryPrimitives.ReadUInt32LittleEndian(b[28..]);
                gid = BinaryPrimitives.ReadUInt32LittleEndian(b[32..]);
                break;
            case Architecture.Arm64:
                mode = BinaryPrimitives.ReadUInt32LittleEndian(b[16..]);
                links = BinaryPrimitives.ReadUInt32LittleEndian(b[20..]);
                uid = BinaryPrimitives.ReadUInt32LittleEndian(b[24..]);
                gid = BinaryPrimitives.ReadUInt32LittleEndian(b[28..]);
                break;
            default:
                throw new PlatformNotSupportedException($"lstat: {RuntimeInformation.ProcessArchitecture} is not supported");
        }
        // Shared by both layouts: dev @0, ino @8, size @48, mtime @88/@96.
        FileKind kind = (mode & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0xA000 => FileKind.Symlink,
            0x1000 => FileKind.Fifo,
            0xC000 => FileKind.Socket,
            0x2000 => FileKind.CharDevice,
            0x6000 => FileKind.BlockDevice,
            _ => FileKind.Other,
        };
        return new FileStat(kind, (UnixFileMode)(mode & 0xFFF),
            BinaryPrimitives.ReadUInt64LittleEndian(b),
            BinaryPrimitives.ReadUInt64LittleEndian(b[8..]),
            links, uid, gid,
            BinaryPrimitives.ReadInt64LittleEndian(b[48..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[88..]),
            BinaryPrimitives.ReadInt64LittleEndian(b[96..]));
    }
}
