using System.Text;

namespace Kslurm;

/// <summary>
/// Recursive-descent TOML 1.0 reader. This part walks the document: lines, keys, table headers,
/// and the rules that stop a table or key from being defined twice. Values are read in
/// TomlReader.Values.cs, strings in TomlReader.Strings.cs.
/// </summary>
internal sealed partial class TomlReader
{
    // How a table came to exist decides what may later extend it (TOML 1.0 "Table" rules).
    enum Origin
    {
        Implicit, // created as a parent by a header such as [a.b.c]; one later [a] may still define it
        Header,   // defined by its own [header] or [[header]] (or the root): never again
        Dotted,   // created by a dotted key (a.b = 1): further dotted keys may add to it, headers not
        Inline,   // an inline table { ... }: complete as written, nothing may add to it
    }

    // Deep enough for any real document, shallow enough that "[[[[..." cannot overflow the stack.
    const int MaxDepth = 256;

    readonly string text;
    readonly string? source;
    int pos;
    int depth;
    readonly StringBuilder buffer = new();
    readonly TomlTable root = new();
    // Parser bookkeeping lives here rather than in the public types; keyed by identity.
    readonly Dictionary<TomlTable, Origin> origins = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<TomlArray> tableArrays = new(ReferenceEqualityComparer.Instance);

    // A key segment and where it started, so redefinition errors point at the right key.
    readonly record struct KeyPart(string Name, int Pos);

    TomlReader(string text, string? source)
    {
        this.text = text;
        this.source = source;
        // One byte-order mark at the very start is allowed; anywhere else it is an error.
        if (text.Length > 0 && text[0] == '\uFEFF') pos = 1;
    }

    public static TomlTable ReadDocument(string text, string? source)
    {
        ArgumentNullException.ThrowIfNull(text);
        return new TomlReader(text, source).ReadDocument();
    }

    /// <summary>Reads a string that must be exactly one date/time literal.</summary>
    public static TomlDateTime ReadDateTimeLiteral(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var reader = new TomlReader(text, null);
        if (!reader.AtDateStart() && !reader.AtTimeStart())
            throw reader.Error(0, "expected a date or time such as 1979-05-27T07:32:00Z");
        var value = reader.ReadDateTime();
        if (reader.pos < text.Length) throw reader.Error(reader.pos, $"unexpected {reader.Describe(reader.pos)} after date/time");
        return value;
    }

    TomlTable ReadDocument()
    {
        origins[root] = Origin.Header;
        var current = root;
        while (true)
        {
            SkipSpaces();
            if (pos >= text.Length) return root;
            char c = text[pos];
            if (c == '[')
            {
                current = ReadHeader();
                ExpectLineEnd("table header");
            }
            else if (c is not ('#' or '\n' or '\r'))
            {
                ReadKeyValue(current);
                ExpectLineEnd("value");
            }
            else
                ExpectLineEnd("comment"); // blank or comment-only line
        }
    }

    // After a header or key/value only spaces and a comment may follow on the same line.
    void ExpectLineEnd(string after)
    {
        SkipSpaces();
        if (Cur == '#') SkipComment();
        if (pos >= text.Length) return;
        if (text[pos] == '\n') { pos++; return; }
        if (text[pos] == '\r' && Peek(1) == '\n') { pos += 2; return; }
        throw Error(pos, text[pos] == '\r'
            ? "carriage return without line feed"
            : $"expected end of line after {after}, found {Describe(pos)}");
    }

    // ---- keys ------------------------------------------------------------------------------

    List<KeyPart> ReadKey()
    {
        var parts = new List<KeyPart>();
        while (true)
        {
            int start = pos;
            parts.Add(new KeyPart(ReadSimpleKey(), start));
            SkipSpaces();
            if (Cur != '.') return parts;
            pos++;
            SkipSpaces();
        }
    }

