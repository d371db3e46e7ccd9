using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace Kslurm.Archive;

/// <summary>
/// Read-only stream that decompresses any valid zstd stream from <c>input</c>: one frame
/// (`zstd`, `zstd -T0`), many frames (<see cref="ZstdCompressStream"/>, pzstd), skippable
/// frames, frames with or without checksums or content sizes.
/// <para>
/// Frames that declare a content size of at most 16 MiB (what <see cref="ZstdCompressStream"/>
/// writes) are decoded whole and in parallel on worker threads, at most 2 x threads frames in
/// flight, never more than <see cref="MaxInFlight"/>; their checksum is verified before any of their bytes are returned. Other frames
/// (e.g. the single big frame of `zstd -T0`) are decoded streaming on the caller's thread.
/// </para>
/// <para>
/// Damaged input never passes silently: corrupt data, a checksum mismatch, trailing garbage and
/// truncated input (including an empty input, which `zstd -d` also rejects) throw
/// <see cref="InvalidDataException"/> with a "zstd: ..." message, and every later call throws
/// again. In streaming decoding, bytes of a frame may already have been returned when its
/// checksum (at the end of the frame) turns out wrong; consumers must treat the exception as
/// "everything read is suspect".
/// </para>
/// <para>
/// Like the zstd CLI, streamed frames that need a window above 128 MiB (`zstd --long=28` and
/// up) are refused rather than allocating without bound.
/// </para>
/// </summary>
public sealed class ZstdDecompressStream : Stream
{
    /// <summary>Frames declaring at most this content size are decoded whole, in parallel.</summary>
    public const int MaxParallelFrameSize = 16 << 20;
    /// <summary>Frames decoded ahead at most.</summary>
    public const int MaxInFlight = 6;

    private const int InputBufferSize = 1 << 18;
    private const int MaxBlockSize = 128 << 10; // RFC 8878 Block_Maximum_Size
    private const uint FrameMagic = 0xFD2FB528;

    private readonly Stream _input;
    private readonly bool _leaveOpen;
    private readonly int _threads;
    private readonly int _maxInFlight;

    // Input buffer shared by both decoders. It grows to hold a whole frame when the parallel
    // path looks ahead to find where a frame ends.
    private PageBuffer _in = new(InputBufferSize);
    private int _inPos;
    private int _inLen;
    private int _readSize;
    private bool _eof;
    private bool _sawInput;     // at least one byte read from _input
    private bool _sawFrameEnd;  // at least one frame complete (for error messages)

    // Streaming decoder (created on first use).
    private DCtxHandle? _dctx;
    private bool _inFrame;      // streaming: part of a frame consumed, its end not reached yet
    private bool _streamingFrame; // parallel mode: the frame at _inPos is being streamed
    private bool _nextNeedsStreaming;

    // Parallel decoder: frames in input order, the one being handed out, recycled ones.
    private readonly Queue<Frame> _pending = new();
    private readonly Stack<Frame> _free = new();
    private readonly List<Frame> _all = new();
    private Frame? _current;
    private int _currentPos;
    private WorkQueue<Frame>? _work;
    private readonly List<Thread> _workers = new();

    private long _bytesOut;
    private Exception? _fault;
    private bool _disposed;

    /// <param name="input">Compressed data, read sequentially from its current position.</param>
    /// <param name="threads">Worker threads for frames decoded in parallel; 0 means
    /// <see cref="Environment.ProcessorCount"/>, 1 means plain streaming on the caller's thread.</param>
    /// <param name="leaveOpen">Do not dispose <paramref name="input"/> on Dispose.</param>
    public ZstdDecompressStream(Stream input, int threads = 0, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        if (!input.CanRead)
            throw new ArgumentException("zstd: input stream is not readable", nameof(input));
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        _input = input;
        _leaveOpen = leaveOpen;
        // Memory: at most MaxInFlight frames (16 MiB-bounded, 4 MiB from kpy) whatever the core count.
        _threads = Math.Min(threads == 0 ? Environment.ProcessorCount : threads, MaxInFlight);
        _maxInFlight = Math.Clamp(2 * _threads, 2, MaxInFlight);
        _readSize = _threads == 1 ? 16 << 10 : 1 << 29; // see Fill
    }

