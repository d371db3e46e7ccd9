using System.Buffers;
using System.Formats.Tar;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using Kslurm.Files;

namespace Kslurm.Archive;

/// <summary>
/// The safe extraction loop behind <see cref="TreeArchive.Extract"/>.
/// <para>
/// Safety rests on one fact: the target folder starts empty and only this code writes to it, so
/// an in-memory map of everything extracted so far is the truth about the tree. Every entry's
/// parents are checked against that map (never against the disk), so nothing is ever written
/// through a symlink, including one the archive itself declared earlier. Symlinks and hard
/// links are created only at the end, after all file contents are written and after every
/// symlink has been re-checked against the complete map (a link that looked harmless may lead
/// out once a later link is known: `d/x -> s/../../y` followed by `d/s -> ..`).
/// </para>
/// <para>
/// Threads: the caller's thread reads the tar stream (the zstd decoder has its own workers),
/// creates directories and hands small files, in batches, to writer threads through a bounded
/// queue; their contents are cut from one <see cref="RingSize"/> buffer, which bounds the memory
/// in flight. Files above <see cref="InRingLimit"/> are streamed to disk by the reading thread
/// (and then read back by <see cref="ExtractOptions.TransformLarge"/>, a chunk at a time). No thread ever spins: waits sleep in the kernel, so the CPU
/// goes to the file system, whose cost per created file is what a load is made of. Directories
/// are created owner-writable and get their real mode and mtime last, deepest first, as GNU
/// tar does.
/// </para>
/// <para>
/// Modes are those GNU tar gives a normal user, for root too: the umask applies, and setuid and
/// setgid never survive (nor sticky on a file), so an archive planted in a shared folder cannot
/// hand whoever unpacks it a setuid program or a world-writable file. A folder keeps its sticky
/// bit, and the setgid bit it inherits from a setgid parent (a lab's group folder).
/// </para>
/// </summary>
internal sealed class TreeExtractor
{
    public const int RingSize = 8 << 20; // one writer: 8 MiB keeps it busy (16 MiB was for several)
    public const int InRingLimit = 2 << 20;
    private const int BatchFiles = 16, BatchBytes = 256 << 10; // per hand-off to a writer
    private const int MaxSymlinkHops = 40; // Linux's own limit (ELOOP)
    private const string Hint = "only archives of a folder made by kpy or tar can be loaded; this one is damaged or was crafted";

    private enum Kind { Directory, File, Symlink }

    private sealed class Node(Kind kind)
    {
        public readonly Kind Kind = kind;
        public string? LinkTarget;      // symlinks
        public bool External;           // symlink to an absolute target the caller approved
        public int DirIndex = -1;       // directories declared by the archive: index in _dirs
        // Directories: their entries by name. A tree of names rather than one map of full paths:
        // with 200,000 entries the paths alone took ~40 MB, the names take a fifth of that, and a
        // parent is found by walking names instead of hashing every prefix of the path.
        public readonly Dictionary<string, Node>? Children = kind == Kind.Directory ? new(StringComparer.Ordinal) : null;
    }

    // Every file is the same leaf (nothing about a file is looked up but that it is one).
    private static readonly Node FileNode = new(Kind.File);

    private sealed record DirMeta(string Rel, UnixFileMode Mode, long Seconds, long Nanoseconds);
    private sealed record LinkMeta(string Rel, string Target, long Seconds, long Nanoseconds);
    // A struct, as its Slot: one per file or folder, handed to the writer in a batch (an object
    // each was garbage to collect). Name is its name in its folder (the key already made for
    // the tree), Full its whole path, for the folder and for messages.
    private readonly struct WriteJob(string rel, string name, string full, ByteRing.Slot? slot, UnixFileMode mode, long seconds, long nanoseconds, bool folder = false)
    {
        public readonly string Rel = rel, Name = name, Full = full;
        public readonly ByteRing.Slot? Slot = slot;
        public readonly UnixFileMode Mode = mode;
        public readonly long Seconds = seconds, Nanoseconds = nanoseconds;
        public readonly bool Folder = folder;
    }

    private readonly string _target;
    private readonly ExtractOptions _options;
    private readonly string _archive;
    private readonly UnixFileMode _umask = PosixIo.Umask();
    private readonly Node _tree = new(Kind.Directory); // the target folder
    private string _lastParent = "";                    // entries come folder by folder: the last
    private Node? _lastParentNode;                      // parent checked, reused while it repeats
    private readonly HashSet<string> _excluded = new(StringComparer.Ordinal);
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>> _excludedSpans;
    private readonly List<DirMeta?> _dirs = new();
    private readonly List<LinkMeta> _symlinks = new();
    private readonly List<(string Rel, string Target)> _hardlinks = new();
    private DirMeta? _rootMeta;