    string ReadSimpleKey()
    {
        int c = Cur;
        if (c == '"' || c == '\'')
        {
            if (Peek(1) == c && Peek(2) == c)
                throw Error(pos, "multi-line strings cannot be used as keys");
            return c == '"' ? ReadBasicString() : ReadLiteralString();
        }
        int start = pos;
        while (pos < text.Length && IsBareKeyChar(text[pos])) pos++;
        if (pos == start)
            throw Error(pos, $"expected a key, found {Describe(pos)}");
        return text[start..pos];
    }

    static bool IsBareKeyChar(char c) =>
        c is >= 'A' and <= 'Z' or >= 'a' and <= 'z' or >= '0' and <= '9' or '_' or '-';

    void ReadKeyValue(TomlTable table)
    {
        var key = ReadKey();
        if (Cur != '=')
            throw Error(pos, $"expected '=' after key {KeyText(key, key.Count)}, found {Describe(pos)}");
        pos++;
        SkipSpaces();
        var value = ReadValue();
        Assign(table, key, value);
    }

    // Stores a value under a (possibly dotted) key relative to the current table.
    void Assign(TomlTable table, List<KeyPart> key, object value)
    {
        var t = table;
        for (int i = 0; i < key.Count - 1; i++)
        {
            var part = key[i];
            if (!t.TryGetValue(part.Name, out var existing))
            {
                var created = new TomlTable();
                origins[created] = Origin.Dotted;
                t[part.Name] = created;
                t = created;
            }
            else if (existing is TomlTable sub && origins.GetValueOrDefault(sub) == Origin.Dotted)
                t = sub;
            else if (existing is TomlTable other)
                throw Error(part.Pos, origins.GetValueOrDefault(other) == Origin.Inline
                    ? $"cannot add to inline table {KeyText(key, i + 1)}: an inline table is complete as written"
                    : $"cannot add to table {KeyText(key, i + 1)} with a dotted key: it is defined by a [table] header");
            else
                throw Error(part.Pos, $"key {KeyText(key, i + 1)} is already {Kind(existing)}, not a table");
        }
        var last = key[^1];
        if (t.ContainsKey(last.Name))
            throw Error(last.Pos, $"duplicate key {KeyText(key, key.Count)}");
        t[last.Name] = value;
    }

    // ---- table headers ----------------------------------------------------------------------

    // Reads [a.b] or [[a.b]] and returns the table that following key/values go into.
    TomlTable ReadHeader()
    {
        bool isArray = Peek(1) == '[';
        pos += isArray ? 2 : 1;
        SkipSpaces();
        var key = ReadKey();
        string close = isArray ? "]]" : "]";
        if (Cur != ']' || (isArray && Peek(1) != ']'))
            throw Error(pos, $"expected '{close}' after table name {KeyText(key, key.Count)}, found {Describe(isArray && Cur == ']' ? pos + 1 : pos)}");
        pos += close.Length;

        var t = root;
        for (int i = 0; i < key.Count - 1; i++)
        {
            var part = key[i];
            if (!t.TryGetValue(part.Name, out var existing))
            {
                var created = new TomlTable();
                origins[created] = Origin.Implicit;
                t[part.Name] = created;
                t = created;
            }
            else if (existing is TomlTable sub)
            {
                if (origins.GetValueOrDefault(sub) == Origin.Inline)
                    throw Error(part.Pos, $"cannot extend inline table {KeyText(key, i + 1)}");
                t = sub;
            }
            else if (existing is TomlArray arr && tableArrays.Contains(arr))
                t = (TomlTable)arr[^1]; // [a.b] after [[a]] goes into the latest element of a
            else
                throw Error(part.Pos, $"key {KeyText(key, i + 1)} is already {Kind(existing)}, not a table");
        }

        var last = key[^1];
        string name = KeyText(key, key.Count);
        t.TryGetValue(last.Name, out var current);
        if (isArray)
        {
            TomlArray array;
            if (current is null)
            {
                array = new TomlArray();
                tableArrays.Add(array);
                t[last.Name] = array;
            }
            else if (current is TomlArray a && tableArrays.Contains(a))
                array = a;
            else
                throw Error(last.Pos, $"cannot define array of tables {name}: it is already {Kind(current)}");
            var element = new TomlTable();
            origins[element] = Origin.Header;
            array.Add(element);
            return element;
        }
        if (current is null)
        {
            var created = new TomlTable();
            origins[created] = Origin.Header;
            t[last.Name] = created;
            return created;
        }
        if (current is TomlTable existingTable && origins.GetValueOrDefault(existingTable) == Origin.Implicit)
        {
            origins[existingTable] = Origin.Header;
            return existingTable;
        }
        throw Error(last.Pos, current is TomlTable defined
            ? origins.GetValueOrDefault(defined) switch
            {
                Origin.Dotted => $"table {name} is already defined by dotted keys",
                Origin.Inline => $"table {name} is already defined as an inline table",
                _ => $"table {name} is already defined",
            }
            : $"cannot define table {name}: it is already {Kind(current)}");
    }

