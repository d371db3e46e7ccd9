using System.Buffers;
using System.Text;

namespace Kslurm.Venv;

/// <summary>Which quoting rules decide whether a replaced path stands bare in a shell word.</summary>
internal enum ShellSyntax { None, Sh, Csh, Fish }

/// <summary>
/// Byte-level replacement of the venv's old absolute paths by its new one, at path boundaries only.
/// Works on raw bytes (UTF-8 paths) so everything around a match is kept byte for byte.
/// </summary>
internal sealed class PathRewriter
{
    // Old forms, longest first; each has a raw spelling and the percent-encoded spelling used after
    // "file://" (pip's direct_url.json), which differs only when the path holds unusual characters.
    readonly byte[][] _oldRaw;
    readonly byte[][] _oldUrl;
    readonly byte[] _new;
    readonly byte[] _newUrl;
    readonly byte[] _newQuoted; // '<new>' for a bare shell word, or _new when no quoting is needed

    static readonly byte[] FileScheme = "file://"u8.ToArray();

    public PathRewriter(IReadOnlyList<string> oldPaths, string newPath)
    {
        var olds = oldPaths.OrderByDescending(p => Encoding.UTF8.GetByteCount(p)).ToArray();
        _oldRaw = olds.Select(p => Encoding.UTF8.GetBytes(p)).ToArray();
        _oldUrl = olds.Select(p => Encoding.UTF8.GetBytes(PercentEncode(p))).ToArray();
        _new = Encoding.UTF8.GetBytes(newPath);
        _newUrl = Encoding.UTF8.GetBytes(PercentEncode(newPath));
        _newQuoted = NeedsShellQuoting(newPath) ? Encoding.UTF8.GetBytes("'" + newPath + "'") : _new;
        NewPath = newPath;
    }

    public string NewPath { get; }

    /// <summary>Bytes of the longest old form (raw or URL-encoded).</summary>
    public int LongestOld => _oldRaw.Concat(_oldUrl).Max(b => b.Length);

    /// <summary>True when some old path (raw or URL-encoded) occurs anywhere; a cheap, vectorised pre-check.</summary>
    public bool Mentions(ReadOnlySpan<byte> s)
    {
        for (var i = 0; i < _oldRaw.Length; i++)
            if (s.IndexOf(_oldRaw[i]) >= 0 || (_oldUrl[i].Length != _oldRaw[i].Length && s.IndexOf(_oldUrl[i]) >= 0))
                return true;
        return false;
    }

    /// <summary>
    /// Maps one path (not a text): an old path or anything below it becomes the same place under
    /// the new path. Null when it is under no old path, or already under the new path (as in
    /// texts, the longest of the old and new prefixes decides).
    /// </summary>
    public string? MapPath(string path)
    {
        var bytes = Encoding.UTF8.GetBytes(path);
        static bool Under(byte[] p, byte[] prefix) => p.AsSpan().StartsWith(prefix) && (p.Length == prefix.Length || p[prefix.Length] == (byte)'/');
        foreach (var old in _oldRaw) // longest first
            if (Under(bytes, old))
                return Under(bytes, _new) && _new.Length >= old.Length
                    ? null
                    : NewPath + Encoding.UTF8.GetString(bytes, old.Length, bytes.Length - old.Length);
        return null;
    }

    /// <summary>
    /// Replaces every old path at a boundary. Returns null when nothing changed. With a shell
    /// syntax, a match outside any quotes becomes a single-quoted word when the new path needs it
    /// (quoted words concatenate in sh, csh and fish, so '/new dir'/bin stays one word).
    /// </summary>
    public byte[]? Rewrite(ReadOnlySpan<byte> s, ShellSyntax shell = ShellSyntax.None)
    {
        if (!Mentions(s))
            return null;
        var output = new ArrayBufferWriter<byte>(s.Length + 256);
        var quotes = new QuoteTracker(shell);
        var changed = false;
        var copied = Scan(s, 0, s.Length, 0, ref quotes, output, ref changed, out _);
        if (!changed)
            return null;
        output.Write(s[copied..]);
        return output.WrittenSpan.ToArray();
    }