    private readonly WorkQueue<List<WriteJob>> _batches = new(64);
    private readonly ByteRing _ring = new(RingSize);
    private List<WriteJob> _batch = new(BatchFiles);
    private readonly System.Collections.Concurrent.ConcurrentQueue<List<WriteJob>> _spareBatches = new(); // written ones, for reuse
    private int _batchBytes;
    private Thread? _writer;
    private ExceptionDispatchInfo? _writeError; // first failure of the writer thread
    private readonly object _drained = new();   // pulsed when the writer finishes a batch or fails
    private long _batchesOut, _batchesDone;

    private long _files, _dirCount, _bytes;
    private string? _lastEntry, _entry; // for messages: the entry being read and the one before it
    private bool _ended;                // the end-of-archive marker was read

    // Which part of the archive is being read (for messages; built only when one is needed).
    private string Where => _ended ? "after the end-of-archive marker"
        : _entry != null ? $"in entry '{_entry}'"
        : _lastEntry == null ? "before the first entry" : $"after entry '{_lastEntry}'";

    public TreeExtractor(string targetDir, ExtractOptions options)
    {
        _target = Path.GetFullPath(targetDir).TrimEnd('/');
        _options = options;
        _archive = options.ArchiveName ?? "archive";
        _excludedSpans = _excluded.GetAlternateLookup<ReadOnlySpan<char>>();
    }

    public ArchiveStats Run(Stream tar)
    {
        if (!Directory.Exists(_target)) // follows a symlink: the target folder itself may be one
            throw new KslurmException($"cannot extract into {_target}: not a directory");
        if (Directory.EnumerateFileSystemEntries(_target).Any())
            throw new KslurmException($"cannot extract into {_target}: the folder is not empty");

        // One thread creates everything, folders too, in archive order, as tar does. On ext4
        // without a journal, right after a large delete, every create scans the group's recently
        // freed inodes, and two threads creating at once pick the same inode, so the loser scans
        // again holding the group's spinlock while the other spins on it: parallel creates ran
        // 5-15x slower than tar there (51 s vs 3.1 s); the reader making the folders while the
        // writer made the files was the same race. The reader still overlaps with the writer.
        _writer = new Thread(WriteLoop) { IsBackground = true, Name = "archive-write" };
        _writer.Start();
        try
        {
            ReadAll(tar);
            HandOver();
            StopWriter();
            _writeError?.Throw();
            return Finish();
        }
        catch (IOException e)
        {
            // Our own file-system calls: their messages name the path.
            throw new KslurmException(e.Message, inner: e);
        }
        finally
        {
            // On failure: the writer stops at once, a reader waiting for ring space wakes up.
            _batches.Close();
            _ring.Close();
            StopWriter();
            _ring.Free();
        }
    }

    // ---- reading the archive (caller's thread) ----

    private void ReadAll(Stream tar)
    {
        var input = new PositionStream(tar);
        using var reader = new TarReader(input, leaveOpen: true);
        long headerAt = 0;
        while (true)
        {
            Volatile.Read(ref _writeError)?.Throw();
            _entry = null;
            input.Capture(headerAt);
            // Not through ReadArchive: a delegate per entry was garbage to collect.
            TarEntry? entry;
            try
            {
                entry = reader.GetNextEntry(copyData: false);
                input.CheckHeaders();
            }
            catch (Exception e) when (IsReadError(e))
            {
                throw ReadError(e);
            }
            if (entry == null)
                break;
            // .NET decodes names as UTF-8, replacing what is not: the file would be created under
            // another name. kpy's save refuses such names too (one policy, and nothing renamed).
            if (input.NotUtf8 is { } raw)
                throw Refuse(raw, "the name is not valid UTF-8 (kpy archives need UTF-8 names)");
            _entry = entry.Name;
            Handle(entry);
            _lastEntry = entry.Name;
            // Everything of this entry has been consumed: the next header starts at the next block.
            headerAt = (input.Position + 511) & ~511L;
        }
        // A stream that just stops (a zstd file cut at a frame boundary, a gzip file that ends
        // early) must not pass for a complete archive: only the end-of-archive block proves
        // nothing is missing. (TarReader throws EndOfStreamException there today; this check
        // does not rely on it.)
        if (input.Position < headerAt + 512)
            throw new KslurmException(
                $"{_archive}: truncated archive: the data ends {(_lastEntry == null ? "before the first entry" : $"after entry '{_lastEntry}'")} without the end-of-archive marker",
                "the file is incomplete (interrupted copy or save?); save the environment again");
        // Reading to the end makes the decompressor verify the last frame's checksum.
        _ended = true;
        ReadArchive(() =>
        {
            input.CopyTo(Stream.Null);
            return 0;
        });
    }