    // "an array of tables", "a string", ... for messages.
    string Kind(object value)
    {
        string kind = value is TomlArray a && tableArrays.Contains(a) ? "array of tables" : TomlValue.Describe(value);
        return (kind[0] is 'a' or 'i' or 'o' ? "an " : "a ") + kind;
    }

    // The key as written in TOML; wrapped in quotes for the message unless it already has some.
    static string KeyText(List<KeyPart> key, int count)
    {
        string text = string.Join('.', key.Take(count).Select(k => TomlWriter.FormatKey(k.Name)));
        return text.Contains('"') ? text : $"\"{text}\"";
    }

    // ---- low-level cursor -------------------------------------------------------------------

    int Cur => pos < text.Length ? text[pos] : -1;

    int Peek(int offset) => pos + offset < text.Length ? text[pos + offset] : -1;

    void SkipSpaces()
    {
        while (pos < text.Length && (text[pos] == ' ' || text[pos] == '\t')) pos++;
    }

    // Between array elements: spaces, newlines and comments in any mix.
    void SkipSpacesCommentsNewlines()
    {
        while (true)
        {
            SkipSpaces();
            if (Cur == '#') SkipComment();
            if (Cur == '\n') pos++;
            else if (Cur == '\r' && Peek(1) == '\n') pos += 2;
            else return;
        }
    }

    // A comment runs to the end of the line; it may hold any text except control characters.
    void SkipComment()
    {
        pos++;
        while (pos < text.Length && text[pos] != '\n')
        {
            if (text[pos] == '\r' && Peek(1) == '\n') return;
            CheckTextChar("comment");
            pos += char.IsHighSurrogate(text[pos]) ? 2 : 1;
        }
    }

    // Rejects characters TOML forbids in comments and strings: controls other than tab, DEL, and
    // broken UTF-16 (a string built in memory may hold a lone surrogate).
    void CheckTextChar(string where)
    {
        char c = text[pos];
        if (c < 0x20 && c != '\t' || c == 0x7F)
            throw Error(pos, c == '\r'
                ? $"carriage return without line feed in {where}"
                : $"control character U+{(int)c:X4} is not allowed in {where}");
        if (char.IsHighSurrogate(c) ? !(pos + 1 < text.Length && char.IsLowSurrogate(text[pos + 1])) : char.IsLowSurrogate(c))
            throw Error(pos, $"invalid UTF-16 surrogate U+{(int)c:X4} in {where}");
    }

    string Describe(int at)
    {
        if (at >= text.Length) return "end of file";
        char c = text[at];
        return c switch
        {
            '\n' => "end of line",
            '\r' when at + 1 < text.Length && text[at + 1] == '\n' => "end of line",
            '\'' => "\"'\"",
            _ when c < 0x20 || c == 0x7F || char.IsSurrogate(c) || c == '\uFEFF' || char.IsWhiteSpace(c) => $"U+{(int)c:X4}",
            _ => $"'{c}'",
        };
    }

    TomlException Error(int at, string reason)
    {
        at = Math.Min(at, text.Length);
        int line = 1, lineStart = 0;
        for (int i = 0; i < at; i++)
            if (text[i] == '\n') { line++; lineStart = i + 1; }
        int column = 1;
        for (int i = lineStart; i < at; i++)
            if (!char.IsLowSurrogate(text[i])) column++;
        return new TomlException(reason, line, column, source);
    }
}
