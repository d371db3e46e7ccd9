using System.Runtime.InteropServices;

namespace Kslurm.Archive;

/// <summary>
/// Write-only stream that zstd-compresses into <c>output</c> using several cores.
/// <para>
/// The static libzstd we link has no multithreading (ZSTD_c_nbWorkers is unsupported), so the
/// parallelism is pzstd-style: the input is cut into fixed-size chunks, every chunk becomes its
/// own complete zstd frame (with content size and XXH64 checksum) compressed on its own context
/// by a worker thread, and frames are written in input order. Concatenated frames are a valid
/// zstd stream for any decoder (`zstd -d`, Python, ...). For a given level and chunk size the
/// output is byte-identical whatever the thread count.
/// </para>
/// <para>
/// Memory is bounded: at most 2 x threads chunks, and never more than <see cref="MaxInFlight"/>, are in flight, each holding an input buffer of
/// up to <c>chunkSize</c> and an output buffer of up to ZSTD_compressBound(chunkSize), plus one
/// compression context per worker (a few MB at level 3, much more at levels 19+).
/// </para>
/// <para>
/// <see cref="Flush"/> deliberately does nothing: ending a frame on every Flush (tar writers
/// flush often) would wreck the ratio. All data is written out by <see cref="Dispose(bool)"/>,
/// which must be called; it throws if the last frames could not be compressed or written.
/// </para>
/// </summary>
public sealed class ZstdCompressStream : Stream
{
    public const int DefaultLevel = 3;
    public const int DefaultChunkSize = 4 << 20;
    /// <summary>Chunks in flight at most (the memory bound: about 2 x chunkSize each).</summary>
    public const int MaxInFlight = 6;

    private readonly Stream _output;
    private readonly bool _leaveOpen;
    private readonly int _level;
    private readonly int _threads;
    private readonly int _chunkSize;
    private readonly int _maxInFlight;

    // Owned by the caller's thread only (no locking): chunk being filled, chunks handed to the
    // workers in input order, and recycled chunks.
    private Chunk? _filling;
    private readonly Queue<Chunk> _pending = new();
    private readonly Stack<Chunk> _free = new();
    private readonly List<Chunk> _all = new();

    // Worker threads are started lazily, one per submitted chunk up to _threads, so a small
    // input costs no threads at all (it is compressed inline in Dispose).
    private WorkQueue<Chunk>? _work;
    private readonly List<Thread> _workers = new();

    private long _bytesIn;
    private int _framesOut;
    private Exception? _fault;
    private bool _disposed;

    /// <param name="output">Where the compressed frames go (written from the caller's thread).</param>
    /// <param name="level">zstd level (1..22, negative = fast modes, 0 = libzstd default).</param>
    /// <param name="threads">Worker threads; 0 means <see cref="Environment.ProcessorCount"/>.</param>
    /// <param name="chunkSize">Uncompressed bytes per frame. Larger: slightly better ratio and
    /// more memory; smaller: more parallelism on small inputs.</param>
    /// <param name="leaveOpen">Do not dispose <paramref name="output"/> on Dispose.</param>
    public ZstdCompressStream(Stream output, int level = DefaultLevel, int threads = 0,
        int chunkSize = DefaultChunkSize, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (!output.CanWrite)
            throw new ArgumentException("zstd: output stream is not writable", nameof(output));
        ArgumentOutOfRangeException.ThrowIfNegative(threads);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        // compressBound(chunkSize) must still fit in an array.
        ArgumentOutOfRangeException.ThrowIfGreaterThan(chunkSize, 1 << 30);
        if (level < ZstdNative.MinCLevel() || level > ZstdNative.MaxCLevel())
            throw new ArgumentOutOfRangeException(nameof(level), level,
                $"zstd: level must be between {ZstdNative.MinCLevel()} and {ZstdNative.MaxCLevel()}");

        _output = output;
        _leaveOpen = leaveOpen;
        _level = level;
        // Memory: every chunk in flight holds ~2 x chunkSize, so their number is capped whatever
        // the core count (6 workers at level 3 outrun any disk).
        _threads = Math.Min(threads == 0 ? Environment.ProcessorCount : threads, MaxInFlight);
        _chunkSize = chunkSize;
        // Two chunks per worker keeps every worker busy while the caller fills the next chunk
        // and writes finished ones.
        _maxInFlight = Math.Clamp(2 * _threads, 2, MaxInFlight);
    }

