using System.Runtime.InteropServices;

namespace Kslurm.Archive;

/// <summary>
/// The few libzstd entry points kslurm needs. Published tools bind them at link time
/// (DirectPInvoke + libzstd.a, see Directory.Build.targets); under the JIT (tests) the module
/// initializer in <see cref="NativeLibraryResolver"/> maps "libzstd" to libzstd.so.1.
/// Only stable (non-experimental) API is used so that any libzstd >= 1.4 works.
/// </summary>
internal static unsafe partial class ZstdNative
{
    private const string Lib = "libzstd";

    // ZSTD_cParameter / ZSTD_dParameter / ZSTD_ResetDirective values from zstd.h (stable API).
    public const int CompressionLevel = 100;
    public const int ContentSizeFlag = 200;
    public const int ChecksumFlag = 201;
    public const int ResetSessionOnly = 1;

    // ZSTD_ErrorCode values used to pick a message (zstd_errors.h).
    public const int ErrorPrefixUnknown = 10;
    public const int ErrorWindowTooLarge = 16;
    public const int ErrorChecksumWrong = 22;
    public const int ErrorMemoryAllocation = 64;

    [StructLayout(LayoutKind.Sequential)]
    public struct InBuffer
    {
        public byte* Src;
        public nuint Size;
        public nuint Pos;
    }

    [StructLayout(LayoutKind.Sequential)]
    public struct OutBuffer
    {
        public byte* Dst;
        public nuint Size;
        public nuint Pos;
    }

    [LibraryImport(Lib, EntryPoint = "ZSTD_versionNumber")]
    public static partial uint VersionNumber();

    [LibraryImport(Lib, EntryPoint = "ZSTD_minCLevel")]
    public static partial int MinCLevel();

    [LibraryImport(Lib, EntryPoint = "ZSTD_maxCLevel")]
    public static partial int MaxCLevel();

    [LibraryImport(Lib, EntryPoint = "ZSTD_compressBound")]
    public static partial nuint CompressBound(nuint srcSize);

    [LibraryImport(Lib, EntryPoint = "ZSTD_isError")]
    public static partial uint IsError(nuint code);

    [LibraryImport(Lib, EntryPoint = "ZSTD_getErrorCode")]
    public static partial int GetErrorCode(nuint code);

    [LibraryImport(Lib, EntryPoint = "ZSTD_getErrorName")]
    public static partial byte* GetErrorName(nuint code);

    [LibraryImport(Lib, EntryPoint = "ZSTD_createCCtx")]
    public static partial nint CreateCCtx();

    [LibraryImport(Lib, EntryPoint = "ZSTD_freeCCtx")]
    public static partial nuint FreeCCtx(nint cctx);

    [LibraryImport(Lib, EntryPoint = "ZSTD_CCtx_setParameter")]
    public static partial nuint CCtxSetParameter(nint cctx, int param, int value);

    /// <summary>One-shot compression of a whole buffer into one complete frame (header with
    /// content size, blocks, checksum if enabled). Sticky parameters survive between calls.</summary>
    [LibraryImport(Lib, EntryPoint = "ZSTD_compress2")]
    public static partial nuint Compress2(nint cctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    [LibraryImport(Lib, EntryPoint = "ZSTD_createDCtx")]
    public static partial nint CreateDCtx();

    [LibraryImport(Lib, EntryPoint = "ZSTD_freeDCtx")]
    public static partial nuint FreeDCtx(nint dctx);

    [LibraryImport(Lib, EntryPoint = "ZSTD_DCtx_reset")]
    public static partial nuint DCtxReset(nint dctx, int directive);

    [LibraryImport(Lib, EntryPoint = "ZSTD_decompressStream")]
    public static partial nuint DecompressStream(nint dctx, OutBuffer* output, InBuffer* input);

    /// <summary>One-shot decompression of exactly one whole frame (or several concatenated);
    /// verifies the frame checksum before returning.</summary>
    [LibraryImport(Lib, EntryPoint = "ZSTD_decompressDCtx")]
    public static partial nuint DecompressDCtx(nint dctx, byte* dst, nuint dstCapacity, byte* src, nuint srcSize);

    public static bool Failed(nuint code) => IsError(code) != 0;

    public static string ErrorName(nuint code)
    {
        byte* name = GetErrorName(code);
        return name == null ? "unknown error" : Marshal.PtrToStringUTF8((nint)name) ?? "unknown error";
    }
}
