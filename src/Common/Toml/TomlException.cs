namespace Kslurm;

/// <summary>
/// Thrown for any TOML input that is not valid TOML 1.0. Carries a 1-based position so tools can
/// point the user at the exact spot in their config file.
/// </summary>
public sealed class TomlException : Exception
{
    /// <summary>1-based line of the offending character.</summary>
    public int Line { get; }

    /// <summary>1-based column (in Unicode code points) of the offending character.</summary>
    public int Column { get; }

    /// <summary>Name of the input (usually a file path) given to the parser, or null.</summary>
    public string? SourceName { get; }

    /// <summary>The problem alone, without the "source:line:column: " prefix.</summary>
    public string Reason { get; }

    public TomlException(string reason, int line, int column, string? source = null)
        : base(Format(reason, line, column, source))
    {
        Reason = reason;
        Line = line;
        Column = column;
        SourceName = source;
    }

    // Compiler-style "file:line:col: message" so editors and terminals recognise the location.
    static string Format(string reason, int line, int column, string? source) =>
        source is null ? $"{line}:{column}: {reason}" : $"{source}:{line}:{column}: {reason}";
}