    /// <summary>Number of worker threads this stream may use.</summary>
    public int Threads => _threads;

    /// <summary>Uncompressed bytes per frame.</summary>
    public int ChunkSize => _chunkSize;

    /// <summary>Uncompressed bytes accepted so far.</summary>
    public long BytesIn => _bytesIn;

    /// <summary>Compresses all of <paramref name="input"/> (from its current position) into
    /// <paramref name="output"/>, reading straight into the chunk buffers.</summary>
    public static void Compress(Stream input, Stream output, int level = DefaultLevel, int threads = 0,
        int chunkSize = DefaultChunkSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var z = new ZstdCompressStream(output, level, threads, chunkSize, leaveOpen: true);
        z.WriteFrom(input);
    }

    /// <summary>Compresses file <paramref name="source"/> into a new file <paramref name="destination"/>
    /// (overwritten if it exists).</summary>
    public static void CompressFile(string source, string destination, int level = DefaultLevel,
        int threads = 0, int chunkSize = DefaultChunkSize)
    {
        using var input = new FileStream(source, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        using var output = new FileStream(destination, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Compress(input, output, level, threads, chunkSize);
    }

    /// <summary>Copies the rest of <paramref name="input"/> into this stream without an
    /// intermediate buffer (reads land directly in the chunk buffers).</summary>
    public void WriteFrom(Stream input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfUnusable();
        while (true)
        {
            Chunk c = _filling ??= RentChunk();
            if (c.Length == c.Capacity)
                c.Reserve(1, _chunkSize); // grows geometrically: small inputs stay small
            int n = input.Read(c.Input!.Slice(c.Length, Math.Min(c.Capacity, _chunkSize) - c.Length));
            if (n == 0)
                return;
            c.Length += n;
            _bytesIn += n;
            if (c.Length == _chunkSize)
                SubmitFilling();
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        ThrowIfUnusable();
        while (!buffer.IsEmpty)
        {
            Chunk c = _filling ??= RentChunk();
            int n = Math.Min(buffer.Length, _chunkSize - c.Length);
            c.Reserve(n, _chunkSize);
            buffer[..n].CopyTo(c.Input!.Span[c.Length..]);
            c.Length += n;
            _bytesIn += n;
            buffer = buffer[n..];
            if (c.Length == _chunkSize)
                SubmitFilling();
        }
    }

    public override void Write(byte[] buffer, int offset, int count)
    {
        ValidateBufferArguments(buffer, offset, count);
        Write(buffer.AsSpan(offset, count));
    }

    public override void WriteByte(byte value)
    {
        Chunk? c = _filling;
        if (c != null && c.Length < c.Capacity && c.Length < _chunkSize - 1 && !_disposed && _fault == null)
        {
            // Fast path: room in the current chunk and it will not become full.
            c.Input!.Span[c.Length++] = value;
            _bytesIn++;
            return;
        }
        Write(new ReadOnlySpan<byte>(in value));
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
    {
        // Work is CPU-bound on our threads; a synchronous copy is what callers get anyway.
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer, offset, count);
        return Task.CompletedTask;
    }

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Write(buffer.Span);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Ends the current frame here (if it holds anything): what was written so far becomes a
    /// frame of its own. kpy's archives end one after their leading record, so reading the
    /// record decodes (and checks) a few hundred bytes, not a whole 4 MiB chunk.
    /// </summary>
    public void EndFrame()
    {
        ThrowIfUnusable();
        if (_filling is { Length: > 0 })
            SubmitFilling();
    }

    /// <summary>Does nothing on purpose: see the class remarks.</summary>
    public override void Flush()
    {
    }

    public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    protected override void Dispose(bool disposing)
    {
        if (_disposed)
            return;
        _disposed = true;
        if (!disposing)
        {
            base.Dispose(disposing);
            return;
        }
        try
        {
            if (_fault == null)
                Finish();
        }
        finally
        {
            StopWorkers();
            foreach (Chunk c in _all)
                c.Release();
            _all.Clear();
            _free.Clear();
            _pending.Clear();
            _filling = null;
            if (!_leaveOpen)
                _output.Dispose();
            base.Dispose(disposing);
        }
    }

    // Compresses the last partial chunk, waits for all frames and writes them.
    private void Finish()
    {
        try
        {
            // An empty input still yields one (empty) frame: zero bytes is not a valid zstd
            // stream (`zstd -d` rejects it).
            bool noFrameYet = _framesOut == 0 && _pending.Count == 0;
            if (_filling is { Length: > 0 } || noFrameYet)
            {
                Chunk c = _filling ??= RentChunk();
                if (_work == null)
                {
                    // Nothing ever went to the workers: the whole input fits in one chunk.
                    // Compress it here rather than starting a thread for it.
                    _filling = null;
                    nint cctx = CreateCompressor(_level);
                    try
                    {
                        c.Compress(cctx);
                    }
                    finally
                    {
                        ZstdNative.FreeCCtx(cctx);
                    }
                    c.Error = null;
                    c.Done.Set();
                    _pending.Enqueue(c);
                }
                else
                {
                    SubmitFilling();
                }
            }
            while (_pending.Count > 0)
                WriteOldest();
            _output.Flush();
        }
        catch (Exception e)
        {
            Fail(e);
            throw;
        }
    }

    private Chunk RentChunk()
    {
        if (_free.Count > 0)
            return _free.Pop();
        if (_all.Count < _maxInFlight)
        {
            var c = new Chunk();
            _all.Add(c);
            return c;
        }
        // Every chunk is in flight: wait for the oldest, write it out, reuse it.
        WriteOldest();
        return _free.Pop();
    }

    private void SubmitFilling()
    {
        Chunk c = _filling!;
        _filling = null;
        c.Done.Reset();
        c.Error = null;
        _pending.Enqueue(c);
        _work ??= new WorkQueue<Chunk>(int.MaxValue); // bounded by the chunks in flight
        if (_workers.Count < _threads && _workers.Count < _pending.Count)
            StartWorker();
        _work.Add(c);
        // Opportunistically write whatever already finished, without waiting.
        while (_pending.Count > 0 && _pending.Peek().Done.IsSet)
            WriteOldest();
    }

    // Waits for the oldest chunk in flight and appends its frame to the output.
    private void WriteOldest()
    {
        Chunk c = _pending.Peek();
        c.Done.Wait();
        if (c.Error != null)
            throw Fail(new IOException($"zstd: compression failed ({c.Error})"));
        try
        {
            _output.Write(c.Output!.Slice(0, c.OutputLength));
        }
        catch (Exception e)
        {
            throw Fail(e);
        }
        _pending.Dequeue();
        _framesOut++;
        c.Length = 0;
        _free.Push(c);
    }

    private Exception Fail(Exception e)
    {
        _fault ??= e;
        return e;
    }

    private void StartWorker()
    {
        WorkQueue<Chunk> work = _work!;
        int level = _level;
        var t = new Thread(() => WorkerLoop(work, level))
        {
            IsBackground = true,
            Name = "zstd-compress",
        };
        _workers.Add(t);
        t.Start();
    }

    private static void WorkerLoop(WorkQueue<Chunk> work, int level)
    {
        nint cctx = 0;
        try
        {
            while (work.TryTake(out Chunk? c))
            {
                try
                {
                    if (cctx == 0)
                        cctx = CreateCompressor(level);
                    c.Compress(cctx);
                }
                catch (Exception e)
                {
                    c.Error = e.Message;
                }
                finally
                {
                    c.Done.Set();
                }
            }
        }
        finally
        {
            if (cctx != 0)
                ZstdNative.FreeCCtx(cctx);
        }
    }

    private void StopWorkers()
    {
        if (_work == null)
            return;
        _work.CompleteAdding();
        // Workers finish the chunks already queued (their buffers are returned to the pool
        // right after, so they must be done with them).
        foreach (Thread t in _workers)
            t.Join();
        _workers.Clear();
        _work = null;
    }

    internal static nint CreateCompressor(int level)
    {
        nint cctx = ZstdNative.CreateCCtx();
        if (cctx == 0)
            throw new OutOfMemoryException("zstd: cannot allocate a compression context");
        try
        {
            Check(ZstdNative.CCtxSetParameter(cctx, ZstdNative.CompressionLevel, level));
            Check(ZstdNative.CCtxSetParameter(cctx, ZstdNative.ChecksumFlag, 1));
            Check(ZstdNative.CCtxSetParameter(cctx, ZstdNative.ContentSizeFlag, 1));
        }
        catch
        {
            ZstdNative.FreeCCtx(cctx);
            throw;
        }
        return cctx;

        static void Check(nuint code)
        {
            if (ZstdNative.Failed(code))
                throw new IOException($"zstd: cannot set compression parameter ({ZstdNative.ErrorName(code)})");
        }
    }

    private void ThrowIfUnusable()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_fault != null)
            throw new IOException($"zstd: compression stream is unusable after an earlier error: {_fault.Message}", _fault);
    }

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => !_disposed;
    public override long Length => throw new NotSupportedException();
    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    /// <summary>One unit of work: an input chunk and the frame compressed from it. Buffers are
    /// sized to need (a small input never allocates a full chunk) and reused for later chunks;
    /// <see cref="PageBuffer"/>s, as they are touched whole.</summary>
    private sealed class Chunk
    {
        public PageBuffer? Input;
        public int Length;
        public PageBuffer? Output;
        public int OutputLength;
        public string? Error;
        public readonly ManualResetEventSlim Done = new(false, spinCount: 0);

        // Runs on a worker (or the caller for a single small chunk).
        public unsafe void Compress(nint cctx)
        {
            int bound = checked((int)ZstdNative.CompressBound((nuint)Length));
            if (Output == null || Output.Length < bound)
            {
                Output?.Release();
                Output = new PageBuffer(bound);
            }
            byte empty = 0; // a valid pointer for a zero-length input
            byte* src = Input != null ? Input.Pointer : &empty;
            nuint r = ZstdNative.Compress2(cctx, Output.Pointer, (nuint)Output.Length, src, (nuint)Length);
            if (ZstdNative.Failed(r))
                throw new IOException(ZstdNative.ErrorName(r));
            OutputLength = (int)r;
        }

        public int Capacity => Input?.Length ?? 0;

        // Makes room for `count` more bytes, growing geometrically up to the chunk size.
        public void Reserve(int count, int chunkSize)
        {
            int need = Length + count;
            if (need <= Capacity)
                return;
            int size = Math.Min(chunkSize, Math.Max(need, Math.Max(64 << 10, 2 * Capacity)));
            var bigger = new PageBuffer(size);
            Input?.Slice(0, Length).CopyTo(bigger.Span);
            Input?.Release();
            Input = bigger;
        }

        // Only once no worker can touch the chunk (after StopWorkers).
        public void Release()
        {
            Input?.Release();
            Output?.Release();
            Input = Output = null;
            Done.Dispose();
        }
    }
}
