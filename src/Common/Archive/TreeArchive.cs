namespace Kslurm.Archive;

/// <summary>
/// A folder tree as a tar stream and back: how kpy saves a venv and loads it on a compute node.
/// Compression is the caller's (<see cref="ZstdCompressStream"/> in, <see cref="ArchiveFile.OpenRead"/> out).
/// </summary>
public static class TreeArchive
{
    /// <summary>
    /// Writes the contents of <paramref name="sourceDir"/> to <paramref name="output"/> as a
    /// GNU-format tar stream, ending with the end-of-archive marker (the caller disposes
    /// <paramref name="output"/>).
    /// <para>
    /// Names are relative with no prefix: "bin/", "bin/python", "lib/python3.11/..." (what
    /// `tar -C dir .` stores, minus "./"); the root folder itself is not stored, so the
    /// extracting side decides its mode. Entries come in code-point order of their names, each
    /// directory before its contents. Stored: directories, regular files, symlinks (never
    /// followed, any target), hard links (the second and later names of an inode, pointing to
    /// the first), permission bits including setuid/setgid/sticky, mtimes (whole seconds),
    /// numeric owners. Sockets, fifos and devices are left out and counted in
    /// <see cref="ArchiveStats.Skipped"/>.
    /// </para>
    /// </summary>
    /// <param name="leading">Written first (before the tree): see <see cref="ArchiveFile.ReadLeading"/>.
    /// A tree entry with the same name is left out.</param>
    /// <param name="exclude">Called with each relative path ('/'-separated, no trailing '/');
    /// true leaves the entry out, and for a directory everything below it.</param>
    /// <exception cref="KslurmException">A file or folder cannot be read.</exception>
    public static ArchiveStats Write(string sourceDir, Stream output, ArchiveEntry? leading = null,
        Func<string, bool>? exclude = null)
    {
        ArgumentNullException.ThrowIfNull(sourceDir);
        ArgumentNullException.ThrowIfNull(output);
        return new TreeWriter(sourceDir, leading, exclude).Run(output);
    }

    /// <summary>
    /// Extracts a tar stream into <paramref name="targetDir"/>, which must exist and be empty
    /// (extract into a temporary folder, then rename it into place; on failure delete it).
    /// <para>
    /// Refused, with a <see cref="KslurmException"/> naming the entry and nothing extracted
    /// after it: absolute names, names with "..", anything that would be written through a
    /// symlink (also one from the same archive), device nodes and fifos, hard links to anything
    /// but a file extracted before, symlinks leading out of the tree unless
    /// <see cref="ExtractOptions.Symlink"/> allows them, and entries that appear twice.
    /// </para>
    /// <para>
    /// Restored: mtimes (symlinks and directories included), symlinks, hard links, and modes as
    /// GNU tar gives them to a normal user, for root too: minus the umask, never setuid or
    /// setgid, sticky only on folders (a folder keeps a setgid bit inherited from its parent).
    /// Owners are not changed. A root entry ("./" of GNU tar, "/" of Python's tarfile, ".")
    /// sets the mode and mtime of <paramref name="targetDir"/> itself. Names must be valid UTF-8.
    /// </para>
    /// <para>
    /// Damaged input (corrupt compressed data, checksum mismatch, bad tar headers, an archive
    /// that ends without its end-of-archive marker) throws a <see cref="KslurmException"/>
    /// saying so; the decompressed stream is read to its end so every checksum is verified.
    /// </para>
    /// </summary>
    public static ArchiveStats Extract(Stream tar, string targetDir, ExtractOptions options)
    {
        ArgumentNullException.ThrowIfNull(tar);
        ArgumentNullException.ThrowIfNull(targetDir);
        ArgumentNullException.ThrowIfNull(options);
        return new TreeExtractor(targetDir, options).Run(tar);
    }
}