    /// <summary>
    /// The same rewrite from <paramref name="input"/> (read to its end) into
    /// <paramref name="output"/>, a chunk at a time: memory stays a few chunks whatever the size.
    /// Every byte goes to the output; returns whether anything was replaced.
    /// </summary>
    public bool Rewrite(Stream input, Stream output, ShellSyntax shell = ShellSyntax.None, int chunkSize = 1 << 20)
    {
        // A match starting before `limit` ends, with the byte that shows its boundary, inside the
        // buffer; the bytes kept before the next position serve MatchAt's look-back ("file://").
        var longest = _oldRaw.Concat(_oldUrl).Append(_new).Append(_newUrl).Max(b => b.Length);
        const int LookBack = 16;
        var buffer = new byte[chunkSize + longest + LookBack + 1];
        var pending = new ArrayBufferWriter<byte>(chunkSize + 4096);
        var quotes = new QuoteTracker(shell);
        var changed = false;
        int length = 0, next = 0, copied = 0;
        var end = false;
        while (true)
        {
            while (!end && length < buffer.Length)
            {
                var n = input.Read(buffer, length, buffer.Length - length);
                if (n == 0)
                    end = true;
                length += n;
            }
            var s = buffer.AsSpan(0, length);
            copied = Scan(s, next, end ? length : length - longest - 1, copied, ref quotes, pending, ref changed, out next);
            if (end)
            {
                pending.Write(s[copied..]);
                output.Write(pending.WrittenSpan);
                return changed;
            }
            // Keep the look-back before `next`; everything before that (not yet copied) goes out.
            var keep = Math.Max(0, next - LookBack);
            if (copied < keep)
            {
                pending.Write(s[copied..keep]);
                copied = keep;
            }
            output.Write(pending.WrittenSpan);
            pending.ResetWrittenCount();
            quotes.Rebase(s, keep);
            s[keep..].CopyTo(buffer);
            length -= keep;
            next -= keep;
            copied -= keep;
        }
    }

    /// <summary>
    /// Looks for matches at the '/' in positions [start, limit) of s (a match may run past limit).
    /// Writes s[copied..] up to each replaced match, then its replacement; returns the new
    /// `copied` (what the output holds up to), and in <paramref name="next"/> where to go on.
    /// </summary>
    int Scan(ReadOnlySpan<byte> s, int start, int limit, int copied, ref QuoteTracker quotes, IBufferWriter<byte> output, ref bool changed, out int next)
    {
        var i = start;
        while (i < limit)
        {
            var slash = s[i..limit].IndexOf((byte)'/');
            if (slash < 0)
            {
                i = limit;
                break;
            }
            i += slash;
            var (length, replacement) = MatchAt(s, i, ref quotes);
            if (length == 0)
            {
                i++;
                continue;
            }
            if (replacement is not null)
            {
                output.Write(s[copied..i]);
                output.Write(replacement);
                copied = i + length;
                changed = true;
            }
            i += length;
        }
        next = i;
        return copied;
    }

    /// <summary>
    /// At position i (a '/'): the length of the longest old or new path starting there at a
    /// boundary (0 = none), and what to write instead (null = keep: it is already the new path).
    /// </summary>
    (int Length, byte[]? Replacement) MatchAt(ReadOnlySpan<byte> s, int i, ref QuoteTracker quotes)
    {
        if (i > 0 && IsNameByte(s[i - 1]))
            return (0, null);
        var url = i >= FileScheme.Length && s[(i - FileScheme.Length)..i].SequenceEqual(FileScheme);

        var best = 0;
        var bestIsOld = false;
        void Try(ReadOnlySpan<byte> s, byte[] candidate, bool isOld)
        {
            if (candidate.Length > best && s[i..].StartsWith(candidate) && EndsAtBoundary(s, i + candidate.Length))
            {
                best = candidate.Length;
                bestIsOld = isOld;
            }
            else if (candidate.Length == best && !isOld && s[i..].StartsWith(candidate) && EndsAtBoundary(s, i + candidate.Length))
                bestIsOld = false; // old == new: nothing to do
        }
        for (var k = 0; k < _oldRaw.Length; k++)
        {
            Try(s, _oldRaw[k], true);
            if (url)
                Try(s, _oldUrl[k], true);
        }
        Try(s, _new, false);
        if (url)
            Try(s, _newUrl, false);

        if (best == 0 || !bestIsOld)
            return (best, null);
        if (url)
            return (best, _newUrl);
        if (!ReferenceEquals(_newQuoted, _new) && quotes.Syntax != ShellSyntax.None && quotes.IsBareWordAt(s, i))
            return (best, _newQuoted);
        return (best, _new);
    }

