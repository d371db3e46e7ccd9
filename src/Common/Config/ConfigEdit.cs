using Tomlyn.Model;
using Tomlyn.Syntax;

namespace Kslurm.Config;

/// <summary>One key = value line of a TOML file, with its full dotted path.</summary>
/// <param name="Depth">Length of the path of the table it is written in (root 0, [a.b] 2).</param>
/// <param name="Header">The [table] it is written under; null at the top of the file.</param>
/// <param name="Inline">Inside an inline table (`k = { ... }`).</param>
public sealed record TomlKey(string[] Path, KeyValueSyntax Syntax, int Depth, TableSyntax? Header, bool Inline)
{
    /// <summary>Every key = value of a document, outside arrays of tables (kslurm uses none).</summary>
    public static List<TomlKey> All(DocumentSyntax doc)
    {
        var list = new List<TomlKey>();
        void Add(KeyValueSyntax kv, string[] prefix, int depth, TableSyntax? header, bool inline)
        {
            if (kv.Key is null)
                return;
            var path = prefix.Concat(Parts(kv.Key)).ToArray();
            list.Add(new TomlKey(path, kv, depth, header, inline));
            if (kv.Value is InlineTableSyntax table)
                foreach (var item in table.Items)
                    if (item.KeyValue is { } inner)
                        Add(inner, path, path.Length, header, true);
        }
        foreach (var kv in doc.KeyValues)
            Add(kv, [], 0, null, false);
        foreach (var t in doc.Tables.OfType<TableSyntax>())
        {
            if (t.Name is null)
                continue;
            var path = Parts(t.Name);
            foreach (var kv in t.Items)
                Add(kv, path, path.Length, t, false);
        }
        return list;
    }

    public static string[] Parts(KeySyntax key)
    {
        var parts = new List<string> { Part(key.Key) };
        foreach (var dotted in key.DotKeys)
            parts.Add(Part(dotted.Key));
        return parts.ToArray();
    }

    static string Part(BareKeyOrStringValueSyntax? node) => node switch
    {
        BareKeySyntax bare => bare.Key?.Text ?? "",
        StringValueSyntax s => s.Value ?? "",
        _ => "",
    };

    /// <summary>Where the value starts, as "FILE:LINE:COLUMN".</summary>
    public string Where(string file)
    {
        var at = ((SyntaxNode?)Syntax.Value ?? Syntax).Span.Start;
        return $"{file}:{at.Line + 1}:{at.Column + 1}";
    }
}

/// <summary>
/// Changes to one settings file, made on its text at places found through Tomlyn's syntax tree:
/// only the lines of the key being changed are touched, so comments, blank lines, key order and
/// quoting everywhere else stay byte for byte, and a comment on the changed line stays on it. A new
/// key goes after its closest relative in its table, else into a new table at the end. kslurm's
/// rule sits on top: a key with both a value and children keeps the value under "default", and
/// folds back to a plain key when the children go.
/// </summary>
public sealed class ConfigEdit
{
    readonly string _name;
    TomlText _toml;

    public ConfigEdit(TomlText toml, string name)
    {
        _toml = toml;
        _name = name;
    }

    public string Text => _toml.Text;
    public TomlTable Model => _toml.Model;
    const string Own = ConfigTree.Own;

    string NewLine => Text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";

    public void Set(string key, string value)
    {
        var path = ConfigTree.Split(key);
        // A key on the way that holds a plain value gains children: its value becomes KEY.default,
        // renamed on its own line (`account = "x"` -> `account.default = "x"`).
        for (var i = 1; i < path.Length; i++)
        {
            var node = ConfigTree.Find(Model, path[..i]);
            if (node is null or TomlTable)
                continue;
            var prefix = string.Join('.', path[..i]);
            if (node is TomlArray or TomlTableArray)
                throw new KslurmException($"'{prefix}' is a list and cannot hold '{key}'");
            var own = Find(path[..i]) ?? throw HandEdit(key, $"{prefix} is not written as a plain key");
            Rename(own, [.. path[..i], Own], key);
        }
        string[] target = ConfigTree.Find(Model, path) is TomlTable ? [.. path, Own] : path;
        if (Find(target) is { } existing)
            ReplaceValue(existing, value, key);
        else
            Insert(target, ConfigTree.Quote(value), key);
    }

