using System.Runtime.InteropServices;

namespace Kslurm;

/// <summary>
/// Read-only stream that decompresses any valid zstd stream from <c>input</c>: one frame
/// (`zstd`, `zstd -T0`), many frames (<see cref="ZstdCompressStream"/>, pzstd), skippable
/// frames, frames with or without checksums.
/// <para>
/// Damaged input never passes silently: corrupt data, a checksum mismatch, trailing garbage and
/// truncated input (including an empty input, which `zstd -d` also rejects) throw
/// <see cref="InvalidDataException"/> with a "zstd: ..." message, and every later call throws
/// again. Decoding is streaming, so bytes of a frame may already have been returned when its
/// checksum (checked at the end of the frame) turns out wrong; consumers must treat the
/// exception as "everything read is suspect".
/// </para>
/// <para>
/// Like the zstd CLI, frames that need a window above 128 MiB (`zstd --long=28` and up) are
/// refused rather than allocating without bound.
/// </para>
/// </summary>
public sealed class ZstdDecompressStream : Stream
{
    private const int InputBufferSize = 1 << 18;

    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private readonly DCtxHandle _dctx;
    private readonly byte[] _in = new byte[InputBufferSize];
    private int _inPos;
    private int _inLen;
    private bool _eof;
    private bool _inFrame;      // part of a frame consumed, its end not reached yet
    private bool _sawInput;     // at least one byte read from _input
    private bool _sawFrameEnd;  // at least one frame fully decoded
    private long _bytesOut;
    private Exception? _fault;
    private bool _disposed;

    /// <param name="input">Compressed data, read sequentially from its current position.</param>
    /// <param name="leaveOpen">Do not dispose <paramref name="input"/> on Dispose.</param>
    public ZstdDecompressStream(Stream input, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.CanRead)
            throw new ArgumentException("zstd: input stream is not readable", nameof(input));
        _input = input;
        _leaveOpen = leaveOpen;
        _dctx = DCtxHandle.Create();
    }

    /// <summary>Uncompressed bytes returned so far.</summary>
    public long BytesOut => _bytesOut;

    /// <summary>Decompresses all of <paramref name="input"/> into <paramref name="output"/>.</summary>
    public static void Decompress(Stream input, Stream output)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var z = new ZstdDecompressStream(input, leaveOpen: true);
        z.CopyTo(output, 1 << 20);
    }

    /// <summary>Decompresses file <paramref name="source"/> into a new file <paramref name="destination"/>
    /// (overwritten if it exists).</summary>
    public static void DecompressFile(string source, string destination)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        Decompress(input, output);
    }

    public override int Read(Span<byte> buffer)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault != null)
            throw new InvalidDataException(_fault.Message, _fault);
        if (buffer.IsEmpty)
            return 0;
        try
        {
            int n = ReadCore(buffer);
            _bytesOut += n;
            return n;
        }
        catch (Exception e)
        {
            _fault = e;
            throw;
        }
    }

    private unsafe int ReadCore(Span<byte> buffer)
    {
        int produced = 0;
        while (true)
        {
            // With no input left and no frame open there is nothing to decode; calling the
            // decoder anyway would report "frame in progress" for the next, absent, frame.
            if (_inPos < _inLen || _inFrame)
            {
                nuint ret;
                ZstdNative.InBuffer inBuf;
                ZstdNative.OutBuffer outBuf;
                fixed (byte* src = _in)
                fixed (byte* dst = buffer)
                {
                    inBuf = new ZstdNative.InBuffer { Src = src, Size = (nuint)_inLen, Pos = (nuint)_inPos };
                    outBuf = new ZstdNative.OutBuffer { Dst = dst, Size = (nuint)buffer.Length, Pos = (nuint)produced };
                    ret = ZstdNative.DecompressStream(_dctx.Value, &outBuf, &inBuf);
                }
                if (ZstdNative.Failed(ret))
                    throw Corrupt(ret);
                _inPos = (int)inBuf.Pos;
                produced = (int)outBuf.Pos;
                // 0 = a frame has been fully decoded, checksum verified and flushed.
                _inFrame = ret != 0;
                if (ret == 0)
                    _sawFrameEnd = true;
            }
            if (produced == buffer.Length)
                return produced;
            if (_inPos < _inLen)
                continue; // the decoder stopped at a frame boundary; go on with the next frame
            // Input exhausted and the output not full: the decoder has flushed all it could.
            if (produced > 0)
                return produced; // hand out what we have rather than block on more input
            if (_eof)
            {
                if (_inFrame)
                    throw new InvalidDataException("zstd: truncated input (the stream ends inside a frame)");
                if (!_sawInput)
                    throw new InvalidDataException("zstd: truncated input (empty stream, no zstd frame)");
                return 0;
            }
            _inPos = 0;
            _inLen = _input.Read(_in, 0, _in.Length);
            if (_inLen == 0)
                _eof = true;
            else
                _sawInput = true;
        }
    }

    private InvalidDataException Corrupt(nuint code)
    {
        string name = ZstdNative.ErrorName(code);
        return ZstdNative.GetErrorCode(code) switch
        {
            ZstdNative.ErrorChecksumWrong =>
                new InvalidDataException($"zstd: corrupted data (checksum mismatch: {name})"),
            ZstdNative.ErrorPrefixUnknown when !_sawFrameEnd && !_inFrame =>
                new InvalidDataException($"zstd: not zstd data ({name})"),
            ZstdNative.ErrorPrefixUnknown =>
                new InvalidDataException($"zstd: corrupted data or trailing garbage after the last frame ({name})"),
            ZstdNative.ErrorWindowTooLarge =>
                new InvalidDataException($"zstd: frame needs a window above the 128 MiB decoder limit ({name})"),
            _ => new InvalidDataException($"zstd: corrupted data ({name})"),
        };
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        return Read(buffer.AsSpan(offset, count));
    }

    public override int ReadByte()
    {
        byte b = 0;
        return Read(new Span<byte>(ref b)) == 0 ? -1 : b;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        ValidateBufferArguments(buffer, offset, count);
        return ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        // Decoding is CPU work; input reads are synchronous like the zstd CLI's.
        cancellationToken.ThrowIfCancellationRequested();
        return ValueTask.FromResult(Read(buffer.Span));
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
            return;
        _disposed = true;
        if (disposing)
        {
            _dctx.Dispose();
            if (!_leaveOpen)
                _input.Dispose();
        }
        base.Dispose(disposing);
    }

    public override bool CanRead => !_disposed;
    public override bool CanSeek => false;
    public override bool CanWrite => false;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }
    public override void Flush()
    {
    }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    /// <summary>Owns a ZSTD_DCtx; freed even if the stream is never disposed.</summary>
    internal sealed class DCtxHandle : SafeHandle
    {
        private DCtxHandle() : base(0, ownsHandle: true)
        {
        }

        public nint Value => handle;

        public override bool IsInvalid => handle == 0;

        public static DCtxHandle Create()
        {
            var h = new DCtxHandle();
            h.SetHandle(ZstdNative.CreateDCtx());
            if (h.IsInvalid)
                throw new OutOfMemoryException("zstd: cannot allocate a decompression context");
            return h;
        }

        protected override bool ReleaseHandle()
        {
            ZstdNative.FreeDCtx(handle);
            return true;
        }
    }
}