    /// <summary>Bytes that continue a file name: a match followed or preceded by one is a different path.</summary>
    static bool IsNameByte(byte b)
        => b >= 0x80 || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
           || b is (byte)'_' or (byte)'-' or (byte)'.' or (byte)'+' or (byte)'~' or (byte)'@' or (byte)'%';

    static bool EndsAtBoundary(ReadOnlySpan<byte> s, int end) => end >= s.Length || !IsNameByte(s[end]);

    /// <summary>pathname2url's encoding: everything but letters, digits, "_.-~/" as %XX of the UTF-8 bytes.</summary>
    internal static string PercentEncode(string path)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(path))
        {
            if ((b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') || b is (byte)'_' or (byte)'.' or (byte)'-' or (byte)'~' or (byte)'/')
                sb.Append((char)b);
            else
                sb.Append('%').Append(b.ToString("X2"));
        }
        return sb.ToString();
    }

    /// <summary>True when the path cannot stand as a bare shell word.</summary>
    internal static bool NeedsShellQuoting(string path)
    {
        foreach (var c in path)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '_' or '-' or '+' or ',' or '@' or '%' or '='))
                return true;
        return false;
    }

    /// <summary>
    /// Follows quote and comment state through a shell script from its start, forward only (matches
    /// are visited in order). Approximate by design: enough for activate scripts, whose quoting is simple.
    /// </summary>
    struct QuoteTracker(ShellSyntax syntax)
    {
        public readonly ShellSyntax Syntax = syntax;
        int _pos;
        char _state; // '\0' bare, '\'' single, '"' double, '#' comment
        byte _before = (byte)'\n'; // the byte before position 0 (a line start at the beginning)

        /// <summary>The text before <paramref name="cut"/> is dropped: follow it to there (but for
        /// one byte of look-back), then count positions from the cut.</summary>
        public void Rebase(ReadOnlySpan<byte> s, int cut)
        {
            if (Syntax == ShellSyntax.None || cut == 0)
                return;
            IsBareWordAt(s, cut);
            _before = s[cut - 1];
            _pos -= cut;
        }

        /// <summary>True when position target is outside quotes and outside a comment.</summary>
        public bool IsBareWordAt(ReadOnlySpan<byte> s, int target)
        {
            while (_pos < target)
            {
                var b = s[_pos];
                switch (_state)
                {
                    case '\0':
                        if (b == '\'' || b == '"')
                            _state = (char)b;
                        else if (b == '\\' && Syntax != ShellSyntax.Csh)
                            _pos++;
                        else if (b == '#' && (_pos == 0 ? _before : s[_pos - 1]) is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)';')
                            _state = '#';
                        break;
                    case '\'':
                        if (b == '\'')
                            _state = '\0';
                        else if (b == '\\' && Syntax == ShellSyntax.Fish)
                            _pos++;
                        break;
                    case '"':
                        if (b == '"')
                            _state = '\0';
                        else if (b == '\\' && Syntax != ShellSyntax.Csh)
                            _pos++;
                        break;
                    case '#':
                        if (b == '\n')
                            _state = '\0';
                        break;
                }
                _pos++;
            }
            return _state == '\0';
        }
    }
}