    /// <summary>Removes the key's own value (children stay). Returns false if it had none.</summary>
    public bool Unset(string key)
    {
        var path = ConfigTree.Split(key);
        string[] target = ConfigTree.Find(Model, path) switch
        {
            null => [],
            TomlTable t => t.TryGetValue(Own, out var own) && own is not TomlTable ? [.. path, Own] : [],
            _ => path,
        };
        if (target.Length == 0)
            return false;
        var entry = Find(target) ?? throw HandEdit(key, "it is not written as a plain key");
        if (entry.Inline)
            throw HandEdit(key, "it is inside an inline table { ... }");
        Apply(RemoveLines(Text, LineStart(entry.Syntax), LineEnd(entry.Syntax)), key);
        // Drop tables left empty, and fold {default = v} back into a plain value.
        for (var i = target.Length - 1; i >= 1; i--)
            Tidy(target[..i], key);
        return true;
    }

    void Tidy(string[] table, string key)
    {
        if (ConfigTree.Find(Model, table) is not TomlTable t)
            return;
        var header = Header(table);
        if (t.Count == 0)
        {
            if (header is not null && header.Items.ChildrenCount == 0)
                Apply(RemoveLines(Text, LineStart(header), LineEnd(header)), key);
            return;
        }
        if (t.Count != 1 || !t.TryGetValue(Own, out var own) || own is TomlTable || Find([.. table, Own]) is not { Inline: false } entry)
            return;
        if (entry.Depth < table.Length)
        {
            Rename(entry, table, key); // `account.default = "x"` -> `account = "x"`
            return;
        }
        if (header is null || entry.Header != header)
            return;
        // [account] holding only `default = "x"  # note`: the header goes, and the line moves, value
        // and comment as written, into the table above as `account = "x"  # note`.
        var valueStart = entry.Syntax.Value!.Span.Start.Offset;
        var end = LineEnd(entry.Syntax);
        var rest = Text[valueStart..end].TrimEnd('\n', '\r');
        var text = RemoveLines(Text, LineStart(entry.Syntax), end);
        text = RemoveLines(text, LineStart(header), LineEnd(header));
        Apply(text, key);
        Insert(table, rest, key);
    }

    TomlKey? Find(string[] path)
        => TomlKey.All(_toml.Syntax).FirstOrDefault(k => k.Path.AsSpan().SequenceEqual(path));

    TableSyntax? Header(string[] path)
        => _toml.Syntax.Tables.OfType<TableSyntax>().FirstOrDefault(t => t.Name is not null && TomlKey.Parts(t.Name).AsSpan().SequenceEqual(path));

    void ReplaceValue(TomlKey entry, string value, string key)
    {
        var node = entry.Syntax.Value!;
        var start = node.Span.Start.Offset;
        var end = node.Span.End.Offset + 1;
        // Keep a literal string literal when the new value can be one.
        var literal = node is StringValueSyntax && Text[start] == '\'' && Text[start..end] is not ['\'', '\'', '\'', ..]
                      && !value.Any(c => c == '\'' || char.IsControl(c));
        Apply(Text[..start] + (literal ? $"'{value}'" : ConfigTree.Quote(value)) + Text[end..], key);
    }

    void Rename(TomlKey entry, string[] path, string key)
    {
        var node = entry.Syntax.Key!;
        var start = node.Span.Start.Offset;
        var end = node.Span.End.Offset + 1;
        Apply(Text[..start] + string.Join('.', path[entry.Depth..]) + Text[end..], key);
    }

