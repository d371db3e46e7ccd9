using System.Globalization;
using System.Text;
using Tomlyn;
using Tomlyn.Model;

namespace Kslurm.Config;

/// <summary>
/// kslurm's flat dotted keys ("account", "account.cpu") read from a TOML model. TOML cannot give a
/// key both a value and children, so a key that has children keeps its own value in the child
/// "default": `account = "x"` alone, or `[account] default = "x", cpu = "y"` once it has children.
/// Writes are <see cref="ConfigEdit"/>'s.
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

    /// <summary>The key's own value (itself, or its "default" child), or null when it has none.</summary>
    public static object? OwnValue(TomlTable root, string key)
    {
        var node = Find(root, Split(key));
        if (node is TomlTable t)
            node = t.TryGetValue(Own, out var own) && own is not TomlTable ? own : null;
        return node;
    }

    /// <summary>The key's own value as text, or null when it has none (an empty string counts as none).</summary>
    public static string? Get(TomlTable root, string key)
    {
        var node = OwnValue(root, key);
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
            else if (v is not null && Render(v) is { Length: > 0 } text)
            {
                yield return (key, text);
            }
        }
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
        double d => double.IsNaN(d) ? "nan" : double.IsInfinity(d) ? (d > 0 ? "inf" : "-inf") : d.ToString("R", CultureInfo.InvariantCulture),
        TomlDateTime dt => dt.ToString(),
        TomlArray a => "[" + string.Join(", ", a.Select(x => x is null ? "" : RenderQuoted(x))) + "]",
        TomlTableArray ta => "[" + string.Join(", ", ta.Select(RenderQuoted)) + "]",
        TomlTable t => "{ " + string.Join(", ", t.Select(kv => $"{kv.Key} = {(kv.Value is null ? "" : RenderQuoted(kv.Value))}")) + " }",
        _ => value.ToString() ?? "",
    };

    /// <summary>What a value is, in words for an error message.</summary>
    public static string Describe(object value) => value switch
    {
        string s => $"the string \"{s}\"",
        bool b => $"the boolean {(b ? "true" : "false")}",
        long or double => $"the number {Render(value)}",
        TomlDateTime => $"the date {Render(value)}",
        TomlArray or TomlTableArray => $"the list {Render(value)}",
        TomlTable => "a table",
        _ => Render(value),
    };

    static string RenderQuoted(object value) => value is string s ? Quote(s) : Render(value);

    /// <summary>A TOML basic string.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var c in s)
        {
            sb.Append(c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                < ' ' or '\x7f' => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }
        return sb.Append('"').ToString();
    }
}
