using System.Globalization;
using System.Text;

namespace Kslurm;

/// <summary>
/// Renders a tree the way a person would write the file: plain key/values first, then each
/// sub-table as a [section] and each array of tables as [[entries]], in insertion order.
/// </summary>
internal sealed class TomlWriter
{
    readonly StringBuilder sb = new();
    readonly List<string> path = new();
    // Guards against a table that (directly or not) contains itself.
    readonly HashSet<object> open = new(ReferenceEqualityComparer.Instance);

    public static string Write(TomlTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        var writer = new TomlWriter();
        writer.WriteBody(table);
        return writer.sb.ToString();
    }

    // Key/values that belong to this section, then the nested sections.
    void WriteBody(TomlTable table)
    {
        Enter(table);
        foreach (var (key, value) in table)
        {
            if (IsSection(value)) continue;
            sb.Append(FormatKey(key)).Append(" = ");
            WriteInline(value);
            sb.Append('\n');
        }
        foreach (var (key, value) in table)
        {
            if (!IsSection(value)) continue;
            path.Add(key);
            if (value is TomlTable sub)
            {
                // A section with only sub-sections needs no header of its own ([a.b] implies [a]),
                // but an empty one does, or the table would vanish.
                if (sub.Count == 0 || sub.Any(kv => !IsSection(kv.Value)))
                    Header("[", "]");
                WriteBody(sub);
            }
            else
            {
                foreach (var element in (TomlArray)value)
                {
                    Header("[[", "]]");
                    WriteBody((TomlTable)element);
                }
            }
            path.RemoveAt(path.Count - 1);
        }
        open.Remove(table);
    }

    void Header(string openBracket, string closeBracket)
    {
        if (sb.Length > 0) sb.Append('\n');
        sb.Append(openBracket).AppendJoin('.', path.Select(FormatKey)).Append(closeBracket).Append('\n');
    }

    // Tables become [sections]; a non-empty array holding only tables becomes [[sections]].
    static bool IsSection(object value) =>
        value is TomlTable || (value is TomlArray a && a.Count > 0 && a.All(e => e is TomlTable));

    void WriteInline(object value)
    {
        switch (value)
        {
            case string s: AppendString(sb, s); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d: sb.Append(FormatFloat(d)); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case TomlDateTime dt: sb.Append(dt.ToString()); break;
            case TomlArray array:
                Enter(array);
                sb.Append('[');
                for (int i = 0; i < array.Count; i++)
                {
                    if (i > 0) sb.Append(", ");
                    WriteInline(array[i]);
                }
                sb.Append(']');
                open.Remove(array);
                break;
            case TomlTable table:
                Enter(table);
                if (table.Count == 0) { sb.Append("{}"); open.Remove(table); break; }
                sb.Append("{ ");
                bool first = true;
                foreach (var (key, item) in table)
                {
                    if (!first) sb.Append(", ");
                    first = false;
                    sb.Append(FormatKey(key)).Append(" = ");
                    WriteInline(item);
                }
                sb.Append(" }");
                open.Remove(table);
                break;
            default:
                throw new ArgumentException($"type {value.GetType().Name} cannot be written as TOML");
        }
    }

    void Enter(object container)
    {
        if (!open.Add(container))
            throw new ArgumentException("the TOML tree contains itself (a cycle) and cannot be written");
    }

    /// <summary>A key bare when TOML allows it (A-Z a-z 0-9 _ -), otherwise as a quoted string.</summary>
    internal static string FormatKey(string key)
    {
        if (key.Length > 0 && key.All(c => c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-'))
            return key;
        var sb = new StringBuilder(key.Length + 2);
        AppendString(sb, key);
        return sb.ToString();
    }

    // Basic string: escapes for quote, backslash and control characters; other text as is.
    static void AppendString(StringBuilder sb, string s)
    {
        sb.Append('"');
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            // TOML text is Unicode scalar values; a lone surrogate has no valid spelling at all.
            if (char.IsSurrogate(c) && !(char.IsHighSurrogate(c) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])))
                throw new ArgumentException($"string contains a lone surrogate U+{(int)c:X4} and cannot be written as TOML");
            if (char.IsHighSurrogate(c))
            {
                sb.Append(c).Append(s[++i]);
                continue;
            }
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\b': sb.Append("\\b"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\f': sb.Append("\\f"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (c < 0x20 || c == 0x7F)
                        sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        sb.Append('"');
    }

    // Shortest text that reads back to the same double, always recognisable as a float.
    static string FormatFloat(double d)
    {
        if (double.IsNaN(d)) return "nan";
        if (double.IsInfinity(d)) return d > 0 ? "inf" : "-inf";
        string s = d.ToString("R", CultureInfo.InvariantCulture);
        if (s.Contains('E')) return s.Replace("E", "e");
        return s.Contains('.') ? s : s + ".0";
    }
}
