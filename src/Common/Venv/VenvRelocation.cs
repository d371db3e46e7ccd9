using System.Text;
using System.Text.Unicode;

namespace Kslurm.Venv;

/// <summary>
/// The rules that make a Python venv (CPython venv, virtualenv, uv) work at a different absolute
/// path: applied per archive member while extracting (<see cref="RewriteFile"/>,
/// <see cref="RewriteSymlink"/>), or to a tree on disk (<see cref="RelocateInPlace"/>).
/// The rules are described in src/Common/Venv/README.md.
/// </summary>
public sealed partial class VenvRelocation
{
    readonly PathRewriter _paths;

    /// <param name="oldPaths">The venv's absolute path when it was saved, and its symlink-resolved form (both are replaced).</param>
    /// <param name="newPath">The absolute path the venv now lives at.</param>
    /// <param name="oldName">The prompt name at save time (fallback for unknown activation templates only).</param>
    /// <param name="newName">When set, the prompt becomes this name in pyvenv.cfg and every activation script.</param>
    /// <exception cref="ArgumentException">A path that is not absolute, is "/", or a new path / name with a
    /// character that cannot be written safely into every file format concerned (shell, csh, JSON, Python literals, PATH).</exception>
    public VenvRelocation(IReadOnlyList<string> oldPaths, string newPath, string? oldName = null, string? newName = null)
    {
        ArgumentNullException.ThrowIfNull(oldPaths);
        var olds = new List<string>();
        foreach (var p in oldPaths)
        {
            var n = Normalize(p, nameof(oldPaths));
            if (!olds.Contains(n))
                olds.Add(n);
        }
        if (olds.Count == 0)
            throw new ArgumentException("at least one old path is needed", nameof(oldPaths));
        NewPath = Normalize(newPath, nameof(newPath));
        if (FirstUnsafe(NewPath, allowSlash: true) is { } bad)
            throw new ArgumentException($"the venv path {NewPath} contains {Describe(bad)}, which cannot be written safely into activation scripts and Python files", nameof(newPath));
        if (newName is not null && (newName.Length == 0 || FirstUnsafe(newName, allowSlash: false) is not null))
            throw new ArgumentException($"the venv name '{newName}' cannot be used as a prompt", nameof(newName));
        OldPaths = olds;
        OldName = oldName;
        NewName = newName;
        _paths = new PathRewriter(olds, NewPath);
    }

    public IReadOnlyList<string> OldPaths { get; }
    public string NewPath { get; }
    public string? OldName { get; }
    public string? NewName { get; }

    /// <summary>
    /// The content a regular file must have at the new path, or null when it stays as it is
    /// (binary, or no old path and no prompt in it). When this returns content, prefer a fresh
    /// modification time to the archived one: Python trusts a cached .pyc whose recorded source
    /// mtime and size still match (a rewritten .py whose size would not change gets one extra
    /// trailing newline for that reason, so restoring the archived mtime is still safe).
    /// Thread-safe: an instance holds no mutable state.
    /// </summary>
    /// <param name="relPath">Path inside the venv, '/'-separated ("bin/activate", "./pyvenv.cfg").</param>
    public byte[]? RewriteFile(string relPath, ReadOnlySpan<byte> content)
    {
        var rel = NormalizeRelative(relPath);
        if (IsBinary(rel, content))
            return null;
        var activator = ActivatorOf(rel);
        var isConfig = rel == "pyvenv.cfg";
        var rename = NewName is not null && (isConfig || activator != ActivatorKind.None);
        var mentions = _paths.Mentions(content);
        if (!rename && !mentions)
            return null;

        byte[]? result = null;
        if (mentions)
        {
            var header = Shebang.Rewrite(content, _paths);
            var consumed = header?.Consumed ?? 0;
            var body = _paths.Rewrite(content[consumed..], ShellOf(activator));
            if (header is not null || body is not null)
                result = [.. header?.Header ?? [], .. body ?? content[consumed..]];
        }
        if (rename)
        {
            ReadOnlySpan<byte> current = result ?? content;
            if (Utf8.IsValid(current))
            {
                var text = Encoding.UTF8.GetString(current);
                var renamed = isConfig ? PromptRewriter.RewriteConfig(text, NewName!) : PromptRewriter.RewriteActivator(text, activator, NewName!, OldName);
                if (renamed != text)
                    result = Encoding.UTF8.GetBytes(renamed);
            }
        }
        if (result is null || content.SequenceEqual(result))
            return null;
        // A .pyc is trusted while the source's mtime and size match the ones it recorded. An
        // extractor restoring archived mtimes would then keep running the old code when the new
        // path has the old one's length; one more trailing newline makes the size differ.
        if (result.Length == content.Length && rel.EndsWith(".py", StringComparison.Ordinal))
            result = [.. result, (byte)'\n'];
        return result;
    }

