namespace Kslurm.Cli;

/// <summary>
/// Terminal output shared by every tool: colour only when the stream is a terminal and
/// NO_COLOR is unset; errors as a single "tool: error: what" line.
/// </summary>
public static class Output
{
    static readonly bool NoColor = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NO_COLOR"));

    public static bool StderrColor => !NoColor && !Console.IsErrorRedirected && TermAllowsColor;
    public static bool StdoutColor => !NoColor && !Console.IsOutputRedirected && TermAllowsColor;
    static bool TermAllowsColor => Environment.GetEnvironmentVariable("TERM") is not "dumb";

    public static string Bold(string s, bool color) => color ? $"\e[1m{s}\e[0m" : s;
    public static string Red(string s, bool color) => color ? $"\e[31m{s}\e[0m" : s;
    public static string Green(string s, bool color) => color ? $"\e[32m{s}\e[0m" : s;
    public static string Yellow(string s, bool color) => color ? $"\e[33m{s}\e[0m" : s;
    public static string Dim(string s, bool color) => color ? $"\e[2m{s}\e[0m" : s;

    // Messages carry names typed by the user, read from archives or sent by registries: all pass
    // through Safe, so none can drive the terminal.
    public static void Error(string tool, string message, string? hint = null)
    {
        var c = StderrColor;
        Console.Error.WriteLine($"{tool}: {Red("error:", c)} {OneLine(message)}");
        if (!string.IsNullOrEmpty(hint))
            Console.Error.WriteLine($"{tool}: {Dim("hint:", c)} {OneLine(hint)}");
    }

    public static void Warn(string tool, string message)
        => Console.Error.WriteLine($"{tool}: {Yellow("warning:", StderrColor)} {OneLine(message)}");

    /// <summary>Informational message on stderr, so stdout stays parseable.</summary>
    public static void Note(string tool, string message) => Console.Error.WriteLine($"{tool}: {Safe(message)}");

    // An error is one line: a message that came from elsewhere (a child's stderr) is folded.
    static string OneLine(string s) => Safe(s.ReplaceLineEndings(" ").Trim());

    /// <summary>
    /// Text we did not write (archive records, registry answers, file names, names the user
    /// typed) as it may be shown on a terminal: control characters (C0 but tab, DEL, C1) and the
    /// bidirectional overrides become visible \xHH / \uHHHH escapes, so an archive planted in a
    /// shared folder cannot clear, retitle or reorder a user's terminal. Newlines are escaped too:
    /// one field stays one line.
    /// </summary>
    public static string Safe(string? s)
    {
        if (string.IsNullOrEmpty(s) || !s.AsSpan().ContainsAny(Unsafe))
            return s ?? "";
        var sb = new System.Text.StringBuilder(s.Length + 16);
        foreach (var ch in s)
        {
            if (!Unsafe.Contains(ch))
                sb.Append(ch);
            else if (ch < 0x100)
                sb.Append("\\x").Append(((int)ch).ToString("x2", System.Globalization.CultureInfo.InvariantCulture));
            else
                sb.Append("\\u").Append(((int)ch).ToString("x4", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    static readonly System.Buffers.SearchValues<char> Unsafe = System.Buffers.SearchValues.Create(
        "\0\x01\x02\x03\x04\x05\x06\a\b\n\v\f\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\e\x1c\x1d\x1e\x1f\x7f"
        + "\u0080\u0081\u0082\u0083\u0084\u0085\u0086\u0087\u0088\u0089\u008a\u008b\u008c\u008d\u008e\u008f"
        + "\u0090\u0091\u0092\u0093\u0094\u0095\u0096\u0097\u0098\u0099\u009a\u009b\u009c\u009d\u009e\u009f"
        + "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069");
}
