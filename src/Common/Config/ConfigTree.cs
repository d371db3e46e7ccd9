using System.Globalization;
using System.Text;

namespace Kslurm;

/// <summary>
/// kslurm's flat dotted keys ("account", "account.cpu") over a TOML tree. TOML cannot give a key
/// both a value and children, so a key that has children keeps its own value in the child
/// "default": `account = "x"` alone, or `[account] default = "x", cpu = "y"` once it has children.
/// </summary>
public static class ConfigTree
{
    public const string Own = "default";

    public static string[] Split(string key)
    {
        var parts = key.Split('.');
        if (key.Length == 0 || parts.Any(p => p.Length == 0 || !p.All(IsKeyChar)))
            throw new UsageException($"invalid config key '{key}'",
                "keys are dot-separated words of letters, digits, '_' and '-', e.g. account.gpu");
        return parts;
    }

    static bool IsKeyChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-';

    /// <summary>The key's own value as text, or null when it has none (an empty string counts as none).</summary>
    public static string? Get(TomlTable root, string key)
    {
        var node = Find(root, Split(key));
        if (node is TomlTable t)
            node = t.TryGetValue(Own, out var own) && own is not TomlTable ? own : null;
        var text = node is null ? null : Render(node);
        return string.IsNullOrEmpty(text) ? null : text;
    }

    public static object? Find(TomlTable root, string[] path)
    {
        object? node = root;
        foreach (var part in path)
        {
            if (node is not TomlTable t || !t.TryGetValue(part, out node))
                return null;
        }
        return node;
    }

    /// <summary>Every key with a value, in file order, as (dotted key, text).</summary>
    public static IEnumerable<(string Key, string Value)> Flatten(TomlTable root, string prefix = "")
    {
        foreach (var (k, v) in root)
        {
            var key = prefix.Length == 0 ? k : k == Own ? prefix : $"{prefix}.{k}";
            if (v is TomlTable t)
            {
                foreach (var kv in Flatten(t, prefix.Length == 0 ? k : $"{prefix}.{k}"))
                    yield return kv;
            }
            else if (Render(v) is { Length: > 0 } text)
            {
                yield return (key, text);
            }
        }
    }

    public static void Set(TomlTable root, string key, object value)
    {
        var path = Split(key);
        var table = root;
        for (var i = 0; i < path.Length - 1; i++)
        {
            if (!table.TryGetValue(path[i], out var next))
            {
                next = new TomlTable();
                table[path[i]] = next;
            }
            else if (next is TomlArray)
            {
                throw new KslurmException($"'{string.Join('.', path[..(i + 1)])}' is a list and cannot hold '{key}'");
            }
            else if (next is not TomlTable)
            {
                // The key gains children: keep its own value under "default".
                var promoted = new TomlTable { [Own] = next };
                table[path[i]] = promoted;
                next = promoted;
            }
            table = (TomlTable)next;
        }
        var last = path[^1];
        if (table.TryGetValue(last, out var existing) && existing is TomlTable sub)
            sub[Own] = value;
        else
            table[last] = value;
    }

    /// <summary>Removes the key's own value (children stay). Returns false if it had none.</summary>
    public static bool Unset(TomlTable root, string key)
    {
        var path = Split(key);
        var parents = new List<(TomlTable Table, string Key)>();
        var table = root;
        for (var i = 0; i < path.Length - 1; i++)
        {
            if (!table.TryGetValue(path[i], out var next) || next is not TomlTable t)
                return false;
            parents.Add((table, path[i]));
            table = t;
        }
        var last = path[^1];
        if (!table.TryGetValue(last, out var node))
            return false;
        if (node is TomlTable own)
        {
            if (!own.Remove(Own))
                return false;
            Tidy(table, last);
        }
        else
        {
            table.Remove(last);
        }
        // Drop tables left empty, and fold {default = v} back into a plain value.
        for (var i = parents.Count - 1; i >= 0; i--)
            Tidy(parents[i].Table, parents[i].Key);
        return true;
    }

    static void Tidy(TomlTable parent, string key)
    {
        if (parent[key] is not TomlTable t)
            return;
        if (t.Count == 0)
            parent.Remove(key);
        else if (t.Count == 1 && t.TryGetValue(Own, out var v) && v is not TomlTable)
            parent[key] = v;
    }

    /// <summary>Children of a key, excluding its own value, as (dotted key, text).</summary>
    public static IEnumerable<(string Key, string Value)> Children(TomlTable root, string key)
        => Find(root, Split(key)) is TomlTable t
            ? Flatten(t, key).Where(kv => kv.Key != key)
            : [];

    /// <summary>A value as users see it: strings bare, everything else in TOML syntax.</summary>
    public static string Render(object value) => value switch
    {
        string s => s,
        bool b => b ? "true" : "false",
        long l => l.ToString(CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        TomlArray a => "[" + string.Join(", ", a.Select(RenderQuoted)) + "]",
        _ => value.ToString() ?? "",
    };

    static string RenderQuoted(object value)
    {
        if (value is not string s)
            return Render(value);
        var sb = new StringBuilder("\"");
        foreach (var c in s)
            sb.Append(c switch { '"' => "\\\"", '\\' => "\\\\", _ => c.ToString() });
        return sb.Append('"').ToString();
    }
}