    /// <summary>
    /// <see cref="RewriteFile"/> for a file too large to hold in memory, in bounded memory
    /// whatever its size (a couple of 1 MiB chunks): reads <paramref name="input"/> (seekable,
    /// at its start) once to decide (binary, or no old path: false), and when it needs rewriting
    /// reads it again into the stream <paramref name="open"/> gives, returning true. The prompt
    /// of activation scripts and pyvenv.cfg is not renamed here: real ones are a few KB.
    /// </summary>
    public bool RewriteFile(string relPath, Stream input, Func<Stream> open)
    {
        var rel = NormalizeRelative(relPath);
        if (IsBinary(rel, default))
            return false;
        var head = new byte[LargeChunk];
        var headLength = input.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (IsBinary(rel, head.AsSpan(0, headLength)) || !MentionsOldPath(input, head, headLength))
            return false;

        input.Seek(0, SeekOrigin.Begin);
        headLength = input.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        var header = Shebang.Rewrite(head.AsSpan(0, headLength), _paths);
        if (header is { } h && h.Consumed == headLength && input.Length > headLength)
            header = null; // no end to its first line in the first MiB: not an interpreter line
        var consumed = header?.Consumed ?? 0;
        var output = open();
        var start = output.Position;
        if (header is { } hh)
            output.Write(hh.Header);
        input.Seek(consumed, SeekOrigin.Begin);
        var changed = _paths.Rewrite(input, output, ShellOf(ActivatorOf(rel)), LargeChunk)
            || (header is { } hd && !hd.Header.AsSpan().SequenceEqual(head.AsSpan(0, consumed)));
        if (changed && output.Position - start == input.Length && rel.EndsWith(".py", StringComparison.Ordinal))
            output.WriteByte((byte)'\n'); // as in RewriteFile: the size must differ from the cached .pyc's record
        return changed;
    }

    const int LargeChunk = 1 << 20;

    // Reads the rest of input (the head already read): whether it holds an old path (also
    // across chunk boundaries) and no NUL byte anywhere (else it is a binary after all).
    bool MentionsOldPath(Stream input, byte[] head, int headLength)
    {
        var overlap = _paths.LongestOld - 1;
        var buffer = new byte[LargeChunk + overlap];
        head.AsSpan(0, headLength).CopyTo(buffer);
        var length = headLength;
        var mentions = false;
        while (true)
        {
            var s = buffer.AsSpan(0, length);
            if (s.IndexOf((byte)0) >= 0)
                return false;
            mentions = mentions || _paths.Mentions(s);
            var keep = Math.Min(overlap, length);
            s[(length - keep)..].CopyTo(buffer);
            var n = input.ReadAtLeast(buffer.AsSpan(keep, LargeChunk), LargeChunk, throwOnEndOfStream: false);
            if (n == 0)
                return mentions;
            length = keep + n;
        }
    }

    /// <summary>
    /// The target a symlink must have at the new path: an absolute target under an old path moves
    /// to the new path; every other target is kept as it is, wherever it points (a symlink is
    /// data: Debian's `sitecustomize.py -> /etc/...`, module and conda trees, relative links out
    /// of the venv). Null only for a target no file system holds (empty, or with a NUL).
    /// </summary>
    public string? RewriteSymlink(string relPath, string linkTarget)
    {
        if (linkTarget.Length == 0 || linkTarget.Contains('\0'))
            return null;
        if (linkTarget.StartsWith('/') && _paths.MapPath(linkTarget) is { } moved)
            return moved;
        return linkTarget;
    }