    /// <summary>Uncompressed bytes returned so far.</summary>
    public long BytesOut => _bytesOut;

    /// <summary>Decompresses all of <paramref name="input"/> into <paramref name="output"/>.</summary>
    public static void Decompress(Stream input, Stream output, int threads = 0)
    {
        ArgumentNullException.ThrowIfNull(output);
        using var z = new ZstdDecompressStream(input, threads, leaveOpen: true);
        z.CopyTo(output);
    }

    /// <summary>Decompresses file <paramref name="source"/> into a new file <paramref name="destination"/>
    /// (overwritten if it exists).</summary>
    public static void DecompressFile(string source, string destination, int threads = 0)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1);
        Decompress(input, output, threads);
    }

    public override int Read(Span<byte> buffer)
    {
        ThrowIfUnusable();
        if (buffer.IsEmpty)
            return 0;
        try
        {
            int n = _threads == 1 ? ReadStreaming(buffer, stopAtFrameEnd: false) : ReadParallel(buffer);
            _bytesOut += n;
            return n;
        }
        catch (Exception e)
        {
            _fault = e;
            throw;
        }
    }

    /// <summary>
    /// Streaming decoding only (threads = 1): decodes the rest of the current frame, discarding
    /// it, so that its checksum is verified. Stops early (returns false) after
    /// <paramref name="limit"/> bytes, for frames of unknown size.
    /// </summary>
    public bool FinishFrame(long limit)
    {
        ThrowIfUnusable();
        if (_threads != 1)
            throw new InvalidOperationException("FinishFrame needs a streaming decoder (threads = 1)");
        byte[] scratch = ArrayPool<byte>.Shared.Rent(1 << 17);
        try
        {
            for (long done = 0; _inFrame; done += scratch.Length)
            {
                if (done >= limit)
                    return false;
                ReadStreaming(scratch, stopAtFrameEnd: true);
            }
            return true;
        }
        catch (Exception e)
        {
            _fault = e;
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
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

    /// <summary>Writes frames decoded in parallel straight from their buffers (no extra copy).</summary>
    public override void CopyTo(Stream destination, int bufferSize)
    {
        ValidateCopyToArguments(destination, bufferSize);
        ThrowIfUnusable();
        byte[] scratch = ArrayPool<byte>.Shared.Rent(Math.Max(bufferSize, 1 << 20));
        try
        {
            while (true)
            {
                if (_current != null && _currentPos < _current.DstLength)
                {
                    int n = _current.DstLength - _currentPos;
                    destination.Write(_current.Dst!.Slice(_currentPos, n));
                    _currentPos += n;
                    _bytesOut += n;
                    continue;
                }
                int read = Read(scratch);
                if (read == 0)
                    return;
                destination.Write(scratch, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    // ---- streaming decoder ----

    // Decodes from the input buffer into `buffer`. With stopAtFrameEnd, returns as soon as the
    // current frame ends (clearing _streamingFrame) so the parallel path can take over.
    private unsafe int ReadStreaming(Span<byte> buffer, bool stopAtFrameEnd)
    {
        int produced = 0;
        while (true)
        {
            // With no input left and no frame open there is nothing to decode; calling the
            // decoder anyway would report "frame in progress" for the next, absent, frame.
            if (_inPos < _inLen || _inFrame)
            {
                _dctx ??= DCtxHandle.Create();
                nuint ret;
                ZstdNative.InBuffer inBuf;
                ZstdNative.OutBuffer outBuf;
                fixed (byte* dst = buffer)
                {
                    inBuf = new ZstdNative.InBuffer { Src = _in.Pointer, Size = (nuint)_inLen, Pos = (nuint)_inPos };
                    outBuf = new ZstdNative.OutBuffer { Dst = dst, Size = (nuint)buffer.Length, Pos = (nuint)produced };
                    ret = ZstdNative.DecompressStream(_dctx.Value, &outBuf, &inBuf);
                }
                if (ZstdNative.Failed(ret))
                    throw Corrupt(ret, atStart: !_sawFrameEnd && !_inFrame, afterFrames: _sawFrameEnd);
                _inPos = (int)inBuf.Pos;
                produced = (int)outBuf.Pos;
                // 0 = a frame has been fully decoded, checksum verified and flushed.
                _inFrame = ret != 0;
                if (ret == 0)
                {
                    _sawFrameEnd = true;
                    if (stopAtFrameEnd)
                    {
                        _streamingFrame = false;
                        return produced;
                    }
                }
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
            _inLen = 0;
            Fill();
        }
    }

    // ---- parallel decoder ----

    private int ReadParallel(Span<byte> buffer)
    {
        while (true)
        {
            if (_current != null)
            {
                int n = Math.Min(buffer.Length, _current.DstLength - _currentPos);
                if (n > 0)
                {
                    _current.Dst!.Slice(_currentPos, n).CopyTo(buffer);
                    _currentPos += n;
                    return n;
                }
                _free.Push(_current);
                _current = null;
            }
            if (_streamingFrame)
            {
                int n = ReadStreaming(buffer, stopAtFrameEnd: true);
                if (n > 0 || _streamingFrame)
                    return n;
                continue; // frame ended without output (skippable or empty frame)
            }
            FillPipeline();
            if (_pending.Count > 0)
            {
                Frame head = _pending.Peek();
                head.Done.Wait();
                _pending.Dequeue();
                if (head.Error != null)
                {
                    _free.Push(head);
                    throw head.Error;
                }
                _current = head;
                _currentPos = 0;
                continue;
            }
            if (!_nextNeedsStreaming)
                return 0; // clean end of input
            _nextNeedsStreaming = false;
            _streamingFrame = true;
        }
    }

    // Hands whole frames to the workers until 2 x threads are in flight, the input ends, or a
    // frame that must be streamed comes up (it waits until the frames before it are out).
    private void FillPipeline()
    {
        while (!_nextNeedsStreaming && _pending.Count < _maxInFlight)
        {
            int length = MeasureFrame(out int contentSize);
            if (length == 0)
                return;
            if (length < 0)
            {
                _nextNeedsStreaming = true;
                return;
            }
            Frame f = _free.Count > 0 ? _free.Pop() : NewFrame();
            f.SetSource(_in.Slice(_inPos, length), contentSize);
            _inPos += length;
            _sawFrameEnd = true;
            f.Done.Reset();
            _pending.Enqueue(f);
            _work ??= new WorkQueue<Frame>(int.MaxValue); // bounded by the chunks in flight
            if (_workers.Count < _threads && _workers.Count < _pending.Count)
                StartWorker();
            _work.Add(f);
        }
    }

    private Frame NewFrame()
    {
        var f = new Frame();
        _all.Add(f);
        return f;
    }

    /// <summary>
    /// Looks ahead (without consuming) at the frame starting at _inPos. Returns its total length
    /// when it can be decoded whole: a zstd frame with a declared content size up to
    /// <see cref="MaxParallelFrameSize"/>, entirely buffered. Returns 0 at a clean end of input,
    /// and -1 for anything else (unknown or large size, skippable frame, dictionary, damage,
    /// truncation): the streaming decoder handles those and reports errors the usual way.
    /// </summary>
    private int MeasureFrame(out int contentSize)
    {
        contentSize = 0;
        if (!Buffered(1))
            return _sawInput ? 0 : -1; // empty input: let the streaming decoder complain
        Buffered(18); // largest frame header; fewer bytes only at the end of input
        ReadOnlySpan<byte> h = _in.Slice(_inPos, _inLen - _inPos);
        if (h.Length < 6 || BinaryPrimitives.ReadUInt32LittleEndian(h) != FrameMagic)
            return -1;
        byte fhd = h[4];
        int fcsFlag = fhd >> 6;
        bool singleSegment = (fhd & 0x20) != 0;
        bool checksum = (fhd & 0x04) != 0;
        if ((fhd & 0x08) != 0 || (fhd & 0x03) != 0 || (fcsFlag == 0 && !singleSegment))
            return -1; // reserved bit, dictionary, or no content size
        int pos = 5 + (singleSegment ? 0 : 1);
        int fcsBytes = fcsFlag switch { 0 => 1, 1 => 2, 2 => 4, _ => 8 };
        if (h.Length < pos + fcsBytes)
            return -1;
        ulong size = fcsFlag switch
        {
            0 => h[pos],
            1 => BinaryPrimitives.ReadUInt16LittleEndian(h[pos..]) + 256u,
            2 => BinaryPrimitives.ReadUInt32LittleEndian(h[pos..]),
            _ => BinaryPrimitives.ReadUInt64LittleEndian(h[pos..]),
        };
        if (size > MaxParallelFrameSize)
            return -1;
        pos += fcsBytes;
        // Real encoders never exceed this; beyond it, stream rather than buffer without bound.
        long limit = 2 * (long)size + (1 << 16);
        while (true)
        {
            if (!Buffered(pos + 3))
                return -1;
            ReadOnlySpan<byte> b = _in.Slice(_inPos + pos, 3);
            int bh = b[0] | b[1] << 8 | b[2] << 16;
            int type = (bh >> 1) & 3;
            int blockSize = bh >> 3;
            if (type == 3 || blockSize > MaxBlockSize)
                return -1;
            pos += 3 + (type == 1 ? 1 : blockSize); // an RLE block stores one byte
            if (pos > limit)
                return -1;
            if ((bh & 1) != 0)
                break;
        }
        if (checksum)
            pos += 4;
        if (!Buffered(pos))
            return -1;
        contentSize = (int)size;
        return pos;
    }

    // Makes at least `count` bytes from _inPos available in _in (growing and compacting it);
    // false if the input ends first.
    private bool Buffered(int count)
    {
        while (_inLen - _inPos < count)
        {
            if (_eof)
                return false;
            if (_in.Length - _inPos < count)
            {
                PageBuffer target = _in.Length >= count ? _in : new PageBuffer(Math.Max(count, 2 * _in.Length));
                _in.Slice(_inPos, _inLen - _inPos).CopyTo(target.Span); // may overlap: CopyTo is a memmove
                _inLen -= _inPos;
                _inPos = 0;
                if (target != _in)
                {
                    _in.Release();
                    _in = target;
                }
            }
            Fill();
        }
        return true;
    }

    // Reads more input after _inLen. The streaming decoder reads 16 KiB first, twice as much
    // each time after: reading the record of each saved venv (`kpy list`) needs a few hundred
    // bytes, and every 4 KiB page of the buffer that a read fills is a page fault (11 us here):
    // 256 KiB at once made a list of 31 venvs 40 ms, most of it in the kernel. The parallel
    // decoder, which reads whole frames ahead, fills all the room it has.
    private void Fill()
    {
        int want = Math.Min(_in.Length - _inLen, _readSize);
        if (_readSize < 1 << 29)
            _readSize *= 2; // soon the whole free part of the buffer, as large as it grows
        int n = _input.Read(_in.Span.Slice(_inLen, want));
        if (n == 0)
        {
            _eof = true;
            return;
        }
        _inLen += n;
        _sawInput = true;
    }

    private void StartWorker()
    {
        WorkQueue<Frame> work = _work!;
        var t = new Thread(() => WorkerLoop(work))
        {
            IsBackground = true,
            Name = "zstd-decompress",
        };
        _workers.Add(t);
        t.Start();
    }

    private static void WorkerLoop(WorkQueue<Frame> work)
    {
        DCtxHandle? dctx = null;
        try
        {
            while (work.TryTake(out Frame? f))
            {
                try
                {
                    dctx ??= DCtxHandle.Create();
                    f.Decode(dctx.Value);
                }
                catch (Exception e)
                {
                    f.Error = e;
                }
                finally
                {
                    f.Done.Set();
                }
            }
        }
        finally
        {
            dctx?.Dispose();
        }
    }

    private void StopWorkers()
    {
        if (_work == null)
            return;
        _work.CompleteAdding();
        // Workers finish the frames already queued; only then may their buffers be returned.
        foreach (Thread t in _workers)
            t.Join();
        _workers.Clear();
        _work = null;
    }

    // ---- errors, lifetime ----

    internal static InvalidDataException Corrupt(nuint code, bool atStart, bool afterFrames)
    {
        string name = ZstdNative.ErrorName(code);
        return ZstdNative.GetErrorCode(code) switch
        {
            ZstdNative.ErrorChecksumWrong =>
                new InvalidDataException($"zstd: corrupted data (checksum mismatch: {name})"),
            ZstdNative.ErrorPrefixUnknown when atStart =>
                new InvalidDataException($"zstd: not zstd data ({name})"),
            ZstdNative.ErrorPrefixUnknown when afterFrames =>
                new InvalidDataException($"zstd: corrupted data or trailing garbage after the last frame ({name})"),
            ZstdNative.ErrorWindowTooLarge =>
                new InvalidDataException($"zstd: frame needs a window above the 128 MiB decoder limit ({name})"),
            _ => new InvalidDataException($"zstd: corrupted data ({name})"),
        };
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault != null)
            throw new InvalidDataException(_fault.Message, _fault);
    }

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
            return;
        _disposed = true;
        if (disposing)
        {
            try
            {
                StopWorkers();
                foreach (Frame f in _all)
                    f.Release();
                _all.Clear();
                _in.Release();
                _dctx?.Dispose();
            }
            finally
            {
                if (!_leaveOpen)
                    _input.Dispose();
            }
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

    /// <summary>One whole frame and its decoded content.</summary>
    private sealed class Frame
    {
        public PageBuffer? Src;
        public int SrcLength;
        public PageBuffer? Dst;
        public int DstLength;
        public Exception? Error;
        public readonly ManualResetEventSlim Done = new(false, spinCount: 0);

        public void SetSource(ReadOnlySpan<byte> frame, int contentSize)
        {
            Src = Ensure(Src, frame.Length);
            frame.CopyTo(Src.Span);
            SrcLength = frame.Length;
            // At least one byte so the pointer below is never null, even for an empty frame.
            Dst = Ensure(Dst, Math.Max(1, contentSize));
            DstLength = contentSize;
            Error = null;
        }

        // Runs on a worker: one-shot decode, which verifies the checksum before returning.
        public unsafe void Decode(nint dctx)
        {
            nuint r;
            r = ZstdNative.DecompressDCtx(dctx, Dst!.Pointer, (nuint)DstLength, Src!.Pointer, (nuint)SrcLength);
            if (ZstdNative.Failed(r))
                throw Corrupt(r, atStart: false, afterFrames: false);
            if (r != (nuint)DstLength)
                throw new InvalidDataException("zstd: corrupted data (frame content size mismatch)");
        }

        private static PageBuffer Ensure(PageBuffer? buffer, int size)
        {
            if (buffer != null && buffer.Length >= size)
                return buffer;
            buffer?.Release();
            return new PageBuffer(size);
        }

        public void Release()
        {
            Src?.Release();
            Dst?.Release();
            Src = Dst = null;
            Done.Dispose();
        }
    }

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
