using System.Buffers;
using Kslurm.Files;

namespace Kslurm.Archive;

/// <summary>
/// A big buffer of the archive pipelines (the file ring, zstd frames) in memory of its own,
/// asking the kernel for transparent huge pages. Why: a load touches tens of MB of fresh buffer
/// memory once; with 4 KiB pages that is one page fault per 4 KiB, which costs 11 us on a VM
/// that hands freed pages back to its host (a third of a small venv's load; `tar` touches almost
/// none). One 2 MiB page makes it one fault, when the system's THP setting is `madvise` or
/// `always`; with `never` it is ordinary memory. No finalizer: a span of it may outlive the last
/// reference to the object, so the owner releases it once no thread can use it any more.
/// </summary>
internal sealed unsafe class PageBuffer : MemoryManager<byte>
{
    private const nuint HugePage = 2 << 20;
    private const nuint SmallPage = 4096;
    /// <summary>From this size on a buffer is rounded up to whole huge pages.</summary>
    private const int HugeFrom = 1 << 20;

    private byte* _map;
    private readonly nuint _mapLength;
    private readonly byte* _start;

    /// <summary>At least <paramref name="length"/> bytes; <see cref="Length"/> may be more (whole pages).</summary>
    public PageBuffer(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(length);
        bool huge = length >= HugeFrom;
        nuint page = huge ? HugePage : SmallPage;
        nuint size = ((nuint)length + page - 1) & ~(page - 1);
        // Room to start on a 2 MiB boundary: only whole, aligned 2 MiB ranges become huge pages.
        _mapLength = huge ? size + HugePage : size;
        void* map = Libc.Mmap(null, _mapLength, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_PRIVATE | Libc.MAP_ANONYMOUS, -1, 0);
        if (map == (void*)-1)
            throw new OutOfMemoryException($"cannot map {length} bytes of buffer memory");
        _map = (byte*)map;
        _start = huge ? (byte*)(((nuint)map + HugePage - 1) & ~(HugePage - 1)) : _map;
        if (huge)
            Libc.Madvise(_start, size, Libc.MADV_HUGEPAGE); // a hint: where THP is off it fails, and nothing changes
        Length = (int)size;
    }

    public int Length { get; }

    public byte* Pointer => _map != null ? _start : throw new ObjectDisposedException(nameof(PageBuffer));

    public Span<byte> Span => new(Pointer, Length);

    public Span<byte> Slice(int offset, int length) => Span.Slice(offset, length);

    public override Span<byte> GetSpan() => Span;

    public override MemoryHandle Pin(int elementIndex = 0) => new(Pointer + elementIndex);

    public override void Unpin()
    {
    }

    /// <summary>Unmaps the memory now; only once no thread can still use it.</summary>
    public void Release() => ((IDisposable)this).Dispose();

    protected override void Dispose(bool disposing)
    {
        byte* map = _map;
        _map = null;
        if (map != null)
            Libc.Munmap(map, _mapLength);
    }
}