    // ---- classification -------------------------------------------------------------------------

    static readonly string[] BinaryExtensions =
        [".pyc", ".pyo", ".so", ".a", ".o", ".dylib", ".whl", ".zip", ".egg", ".gz", ".bz2", ".xz", ".zst", ".tar", ".npy", ".npz"];

    /// <summary>
    /// Binary = a NUL byte anywhere, an ELF or zip signature, or a compiled/archive extension
    /// (also "x.so.1"). Text files never hold NUL; every ELF file, .pyc and zip has one early.
    /// </summary>
    internal static bool IsBinary(string rel, ReadOnlySpan<byte> content)
    {
        // The name as a span: this runs for every file of a load (no substring each).
        var name = rel.AsSpan(rel.LastIndexOf('/') + 1);
        foreach (var ext in BinaryExtensions)
            if (name.EndsWith(ext, StringComparison.OrdinalIgnoreCase))
                return true;
        if (name.Contains(".so.", StringComparison.Ordinal))
            return true;
        return content.StartsWith("\u007fELF"u8) || content.StartsWith("PK\x03\x04"u8) || content.IndexOf((byte)0) >= 0;
    }

    internal static ActivatorKind ActivatorOf(string rel)
    {
        // Spans: this runs for every text file of a load (no substrings each).
        var slash = rel.LastIndexOf('/');
        if (slash < 0 || rel.AsSpan(0, slash) is not "bin")
            return ActivatorKind.None;
        return rel.AsSpan(slash + 1) switch
        {
            "activate" or "activate.sh" or "activate.bash" or "activate.zsh" => ActivatorKind.Bash,
            "activate.csh" => ActivatorKind.Csh,
            "activate.fish" => ActivatorKind.Fish,
            "activate.nu" => ActivatorKind.Nu,
            "activate.ps1" or "Activate.ps1" => ActivatorKind.PowerShell,
            "activate_this.py" => ActivatorKind.Python,
            _ => ActivatorKind.None,
        };
    }

    static ShellSyntax ShellOf(ActivatorKind kind) => kind switch
    {
        ActivatorKind.Bash => ShellSyntax.Sh,
        ActivatorKind.Csh => ShellSyntax.Csh,
        ActivatorKind.Fish => ShellSyntax.Fish,
        _ => ShellSyntax.None,
    };

    // ---- validation -------------------------------------------------------------------------------

    static string Normalize(string path, string param)
    {
        ArgumentNullException.ThrowIfNull(path, param);
        if (!path.StartsWith('/') || path.Contains('\0'))
            throw new ArgumentException($"'{path}' is not an absolute path", param);
        while (path.Contains("//", StringComparison.Ordinal))
            path = path.Replace("//", "/", StringComparison.Ordinal);
        path = path.TrimEnd('/');
        if (path.Length == 0)
            throw new ArgumentException("the file system root cannot be a venv", param);
        return path;
    }

    static string NormalizeRelative(string rel)
    {
        rel = rel.Replace('\\', '/');
        while (rel.StartsWith("./", StringComparison.Ordinal))
            rel = rel[2..];
        return rel.TrimStart('/').TrimEnd('/');
    }

    /// <summary>
    /// Characters refused in a new path or name: control characters, quotes, backslash, '$', '`'
    /// and '!' (each needs escaping in some file the path lands in: sh, csh history, fish, JSON,
    /// Python string literals, pip trampolines); ':' in a path (it would split PATH; venv refuses it too).
    /// </summary>
    static char? FirstUnsafe(string s, bool allowSlash)
    {
        foreach (var c in s)
            if (char.IsControl(c) || c is '"' or '\'' or '\\' or '$' or '`' or '!' || (allowSlash ? c == ':' : c is '/' or ':'))
                return c;
        return null;
    }

    static string Describe(char c) => char.IsControl(c) ? $"a control character (U+{(int)c:X4})" : $"'{c}'";
}