    private T ReadArchive<T>(Func<T> read)
    {
        try
        {
            return read();
        }
        catch (Exception e) when (IsReadError(e))
        {
            throw ReadError(e);
        }
    }

    // A failure of the tar reader or the decompressor, which must become a message naming the
    // archive and the place in it; ours, a cancel and out-of-memory pass as they are.
    private static bool IsReadError(Exception e)
        => e is not KslurmException and not OperationCanceledException and not OutOfMemoryException;

    private KslurmException ReadError(Exception e) => e is EndOfStreamException
        ? new KslurmException($"{_archive}: truncated archive: the data ends {Where}",
            "the file is incomplete (interrupted copy or save?); save the environment again", inner: e)
        : new KslurmException($"{_archive}: damaged archive ({Where}): {e.Message}",
            "the file is corrupt or incomplete; save the environment again", inner: e);

    private KslurmException Refuse(string name, string why)
        => new($"{_archive}: refusing entry '{name}': {why}; nothing more was extracted", Hint);

    private void Handle(TarEntry entry)
    {
        string name = entry.Name;
        TarEntryType type = entry.EntryType;
        if (type == TarEntryType.GlobalExtendedAttributes)
        {
            Skip(entry);
            return;
        }
        string rel = ArchivePath.IsRoot(name) ? "" : ArchivePath.Normalise(name)
            ?? throw Refuse(name, name.StartsWith('/') ? "absolute path" : "path leads out of the target folder");

        if (rel.Length == 0)
        {
            // The archived folder itself ("./" of `tar -C dir .`, "/" of Python's tarfile): the
            // target folder's own mode and time.
            if (type != TarEntryType.Directory)
                throw Refuse(name, "the archive root is not a directory");
            (long rootSec, long rootNsec) = MTime(entry);
            _rootMeta = new DirMeta("", DirMode(entry.Mode), rootSec, rootNsec);
            return;
        }
        if (IsExcluded(rel))
        {
            Skip(entry);
            return;
        }
        Node parent = CheckParents(rel, name);
        string leaf = rel[(rel.LastIndexOf('/') + 1)..];
        if (parent.Children!.TryGetValue(leaf, out Node? existing) && !(type == TarEntryType.Directory && existing.Kind == Kind.Directory))
            throw Refuse(name, "appears twice in the archive");

        switch (type)
        {
            case TarEntryType.Directory:
                (long dirSec, long dirNsec) = MTime(entry);
                var meta = new DirMeta(rel, DirMode(entry.Mode), dirSec, dirNsec);
                if (existing != null)
                {
                    if (existing.DirIndex < 0)
                    {
                        existing.DirIndex = _dirs.Count;
                        _dirs.Add(meta);
                        _dirCount++;
                    }
                    else
                    {
                        _dirs[existing.DirIndex] = meta;
                    }
                    break;
                }
                // Owner-writable until the end, so that a read-only directory can be filled.
                AddFolder(rel, leaf, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                parent.Children[leaf] = new Node(Kind.Directory) { DirIndex = _dirs.Count };
                _dirs.Add(meta);
                _dirCount++;
                break;

            case TarEntryType.RegularFile:
            case TarEntryType.V7RegularFile:
            case TarEntryType.ContiguousFile:
                parent.Children[leaf] = FileNode;
                ExtractFile(entry, rel, leaf);
                break;

            case TarEntryType.HardLink:
                string? linkRel = ArchivePath.Normalise(entry.LinkName);
                if (string.IsNullOrEmpty(linkRel))
                    throw Refuse(name, $"hard link to '{entry.LinkName}', outside the target folder");
                if (Find(linkRel) is not { Kind: Kind.File })
                {
                    if (IsExcluded(linkRel))
                        return; // its content was excluded, so is this name
                    throw Refuse(name, $"hard link to '{entry.LinkName}', which is not a file extracted before it");
                }
                parent.Children[leaf] = FileNode;
                _hardlinks.Add((rel, linkRel));
                break;

            case TarEntryType.SymbolicLink:
                parent.Children[leaf] = AddSymlink(entry, rel, name);
                break;

            case TarEntryType.CharacterDevice:
            case TarEntryType.BlockDevice:
                throw Refuse(name, "a device node");
            case TarEntryType.Fifo:
                throw Refuse(name, "a fifo");
            default:
                throw Refuse(name, $"unsupported entry type {type}");
        }
    }

    private UnixFileMode DirMode(UnixFileMode stored)
        => stored & (ArchivePath.PermissionBits | UnixFileMode.StickyBit) & ~_umask;

    private bool IsExcluded(string rel)
    {
        if (_options.Exclude == null)
            return false;
        // Is a folder above it excluded? Looked up by span: no substring per level and entry.
        if (_excluded.Count > 0)
            for (int slash = rel.IndexOf('/'); slash >= 0; slash = rel.IndexOf('/', slash + 1))
                if (_excludedSpans.Contains(rel.AsSpan(0, slash)))
                    return true;
        if (!_options.Exclude(rel))
            return false;
        _excluded.Add(rel);
        return true;
    }

    private void Skip(TarEntry entry)
    {
        if (entry.DataStream != null)
            ReadArchive(() =>
            {
                entry.DataStream.CopyTo(Stream.Null);
                return 0;
            });
    }

    // Every parent must be a directory of this extraction; missing ones are created like tar
    // does (mode 0777 minus umask), anything else means writing through a symlink or a file.
    // Returns the parent's node. A directory's node never changes kind (a second entry of the
    // same name is refused), so a parent checked once stays good.
    private Node CheckParents(string rel, string name)
    {
        int last = rel.LastIndexOf('/');
        if (last < 0)
            return _tree;
        if (_lastParentNode != null && rel.AsSpan(0, last).SequenceEqual(_lastParent))
            return _lastParentNode;
        Node dir = _tree;
        for (int start = 0, slash = rel.IndexOf('/'); slash >= 0; start = slash + 1, slash = rel.IndexOf('/', start))
        {
            var children = dir.Children!.GetAlternateLookup<ReadOnlySpan<char>>();
            if (children.TryGetValue(rel.AsSpan(start, slash - start), out Node? node))
            {
                if (node.Kind == Kind.Symlink)
                    throw Refuse(name, $"it would be written through the symlink '{rel[..slash]}'");
                if (node.Kind == Kind.File)
                    throw Refuse(name, $"its parent '{rel[..slash]}' is a file");
                dir = node;
                continue;
            }
            string part = rel[start..slash];
            AddFolder(rel[..slash], part, (UnixFileMode)0x1FF); // minus the umask, as tar
            node = new Node(Kind.Directory);
            dir.Children[part] = node;
            dir = node;
        }
        _lastParent = rel[..last];
        _lastParentNode = dir;
        return dir;
    }

    /// <summary>The node at a relative path ('/'-separated, no "." or ".."), or null when
    /// nothing is there; a path through a symlink or a file leads nowhere.</summary>
    private Node? Find(string rel)
    {
        Node? node = _tree;
        foreach (Range part in rel.AsSpan().Split('/'))
        {
            if (node?.Children == null)
                return null;
            ReadOnlySpan<char> c = rel.AsSpan()[part];
            if (c.IsEmpty)
                continue;
            node = node.Children.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(c, out Node? child) ? child : null;
        }
        return node;
    }

    private void ExtractFile(TarEntry entry, string rel, string name)
    {
        string full = _target + "/" + rel;
        long size = entry.Length;
        UnixFileMode mode = entry.Mode & ArchivePath.PermissionBits & ~_umask;
        (long sec, long nsec) = MTime(entry);
        _files++;
        _bytes += size;
        Stream? data = entry.DataStream;
        if (size <= InRingLimit)
        {
            ByteRing.Slot? slot = null;
            if (size > 0)
            {
                slot = _ring.Reserve((int)size);
                if (slot == null)
                {
                    Volatile.Read(ref _writeError)?.Throw();
                    throw new OperationCanceledException();
                }
                try
                {
                    // Not through ReadArchive: a closure and a delegate per file were garbage.
                    try
                    {
                        (data ?? throw new EndOfStreamException("entry without data")).ReadExactly(_ring.Span(slot.Value));
                    }
                    catch (Exception e) when (IsReadError(e))
                    {
                        throw ReadError(e);
                    }
                }
                catch
                {
                    _ring.Release(slot.Value);
                    throw;
                }
            }
            _batch.Add(new WriteJob(rel, name, full, slot, mode, sec, nsec));
            _batchBytes += (int)size;
            if (_batch.Count >= BatchFiles || _batchBytes >= BatchBytes)
                HandOver();
            return;
        }

        StreamLarge(data, size, rel, full, mode, sec, nsec);
    }

    // A large file: streamed on this thread, never held in memory, once the writer has made
    // its folder. (A method of its own: the closures below would otherwise be allocated for
    // every file.)
    private void StreamLarge(Stream? data, long size, string rel, string full, UnixFileMode mode, long sec, long nsec)
    {
        Drain();
        int fd = PosixIo.Create(full, mode);
        byte[] chunk = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            long left = size;
            while (left > 0)
            {
                int n = ReadArchive(() => data!.Read(chunk, 0, (int)Math.Min(chunk.Length, left)));
                if (n == 0)
                    ReadArchive<int>(() => throw new EndOfStreamException());
                PosixIo.Write(fd, chunk.AsSpan(0, n), full);
                left -= n;
            }
            if (!TransformedLarge(rel, full, mode))
                PosixIo.FSetMTime(fd, sec, nsec, full);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
            PosixIo.Close(fd, full);
        }
    }

