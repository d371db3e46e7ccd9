namespace Kslurm;

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
    public static void Note(string tool, string message) => Console.Error.WriteLine($"{tool}: {message}");

    // An error is one line: a message that came from elsewhere (a child's stderr) is folded.
    static string OneLine(string s) => s.ReplaceLineEndings(" ").Trim();
}
