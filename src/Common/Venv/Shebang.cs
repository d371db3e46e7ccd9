using System.Text;

namespace Kslurm.Venv;

/// <summary>
/// The interpreter line of scripts: a plain "#!/venv/bin/python" or pip's /bin/sh trampoline,
/// which distlib (pip 23, Debian 12) writes when "#!" + interpreter + newline would exceed 127 bytes
/// or the interpreter path holds a space:
/// <code>
/// #!/bin/sh
/// '''exec' /long/venv/bin/python3 "$0" "$@"      (quoted: "/with space/bin/python3")
/// ' '''
/// </code>
/// sh runs line 2 (the quotes collapse to: exec /venv/bin/python3 "$0" "$@"); Python reads lines
/// 2-3 as one triple-quoted string and ignores it.
/// </summary>
internal static class Shebang
{
    /// <summary>Linux's classic limit as pip counts it: "#!" + interpreter + arguments + "\n".</summary>
    public const int MaxLength = 127;

    const string TrampolineExec = "'''exec' ";
    const string TrampolineTail = " \"$0\" \"$@\"";
    const string TrampolineEnd = "' '''";

    /// <summary>
    /// When the script's interpreter lies under an old path: the new header and how many bytes of
    /// the old header it replaces. Null when the first line is not such a header.
    /// </summary>
    public static (byte[] Header, int Consumed)? Rewrite(ReadOnlySpan<byte> s, PathRewriter paths)
    {
        if (Parse(s) is not (var interpreter, var args, var consumed) || interpreter.Length == 0)
            return null;
        var mapped = paths.MapPath(interpreter);
        if (mapped is null)
            return null;
        return (Encoding.UTF8.GetBytes(Build(mapped, args) + Terminator(s, consumed)), consumed);
    }

    /// <summary>
    /// The interpreter a script's header names (a plain "#!" line or pip's trampoline), the
    /// arguments after it as written (leading blank kept), and how many bytes the header takes
    /// with its newline. Null when the script starts with neither.
    /// </summary>
    public static (string Interpreter, string Args, int Consumed)? Parse(ReadOnlySpan<byte> s)
    {
        if (!s.StartsWith("#!"u8))
            return null;
        var (line1, end1) = Line(s, 0);
        if (line1.TrimEnd() != "#!/bin/sh" || end1 >= s.Length)
        {
            var (word, tail) = SplitFirstWord(line1[2..].TrimStart(' ', '\t').TrimEnd('\r'));
            return (word, tail, end1);
        }
        var (line2, end2) = Line(s, end1);
        var (line3, end3) = end2 < s.Length ? Line(s, end2) : ("", end2);
        if (!line2.StartsWith(TrampolineExec, StringComparison.Ordinal) || !line2.EndsWith(TrampolineTail, StringComparison.Ordinal)
            || line3 != TrampolineEnd)
            return null;
        var command = line2[TrampolineExec.Length..^TrampolineTail.Length];
        if (!command.StartsWith('"'))
        {
            var (word, tail) = SplitFirstWord(command);
            return (word, tail, end3);
        }
        var close = command.IndexOf('"', 1); // pip quotes a path with a space
        return close < 0 ? null : (command[1..close], command[(close + 1)..], end3);
    }

    /// <summary>What pip would write for this interpreter: plain when short and space-free, else the trampoline.</summary>
    public static string Build(string interpreter, string args)
    {
        var plain = "#!" + interpreter + args;
        if (!IsPython(interpreter))
            return plain; // the trampoline is valid Python only; other interpreters keep a plain line
        if (Encoding.UTF8.GetByteCount(plain) + 1 <= MaxLength && !interpreter.Contains(' '))
            return plain;
        return "#!/bin/sh\n" + TrampolineExec + "\"" + interpreter + "\"" + args + TrampolineTail + "\n" + TrampolineEnd;
    }

    static bool IsPython(string interpreter)
    {
        var name = interpreter[(interpreter.LastIndexOf('/') + 1)..];
        return name.StartsWith("python", StringComparison.Ordinal) || name.StartsWith("pypy", StringComparison.Ordinal);
    }

    static (string Word, string Tail) SplitFirstWord(string s)
    {
        var cut = s.IndexOfAny([' ', '\t']);
        return cut < 0 ? (s, "") : (s[..cut], s[cut..]);
    }

    /// <summary>The line starting at <paramref name="start"/> without its "\n" (a "\r" stays), and where the next begins.</summary>
    static (string Line, int Next) Line(ReadOnlySpan<byte> s, int start)
    {
        var nl = s[start..].IndexOf((byte)'\n');
        var end = nl < 0 ? s.Length : start + nl;
        return (Encoding.UTF8.GetString(s[start..end]), nl < 0 ? s.Length : end + 1);
    }

    static string Terminator(ReadOnlySpan<byte> s, int next)
        => next > 1 && s[next - 1] == '\n' && s[next - 2] == '\r' ? "\r\n" : next > 0 && s[next - 1] == '\n' ? "\n" : "";
}
