namespace Kslurm.Archive;

/// <summary>
/// A file that is not in the tree but goes into the archive first (kpy's metadata record), so
/// that <see cref="ArchiveFile.ReadLeading"/> finds it in the first few kilobytes of the archive.
/// </summary>
/// <param name="Name">Relative name inside the archive, '/'-separated (e.g. ".kpy.json").</param>
/// <param name="Content">The file's bytes.</param>
/// <param name="Mode">Its permission bits.</param>
public sealed record ArchiveEntry(string Name, ReadOnlyMemory<byte> Content,
    UnixFileMode Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

/// <summary>What was archived or extracted.</summary>
/// <param name="Files">Regular files stored with their content (the leading entry included).</param>
/// <param name="Directories">Directories (the root folder itself not counted).</param>
/// <param name="Symlinks">Symbolic links.</param>
/// <param name="HardLinks">Second and later names of a file (stored without content).</param>
/// <param name="Bytes">Content bytes of the regular files.</param>
/// <param name="Skipped">Sockets, fifos and device nodes left out when archiving.</param>
public sealed record ArchiveStats(long Files, long Directories, long Symlinks, long HardLinks, long Bytes, long Skipped = 0)
{
    public long Entries => Files + Directories + Symlinks + HardLinks;
}

/// <summary>How <see cref="TreeArchive.Extract"/> treats links and file contents.</summary>
public sealed class ExtractOptions
{
    /// <summary>
    /// Decides on symlinks whose target is absolute or leads out of the extracted tree
    /// (relative targets that stay inside are always created as they are). Receives the link's
    /// relative path and its stored target; returns the target to create, possibly rewritten, or
    /// null to refuse the archive. The result is created as given, wherever it points (the
    /// caller vouches for it); nothing is ever written through it. Null (the default): refuse
    /// them all.
    /// </summary>
    public Func<string, string, string?>? Symlink { get; init; }

    /// <summary>
    /// Called for each regular file of at most 2 MiB (held in memory) with its relative path and
    /// content; returns replacement content, or null to keep it. Runs on several threads at
    /// once. For hard-linked files only the first name is passed.
    /// </summary>
    public Func<string, ReadOnlyMemory<byte>, byte[]?>? Transform { get; init; }

    /// <summary>
    /// The same for larger regular files, of any size, in bounded memory: called after the file
    /// is written, with its relative path, a stream reading it from its start, and a function
    /// that opens the stream for new content; returns true when it wrote the whole new content
    /// there (it then replaces the file). Runs on the reading thread.
    /// </summary>
    public Func<string, Stream, Func<Stream>, bool>? TransformLarge { get; init; }

    /// <summary>Entries (and, for directories, everything below) for which this returns true
    /// are not extracted. Receives relative paths without a trailing '/'.</summary>
    public Func<string, bool>? Exclude { get; init; }

    /// <summary>Name of the archive in error messages (e.g. its path).</summary>
    public string? ArchiveName { get; init; }

    /// <summary>Refuses every symlink leading out of the tree.</summary>
    public static ExtractOptions Default { get; } = new();
}
