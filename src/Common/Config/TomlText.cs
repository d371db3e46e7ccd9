using System.Text;
using Tomlyn;
using Tomlyn.Model;
using Tomlyn.Parsing;
using Tomlyn.Serialization;
using Tomlyn.Syntax;

namespace Kslurm.Config;

/// <summary>
/// A TOML file read through Tomlyn without reflection: the validated syntax tree (positions, and
/// edits that keep everything else byte for byte) and the model built from it (values).
/// </summary>
public sealed class TomlText
{
    TomlText(string text, DocumentSyntax syntax, TomlTable model)
    {
        Text = text;
        Syntax = syntax;
        Model = model;
    }

    public string Text { get; }
    public DocumentSyntax Syntax { get; }
    public TomlTable Model { get; }

    /// <summary>Parses strict UTF-8 bytes; any problem is a one-line "NAME:LINE:COLUMN: what" error.</summary>
    public static TomlText Parse(byte[] bytes, string name) => Parse(Decode(bytes, name), name);

    public static TomlText Parse(string text, string name)
    {
        // Validation first: the model alone accepts duplicate keys and redefined tables.
        var syntax = SyntaxParser.Parse(text, name, validate: true);
        foreach (var d in syntax.Diagnostics)
            if (d.Kind == DiagnosticMessageKind.Error)
                throw Error(name, d.Span.Start.Line + 1, d.Span.Start.Column + 1, d.Message);
        TomlTable? model;
        try
        {
            model = TomlSerializer.Deserialize(text, TomlModelContext.Default.TomlTable);
        }
        catch (TomlException e)
        {
            throw Error(name, e.Line ?? 1, e.Column ?? 1, e.Diagnostics is { Count: > 0 } ds ? ds[0].Message : e.Message);
        }
        return new TomlText(text, syntax, model ?? new TomlTable());
    }

    static string Decode(byte[] bytes, string name)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            var at = Math.Clamp(e.Index, 0, bytes.Length);
            var before = Encoding.UTF8.GetString(bytes, 0, at);
            var line = before.Count(c => c == '\n') + 1;
            var column = before.Length - (before.LastIndexOf('\n') + 1) + 1;
            throw Error(name, line, column, "not valid UTF-8 text");
        }
    }

    public static TomlFileException Error(string name, int line, int column, string what)
        => new($"{name}:{line}:{column}: {what}");
}

/// <summary>A file that is not valid TOML (or not text): rejected as a whole.</summary>
public sealed class TomlFileException(string message) : KslurmException(message, "fix the file by hand, or move it away to start afresh");

/// <summary>Source-generated metadata for Tomlyn's untyped model: no reflection under NativeAOT.</summary>
[TomlSerializable(typeof(TomlTable))]
internal sealed partial class TomlModelContext : TomlSerializerContext;
