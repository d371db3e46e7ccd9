using System.Buffers;
using System.Text.Unicode;

namespace Kslurm;

/// <summary>Entry points for reading and writing TOML 1.0 documents.</summary>
public static class Toml
{
    /// <summary>
    /// Parses a document held in a string. <paramref name="source"/> (e.g. the file name) prefixes
    /// error messages. Throws <see cref="TomlException"/> for anything that is not valid TOML 1.0.
    /// </summary>
    public static TomlTable Parse(string text, string? source = null) => TomlReader.ReadDocument(text, source);

    /// <summary>
    /// Parses raw file bytes. TOML must be UTF-8: malformed sequences (which a string decoder would
    /// silently turn into U+FFFD) are rejected here with their position.
    /// </summary>
    public static TomlTable Parse(ReadOnlySpan<byte> utf8, string? source = null) =>
        TomlReader.ReadDocument(DecodeUtf8(utf8, source), source);

    /// <summary>Reads and parses a file; the path is used as the source name in errors.</summary>
    public static TomlTable ParseFile(string path) => Parse(File.ReadAllBytes(path), path);

    /// <summary>Renders a tree as a TOML document; <see cref="Parse(string, string?)"/> reads it back equal.</summary>
    public static string Write(TomlTable table) => TomlWriter.Write(table);

    static string DecodeUtf8(ReadOnlySpan<byte> utf8, string? source)
    {
        // A leading BOM is kept: the reader strips exactly one, wherever the text came from.
        char[] buffer = ArrayPool<char>.Shared.Rent(Math.Max(utf8.Length, 1));
        try
        {
            var status = Utf8.ToUtf16(utf8, buffer, out int read, out int written, replaceInvalidSequences: false);
            if (status != OperationStatus.Done)
            {
                // Line and column of the bad byte, counting code points the way the reader does.
                int line = 1, column = 1;
                for (int i = 0; i < read; i++)
                {
                    if (utf8[i] == (byte)'\n') { line++; column = 1; }
                    else if ((utf8[i] & 0xC0) != 0x80) column++;
                }
                throw new TomlException($"invalid UTF-8 byte 0x{utf8[read]:X2}", line, column, source);
            }
            return new string(buffer, 0, written);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(buffer);
        }
    }
}
