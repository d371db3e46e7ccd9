namespace Kslurm.Archive;

/// <summary>
/// A bounded blocking queue whose waiting threads sleep in the kernel at once. The framework's
/// BlockingCollection waits through SemaphoreSlim, which spins (sched_yield) before sleeping:
/// with one hand-off per file that spinning took CPU from the file-system work it waited for
/// (2-4 sched_yield per file in a load). <see cref="Close"/> wakes everyone (errors, cancel).
/// </summary>
internal sealed class WorkQueue<T>(int capacity)
{
    private readonly Queue<T> _items = new();
    private readonly object _lock = new();
    private bool _completed, _closed;
    private int _takersWaiting, _addersWaiting; // wake-ups only when someone sleeps: each one is a futex call

    /// <summary>Whether a consumer is idle right now (a producer may hand over a partial batch).</summary>
    public bool Starved => Volatile.Read(ref _takersWaiting) > 0;

    /// <summary>Waits for room; false when the queue was closed (nothing was added).</summary>
    public bool Add(T item)
    {
        lock (_lock)
        {
            while (_items.Count >= capacity && !_closed)
            {
                _addersWaiting++;
                Monitor.Wait(_lock);
                _addersWaiting--;
            }
            if (_closed || _completed)
                return false;
            _items.Enqueue(item);
            if (_takersWaiting > 0)
                Monitor.Pulse(_lock);
            return true;
        }
    }

    /// <summary>Waits for an item; false once the queue is complete and empty, or closed.</summary>
    public bool TryTake(out T item)
    {
        lock (_lock)
        {
            while (_items.Count == 0 && !_completed && !_closed)
            {
                _takersWaiting++;
                Monitor.Wait(_lock);
                _takersWaiting--;
            }
            if (_closed || _items.Count == 0)
            {
                item = default!;
                return false;
            }
            item = _items.Dequeue();
            if (_addersWaiting > 0)
                Monitor.Pulse(_lock);
            return true;
        }
    }

    /// <summary>No more items: takers drain what is queued, then stop.</summary>
    public void CompleteAdding()
    {
        lock (_lock)
        {
            _completed = true;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Stops everything now: waiting producers and consumers return false; the items
    /// still queued are returned for clean-up.</summary>
    public List<T> Close()
    {
        lock (_lock)
        {
            _closed = true;
            var left = new List<T>(_items);
            _items.Clear();
            Monitor.PulseAll(_lock);
            return left;
        }
    }
}