    /// <summary>Adds `target = value` where a person would: its table, or a new table at the end.</summary>
    void Insert(string[] target, string value, string key)
    {
        var keys = TomlKey.All(_toml.Syntax);
        if (keys.FirstOrDefault(k => k.Path.Length < target.Length && target.AsSpan().StartsWith(k.Path) && k.Syntax.Value is InlineTableSyntax) is { } inline)
            throw HandEdit(key, $"{string.Join('.', inline.Path)} is an inline table {{ ... }} ({inline.Where(_name)})");
        // The most specific [table] that holds the key, else the top of the file.
        var header = _toml.Syntax.Tables.OfType<TableSyntax>()
            .Where(t => t.Name is not null)
            .Select(t => (Table: t, Path: TomlKey.Parts(t.Name!)))
            .Where(t => t.Path.Length < target.Length && target.AsSpan().StartsWith(t.Path))
            .OrderByDescending(t => t.Path.Length)
            .FirstOrDefault();
        var depth = header.Table is null ? 0 : header.Path.Length;
        var rel = target[depth..];
        var siblings = keys.Where(k => !k.Inline && k.Header == header.Table).ToList();
        var nl = NewLine;

        // After its closest relative in that table (`account.gpu` after `account.cpu`).
        var related = siblings
            .Select(k => (Key: k, Common: CommonPrefix(k.Path[depth..], rel)))
            .Where(k => k.Common > 0)
            .ToList();
        if (related.Count > 0)
        {
            var best = related.Max(k => k.Common);
            var anchor = related.Last(k => k.Common == best).Key;
            InsertLine(LineEnd(anchor.Syntax), Indent(anchor.Syntax) + Line(rel, value), key);
            return;
        }
        if (rel.Length > 1)
        {
            // A table of its own, at the end, after a blank line.
            var text = Text;
            if (text.Length > 0 && !text.EndsWith('\n'))
                text += nl;
            if (text.Length > 0 && !text.EndsWith(nl + nl, StringComparison.Ordinal))
                text += nl;
            Apply($"{text}[{string.Join('.', target[..^1])}]{nl}{Line([target[^1]], value)}{nl}", key);
            return;
        }
        if (siblings.Count > 0)
        {
            // "default" first (it is the table's own value), anything else last.
            if (rel[0] == Own)
                InsertLine(LineStart(siblings[0].Syntax), Indent(siblings[0].Syntax) + Line(rel, value), key);
            else
                InsertLine(LineEnd(siblings[^1].Syntax), Indent(siblings[^1].Syntax) + Line(rel, value), key);
            return;
        }
        if (header.Table is not null)
        {
            InsertLine(LineEnd(header.Table), Line(rel, value), key);
            return;
        }
        // The top of a file with no plain keys yet: before the first table and the comments above it.
        var first = _toml.Syntax.Tables.FirstOrDefault();
        if (first is null)
        {
            InsertLine(Text.Length, Line(rel, value), key);
            return;
        }
        InsertLine(CommentBlockAbove(LineStart(first)), Line(rel, value) + NewLine, key);
    }

    static string Line(string[] rel, string value) => $"{string.Join('.', rel)} = {value}";

    static int CommonPrefix(string[] a, string[] b)
    {
        var n = 0;
        while (n < a.Length && n < b.Length && a[n] == b[n])
            n++;
        return n;
    }

    void InsertLine(int offset, string line, string key)
    {
        var nl = NewLine;
        var before = Text[..offset];
        if (before.Length > 0 && !before.EndsWith('\n'))
            before += nl;
        Apply(before + line + nl + Text[offset..], key);
    }

    int LineStart(SyntaxNode node)
    {
        var start = node.Span.Start.Offset;
        return start == 0 ? 0 : Text.LastIndexOf('\n', start - 1) + 1;
    }

    /// <summary>Just past the newline that ends the node's last line (or the end of the text).</summary>
    int LineEnd(SyntaxNode node)
    {
        var last = node switch
        {
            KeyValueSyntax kv => (SyntaxNode?)kv.Value ?? kv,
            TableSyntax t => (SyntaxNode?)t.CloseBracket ?? t,
            _ => node,
        };
        var nl = Text.IndexOf('\n', last.Span.End.Offset + 1);
        return nl < 0 ? Text.Length : nl + 1;
    }

    string Indent(SyntaxNode node) => Text[LineStart(node)..node.Span.Start.Offset];

    /// <summary>The start of the comment lines directly above a line (no blank line between).</summary>
    int CommentBlockAbove(int lineStart)
    {
        var at = lineStart;
        while (at > 0)
        {
            var prev = at < 2 ? 0 : Text.LastIndexOf('\n', at - 2) + 1;
            if (!Text[prev..(at - 1)].TrimStart().StartsWith('#'))
                break;
            at = prev;
        }
        return at;
    }

    static string RemoveLines(string text, int start, int end) => text[..start] + text[end..];

    void Apply(string text, string key)
    {
        try
        {
            _toml = TomlText.Parse(text, _name);
        }
        catch (TomlFileException e)
        {
            // Our own edit broke the file: refuse rather than write it.
            throw HandEdit(key, $"the change would not be valid TOML ({e.Message})");
        }
    }

    KslurmException HandEdit(string key, string why)
        => new($"cannot change {key} in {_name} automatically: {why}", "edit the file by hand");
}