    // Shows a large written file to TransformLarge, read back from the page cache a chunk at a
    // time; new content goes to a temporary name (one no entry has so far, gone before the next
    // entry is read) that then replaces the file, with a fresh mtime.
    private bool TransformedLarge(string rel, string full, UnixFileMode mode)
    {
        if (_options.TransformLarge is not { } transform)
            return false;
        string tempRel = rel + ".~new";
        while (Find(tempRel) != null)
            tempRel += "~";
        string temp = _target + "/" + tempRel;
        FileStream? output = null;
        try
        {
            bool changed;
            using (var input = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan))
                changed = transform(rel, input, () => output = new FileStream(temp, new FileStreamOptions
                {
                    Mode = FileMode.CreateNew,
                    Access = FileAccess.Write,
                    UnixCreateMode = mode,
                    BufferSize = 0,
                }));
            if (!changed || output == null)
                return false;
            output.Dispose();
            output = null;
            File.Move(temp, full, overwrite: true);
            return true;
        }
        finally
        {
            if (output != null)
            {
                output.Dispose();
                File.Delete(temp);
            }
            else if (File.Exists(temp))
                File.Delete(temp);
        }
    }

    // A folder is made by the writer, in order with the files (see Run).
    private void AddFolder(string rel, string name, UnixFileMode mode)
    {
        _batch.Add(new WriteJob(rel, name, _target + "/" + rel, null, mode, 0, 0, folder: true));
        if (_batch.Count >= BatchFiles)
            HandOver();
    }

    // Gives the entries read so far to the writer thread.
    private void HandOver()
    {
        if (_batch.Count == 0)
            return;
        if (!_batches.Add(_batch))
        {
            _ring.Release(_batch.Where(j => j.Slot != null).Select(j => j.Slot!.Value).ToArray());
            Volatile.Read(ref _writeError)?.Throw();
            throw new OperationCanceledException();
        }
        _batchesOut++;
        _batch = _spareBatches.TryDequeue(out List<WriteJob>? spare) ? spare : new List<WriteJob>(BatchFiles);
        _batchBytes = 0;
    }

    // Hands over what was read and waits until the writer has made all of it.
    private void Drain()
    {
        HandOver();
        lock (_drained)
            while (Volatile.Read(ref _batchesDone) < _batchesOut && Volatile.Read(ref _writeError) == null)
                Monitor.Wait(_drained);
        Volatile.Read(ref _writeError)?.Throw();
    }

    private Node AddSymlink(TarEntry entry, string rel, string name)
    {
        string stored = entry.LinkName;
        if (stored.Length == 0)
            throw Refuse(name, "symlink with an empty target");
        string target = stored;
        bool external = false;
        if (stored.StartsWith('/') || !StaysInside(rel, stored))
        {
            // Absolute, or relative but leading out: only the caller's policy can allow it. The
            // link is then data like any other; what keeps the extraction safe is that nothing
            // is ever written through a link (CheckParents), wherever it points.
            string? decided = _options.Symlink?.Invoke(rel, stored);
            if (string.IsNullOrEmpty(decided))
                throw Refuse(name, $"symlink to '{stored}', outside the target folder");
            target = decided;
            external = target.StartsWith('/') || !StaysInside(rel, target);
        }
        (long sec, long nsec) = MTime(entry);
        _symlinks.Add(new LinkMeta(rel, target, sec, nsec));
        return new Node(Kind.Symlink) { LinkTarget = target, External = external };
    }

    /// <summary>
    /// Whether a relative symlink target, followed from the link's folder the way the kernel
    /// would in the finished tree (through the symlinks known so far), stays in the tree. Names
    /// not in the map are taken literally. A caller-approved absolute link may be the end of the
    /// path but not be passed through.
    /// </summary>
    private bool StaysInside(string linkRel, string target)
    {
        var path = new List<string>(ArchivePath.Parent(linkRel).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var todo = new Stack<string>(); // components still to walk, next on top
        PushComponents(todo, target);
        int hops = 0;
        while (todo.Count > 0)
        {
            string c = todo.Pop();
            if (c == ".")
                continue;
            if (c == "..")
            {
                if (path.Count == 0)
                    return false;
                path.RemoveAt(path.Count - 1);
                continue;
            }
            path.Add(c);
            if (Find(string.Join('/', path)) is not { Kind: Kind.Symlink } node)
                continue;
            if (++hops > MaxSymlinkHops)
                return true; // the kernel gives up here too: nothing is reached through this chain
            if (node.External)
                return todo.Count == 0;
            path.RemoveAt(path.Count - 1);
            PushComponents(todo, node.LinkTarget!);
        }
        return true;
    }

    private static void PushComponents(Stack<string> todo, string target)
    {
        string[] parts = target.Split('/', StringSplitOptions.RemoveEmptyEntries);
        for (int i = parts.Length - 1; i >= 0; i--)
            todo.Push(parts[i]);
    }

    // ---- writer threads ----

    private void WriteLoop()
    {
        var done = new List<ByteRing.Slot>(BatchFiles);
        // Files come folder by folder: each is created relative to its folder's handle, kept
        // while the folder repeats. The full path made the kernel walk every component again
        // for every file (a fifth of the writer's time on 200,000 files). No component is a
        // symlink: links are created only after every file is written.
        var folder = new Folder(_target);
        try
        {
            while (_batches.TryTake(out List<WriteJob>? batch))
            {
                foreach (WriteJob job in batch)
                {
                    try
                    {
                        if (_writeError == null && job.Folder)
                            PosixIo.MkDirAt(folder.For(job.Full), job.Name, job.Mode, job.Full);
                        else if (_writeError == null)
                            WriteFile(job, folder);
                    }
                    catch (Exception e)
                    {
                        if (Interlocked.CompareExchange(ref _writeError, ExceptionDispatchInfo.Capture(e), null) == null)
                        {
                            // The reader may be waiting for room in the ring or the queue, or in Drain.
                            _batches.Close();
                            _ring.Close();
                            lock (_drained)
                                Monitor.PulseAll(_drained);
                        }
                    }
                    if (job.Slot is { } slot)
                        done.Add(slot);
                }
                _ring.Release(CollectionsMarshal.AsSpan(done));
                done.Clear();
                batch.Clear();
                _spareBatches.Enqueue(batch);
                lock (_drained)
                {
                    _batchesDone++;
                    Monitor.PulseAll(_drained);
                }
            }
        }
        finally
        {
            folder.Close();
        }
    }

    // The writer's open folder.
    private sealed class Folder(string target)
    {
        private string _path = "";
        private int _fd = -1;

        // The handle of the folder of FULL (its path compared as a span: no string per file).
        public int For(string full)
        {
            int slash = full.LastIndexOf('/');
            if (_fd < 0 || !full.AsSpan(0, slash).SequenceEqual(_path))
            {
                Close();
                _path = full[..slash];
                _fd = PosixIo.OpenDirectory(_path, follow: _path == target); // the target itself may be a symlink
            }
            return _fd;
        }

        public void Close()
        {
            if (_fd >= 0)
                Libc.Close(_fd);
            _fd = -1;
        }
    }

    private void WriteFile(WriteJob job, Folder folder)
    {
        ReadOnlySpan<byte> content = job.Slot is { } s ? _ring.Span(s) : default;
        var transformed = false;
        if (_options.Transform != null && job.Slot is { } slot
            && _options.Transform(job.Rel, _ring.Memory(slot)) is { } changed)
        {
            content = changed;
            transformed = true;
        }
        else if (_options.Transform != null && job.Slot == null && _options.Transform(job.Rel, ReadOnlyMemory<byte>.Empty) is { } made)
        {
            content = made;
            transformed = true;
        }
        // Created with its final mode (the umask is already out of it): no chmod afterwards.
        int fd = PosixIo.CreateAt(folder.For(job.Full), job.Name, job.Mode, job.Full);
        try
        {
            if (!content.IsEmpty)
                PosixIo.Write(fd, content, job.Full);
            // A rewritten file keeps the time of its writing: Python trusts a cached .pyc while
            // its source's mtime and size match, and the cache holds the old paths.
            if (!transformed)
                PosixIo.FSetMTime(fd, job.Seconds, job.Nanoseconds, job.Full);
        }
        finally
        {
            PosixIo.Close(fd, job.Full);
        }
    }

    private void StopWriter()
    {
        _batches.CompleteAdding();
        _writer?.Join();
        _writer = null;
    }

    // ---- the end: links, then directory modes and times ----

    private ArchiveStats Finish()
    {
        foreach (LinkMeta link in _symlinks)
        {
            Node node = Find(link.Rel)!;
            if (!node.External && !StaysInside(link.Rel, link.Target) && _options.Symlink?.Invoke(link.Rel, link.Target) != link.Target)
                throw Refuse(link.Rel, $"symlink to '{link.Target}' leads out of the target folder through other links of the archive");
        }
        foreach ((string rel, string target) in _hardlinks)
            PosixIo.Link(_target + "/" + target, _target + "/" + rel);
        foreach (LinkMeta link in _symlinks)
        {
            string full = _target + "/" + link.Rel;
            PosixIo.Symlink(link.Target, full);
            PosixIo.SetMTime(full, link.Seconds, link.Nanoseconds);
        }
        // Children were declared after their parents: reverse order finishes the deepest first,
        // so setting a child's time no longer changes its (already final) parent.
        for (int i = _dirs.Count - 1; i >= 0; i--)
            if (_dirs[i] is { } d)
                SetDirectory(_target + "/" + d.Rel, d);
        if (_rootMeta != null)
            SetDirectory(_target, _rootMeta);
        return new ArchiveStats(_files, _dirCount, _symlinks.Count, _hardlinks.Count, _bytes);
    }

    private static void SetDirectory(string full, DirMeta d)
    {
        // mkdir gave the folder the setgid bit if its parent has it: that one stays.
        UnixFileMode inherited = FileStat.TryLStat(full) is { } st ? st.Mode & UnixFileMode.SetGroup : 0;
        PosixIo.Chmod(full, d.Mode | inherited);
        PosixIo.SetMTime(full, d.Seconds, d.Nanoseconds);
    }

    /// <summary>The entry's mtime. PAX records ("mtime=1700000000.123456789") are read to the
    /// nanosecond, as GNU tar restores them; TarEntry.ModificationTime keeps only 100 ns ticks.</summary>
    internal static (long Seconds, long Nanoseconds) MTime(TarEntry e)
    {
        if (e is PaxTarEntry pax && pax.ExtendedAttributes.TryGetValue("mtime", out string? text)
            && TryParsePaxTime(text, out long s, out long ns))
            return (s, ns);
        DateTimeOffset t = e.ModificationTime;
        long seconds = t.ToUnixTimeSeconds();
        return (seconds, (t.UtcTicks - DateTimeOffset.FromUnixTimeSeconds(seconds).UtcTicks) * 100);
    }

    internal static bool TryParsePaxTime(string text, out long seconds, out long nanoseconds)
    {
        seconds = nanoseconds = 0;
        bool negative = text.StartsWith('-');
        // Spans, not Split and PadRight: Python's tarfile writes this record for every entry.
        ReadOnlySpan<char> number = text.AsSpan().TrimStart('-');
        int dot = number.IndexOf('.');
        ReadOnlySpan<char> whole = dot < 0 ? number : number[..dot];
        if (!long.TryParse(whole, System.Globalization.NumberStyles.None, null, out seconds))
            return false;
        if (dot >= 0)
        {
            ReadOnlySpan<char> frac = number[(dot + 1)..];
            if (frac.Contains('.'))
                return false;
            // Nanoseconds: the first nine digits, as if padded with zeros to nine.
            if (frac.Length > 9)
                frac = frac[..9];
            if (frac.Length > 0 && !long.TryParse(frac, System.Globalization.NumberStyles.None, null, out nanoseconds))
                return false;
            for (int i = frac.Length; i < 9; i++)
                nanoseconds *= 10;
        }
        if (negative)
        {
            // -1.25 s is 2 s before the epoch plus 0.75 s.
            seconds = -seconds;
            if (nanoseconds > 0)
            {
                seconds--;
                nanoseconds = 1_000_000_000 - nanoseconds;
            }
        }
        return true;
    }

    /// <summary>
    /// Counts what the tar reader consumed (to check where the archive ended) and keeps the
    /// header blocks of the entry being read: .NET's TarReader does not verify header checksums,
    /// so a damaged header would otherwise go unnoticed in a stream without checksums of its own.
    /// </summary>
    private sealed class PositionStream(Stream inner) : Stream
    {
        private long _position;
        private long _captureFrom = -1;
        private readonly MemoryStream _captured = new();

        public override long Position
        {
            get => _position;
            set => throw new NotSupportedException();
        }

        /// <summary>Keeps every byte read from offset <paramref name="from"/> on.</summary>
        public void Capture(long from)
        {
            _captureFrom = from;
            _captured.SetLength(0);
        }

        /// <summary>The raw name of the last entry, escaped, when it is not valid UTF-8 (set by
        /// <see cref="CheckHeaders"/>).</summary>
        public string? NotUtf8 { get; private set; }

        /// <summary>Checks the header blocks captured since <see cref="Capture"/>: the entry's own
        /// header and the GNU long-name / PAX headers before it. Also looks at the names as
        /// stored (bytes), which the tar reader has already decoded.</summary>
        public void CheckHeaders()
        {
            ReadOnlySpan<byte> blocks = _captured.GetBuffer().AsSpan(0, (int)_captured.Length);
            _captureFrom = -1;
            NotUtf8 = null;
            bool longName = false, longLink = false;
            int at = 0;
            while (at + 512 <= blocks.Length)
            {
                ReadOnlySpan<byte> h = blocks.Slice(at, 512);
                if (!h.ContainsAnyExcept((byte)0))
                    return;
                if (!ChecksumMatches(h))
                    throw new InvalidDataException("tar header checksum mismatch");
                // 'L'/'K' (GNU long name/link), 'x'/'g' (PAX): metadata entries whose data comes
                // before the next header; anything else is the entry itself.
                if (h[156] is not ((byte)'L' or (byte)'K' or (byte)'x' or (byte)'g') || !TryParseOctal(h.Slice(124, 12), out long size))
                {
                    // The entry: its own name fields count unless a long name replaced them (their
                    // truncated copy may end inside a character).
                    if (!longName)
                    {
                        CheckName(Field(h.Slice(0, 100)));
                        if (h.Slice(257, 6).SequenceEqual("ustar\0"u8))
                            CheckName(Field(h.Slice(345, 155))); // POSIX prefix
                    }
                    if (!longLink)
                        CheckName(Field(h.Slice(157, 100)));
                    return;
                }
                int dataAt = at + 512;
                int dataLength = (int)Math.Min(size, Math.Max(0, blocks.Length - dataAt));
                ReadOnlySpan<byte> data = blocks.Slice(dataAt, dataLength);
                switch ((char)h[156])
                {
                    case 'L':
                        longName = true;
                        CheckName(Field(data));
                        break;
                    case 'K':
                        longLink = true;
                        CheckName(Field(data));
                        break;
                    case 'x':
                        // Records "LEN key=value\n"; Python's tarfile stores undecodable names
                        // as raw bytes with hdrcharset=BINARY.
                        while (data.Length > 0)
                        {
                            int space = data.IndexOf((byte)' ');
                            if (space <= 0 || !int.TryParse(data[..space], out int len) || len <= space || len > data.Length)
                                break;
                            ReadOnlySpan<byte> record = data.Slice(space + 1, len - space - 2);
                            int eq = record.IndexOf((byte)'=');
                            if (eq > 0)
                            {
                                ReadOnlySpan<byte> key = record[..eq];
                                if (key.SequenceEqual("path"u8))
                                {
                                    longName = true;
                                    CheckName(record[(eq + 1)..]);
                                }
                                else if (key.SequenceEqual("linkpath"u8))
                                {
                                    longLink = true;
                                    CheckName(record[(eq + 1)..]);
                                }
                            }
                            data = data[len..];
                        }
                        break;
                }
                at = dataAt + (int)Math.Min((size + 511) & ~511L, int.MaxValue - 1024);
            }
        }

        private static ReadOnlySpan<byte> Field(ReadOnlySpan<byte> field)
        {
            int nul = field.IndexOf((byte)0);
            return nul < 0 ? field : field[..nul];
        }

        private void CheckName(ReadOnlySpan<byte> name)
        {
            if (NotUtf8 != null || System.Text.Unicode.Utf8.IsValid(name))
                return;
            // Valid parts as text, every other byte as \xNN.
            var text = new System.Text.StringBuilder();
            while (name.Length > 0)
            {
                if (System.Text.Rune.DecodeFromUtf8(name, out System.Text.Rune rune, out int used) == System.Buffers.OperationStatus.Done)
                    text.Append(rune.ToString());
                else
                    foreach (byte b in name[..Math.Max(used, 1)])
                        text.Append($"\\x{b:x2}");
                name = name[Math.Max(used, 1)..];
            }
            NotUtf8 = text.ToString();
        }

        private static bool ChecksumMatches(ReadOnlySpan<byte> h)
        {
            if (!TryParseOctal(h.Slice(148, 8), out long stored))
                return false;
            // The checksum field counts as eight spaces. Some old tars summed signed bytes.
            long unsigned = 8 * ' ', signed = 8 * ' ';
            for (int i = 0; i < 512; i++)
            {
                if (i is >= 148 and < 156)
                    continue;
                unsigned += h[i];
                signed += (sbyte)h[i];
            }
            return stored == unsigned || stored == signed;
        }

        private static bool TryParseOctal(ReadOnlySpan<byte> field, out long value)
        {
            value = 0;
            bool digits = false;
            foreach (byte b in field)
            {
                if (b is >= (byte)'0' and <= (byte)'7')
                {
                    value = value * 8 + (b - '0');
                    digits = true;
                }
                else if (b is (byte)' ' or 0)
                {
                    if (digits)
                        break;
                }
                else
                {
                    return false;
                }
            }
            return digits;
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int n = inner.Read(buffer);
            if (_captureFrom >= 0 && _position + n > _captureFrom)
            {
                int skip = (int)Math.Max(0, _captureFrom - _position);
                _captured.Write(buffer[skip..n]);
            }
            _position += n;
            return n;
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override void Flush()
        {
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
