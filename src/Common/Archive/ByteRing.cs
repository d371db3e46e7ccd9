namespace Kslurm.Archive;

/// <summary>
/// One fixed buffer from which file contents in flight are cut, in order, and given back in any
/// order. It is the memory bound of the archive pipelines: the content held never exceeds its
/// size and nothing is allocated per file (the shared ArrayPool kept every size it had ever
/// handed out, per thread and per core: 160-260 MB peak for a venv). The memory is a
/// <see cref="PageBuffer"/> (huge pages: the ring is touched whole by any load of a few MB).
/// </summary>
internal sealed unsafe class ByteRing
{
    private readonly PageBuffer _buffer;
    private readonly object _lock = new();
    // Reserved pieces, oldest first, by their end; the oldest one's number is _oldest. Pieces
    // given back out of order wait in _free until every older one is back too.
    private readonly Queue<long> _ends = new();
    private readonly HashSet<long> _free = new();
    private long _oldest, _next; // numbers of the oldest piece held and of the next one
    private long _head, _tail; // bytes reserved / given back since the start (positions mod length)
    private bool _closed;
    private int _waiting;

    public ByteRing(int size) => _buffer = new PageBuffer(size);

    public int Size => _buffer.Length;

    public Span<byte> Span(Slot slot) => _buffer.Slice(slot.Offset, slot.Length);

    public Memory<byte> Memory(Slot slot) => _buffer.Memory.Slice(slot.Offset, slot.Length);

    /// <summary>A read-only stream over a slot's bytes; valid until the slot is released.</summary>
    public Stream Stream(Slot slot, int length) => new UnmanagedMemoryStream(_buffer.Pointer + slot.Offset, length);

    /// <summary>A piece of the ring: <see cref="Offset"/> and <see cref="Length"/> in its buffer.
    /// A struct: one is reserved per file, and an object each was garbage to collect.</summary>
    public readonly struct Slot(int offset, int length, long number)
    {
        public int Offset { get; } = offset;
        public int Length { get; } = length;
        internal long Number { get; } = number;
    }

    /// <summary>Waits until <paramref name="length"/> contiguous bytes (at most <see cref="Size"/>)
    /// are free; null when the ring was closed.</summary>
    public Slot? Reserve(int length)
    {
        if (length > _buffer.Length)
            throw new ArgumentOutOfRangeException(nameof(length));
        lock (_lock)
        {
            while (true)
            {
                if (_closed)
                    return null;
                int at = (int)(_head % _buffer.Length);
                // A piece never wraps: the bytes left at the end are skipped (counted in this slot).
                int skip = at + length > _buffer.Length ? _buffer.Length - at : 0;
                if (_head + skip + length - _tail <= _buffer.Length)
                {
                    _head += skip + length;
                    _ends.Enqueue(_head);
                    return new Slot(skip > 0 ? 0 : at, length, _next++);
                }
                _waiting++;
                Monitor.Wait(_lock);
                _waiting--;
            }
        }
    }

    /// <summary>Gives pieces back (any order); the space is reused once everything before it is back too.</summary>
    public void Release(params ReadOnlySpan<Slot> slots)
    {
        lock (_lock)
        {
            foreach (Slot s in slots)
                _free.Add(s.Number);
            bool moved = false;
            while (_free.Remove(_oldest))
            {
                _tail = _ends.Dequeue();
                _oldest++;
                moved = true;
            }
            if (moved && _waiting > 0)
                Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Unmaps the memory: only after every thread that used the ring has stopped.</summary>
    public void Free() => _buffer.Release();

    /// <summary>Wakes and fails every waiting <see cref="Reserve"/> (errors, cancel).</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
            Monitor.PulseAll(_lock);
        }
    }
}
