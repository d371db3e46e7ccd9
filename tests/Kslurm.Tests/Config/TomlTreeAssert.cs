using System.Globalization;
using System.Text.Json;
using Tomlyn;
using Tomlyn.Model;

namespace Kslurm.Tests.Config;

/// <summary>
/// Deep comparisons used by the corpus tests. Each returns null when equal, else a description of
/// the first difference with its path.
/// </summary>
internal static class TomlTreeAssert
{
    // ---- against toml-test's tagged JSON ----------------------------------------------------

    public static string? CompareJson(JsonElement expected, object? actual, string path = "")
    {
        if (IsTaggedScalar(expected))
            return CompareScalar(expected.GetProperty("type").GetString()!, expected.GetProperty("value").GetString()!, actual, path);
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
                if (actual is not TomlTable table) return $"{path}: expected table, got {Name(actual)}";
                var props = expected.EnumerateObject().ToList();
                foreach (var p in props)
                {
                    if (!table.TryGetValue(p.Name, out var value)) return $"{path}: missing key \"{p.Name}\"";
                    if (CompareJson(p.Value, value, $"{path}/{p.Name}") is { } diff) return diff;
                }
                if (props.Count != table.Count)
                {
                    var extra = table.Keys.Except(props.Select(p => p.Name));
                    return $"{path}: unexpected keys {string.Join(", ", extra.Select(k => $"\"{k}\""))}";
                }
                return null;
            case JsonValueKind.Array:
                var array = actual switch
                {
                    TomlArray a => a.ToList(),
                    TomlTableArray ta => ta.Cast<object?>().ToList(),
                    _ => null,
                };
                if (array is null) return $"{path}: expected array, got {Name(actual)}";
                var items = expected.EnumerateArray().ToList();
                if (items.Count != array.Count) return $"{path}: expected {items.Count} elements, got {array.Count}";
                for (int i = 0; i < items.Count; i++)
                    if (CompareJson(items[i], array[i], $"{path}[{i}]") is { } diff) return diff;
                return null;
            default:
                return $"{path}: unexpected JSON {expected.ValueKind}";
        }
    }

    // {"type": "...", "value": "..."} with both strings is a scalar; a TOML table with those two
    // keys would hold tagged objects, not bare strings, so it cannot be mistaken for one.
    static bool IsTaggedScalar(JsonElement e) =>
        e.ValueKind == JsonValueKind.Object && e.EnumerateObject().Count() == 2 &&
        e.TryGetProperty("type", out var t) && t.ValueKind == JsonValueKind.String &&
        e.TryGetProperty("value", out var v) && v.ValueKind == JsonValueKind.String;

    static string? CompareScalar(string type, string value, object? actual, string path)
    {
        bool ok = type switch
        {
            "string" => actual is string s && s == value,
            "integer" => actual is long l && l == long.Parse(value, CultureInfo.InvariantCulture),
            "float" => actual is double d && SameFloat(ParseJsonFloat(value), d),
            "bool" => actual is bool b && (b ? "true" : "false") == value,
            "datetime" => IsDate(actual, TomlDateTimeKind.OffsetDateTimeByZ, value) || IsDate(actual, TomlDateTimeKind.OffsetDateTimeByNumber, value),
            "datetime-local" => IsDate(actual, TomlDateTimeKind.LocalDateTime, value),
            "date-local" => IsDate(actual, TomlDateTimeKind.LocalDate, value),
            "time-local" => IsDate(actual, TomlDateTimeKind.LocalTime, value),
            _ => false,
        };
        return ok ? null : $"{path}: expected {type} {value}, got {Name(actual)} {Show(actual)}";
    }

    static double ParseJsonFloat(string value) => value switch
    {
        "inf" or "+inf" => double.PositiveInfinity,
        "-inf" => double.NegativeInfinity,
        "nan" or "+nan" or "-nan" => double.NaN,
        _ => double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    // By value, like toml-test: "1e6" equals 1000000.0, any NaN equals NaN, but -0.0 is not 0.0.
    static bool SameFloat(double a, double b) =>
        double.IsNaN(a) ? double.IsNaN(b) : a == b && (a != 0 || double.IsNegative(a) == double.IsNegative(b));

    static bool IsDate(object? actual, TomlDateTimeKind kind, string expected) =>
        actual is TomlDateTime dt && dt.Kind == kind && NormalizeDate(dt.ToString()) == NormalizeDate(expected);

    // Spelling differences that do not change the value: t/T or space separator, z/Z vs +00:00,
    // and trailing zeros of the fraction.
    static string NormalizeDate(string s)
    {
        s = s.ToUpperInvariant();
        if (s.Length > 10 && s[10] == ' ') s = s[..10] + "T" + s[11..];
        if (s.EndsWith("+00:00", StringComparison.Ordinal) || s.EndsWith("-00:00", StringComparison.Ordinal))
            s = s[..^6] + "Z";
        int dot = s.IndexOf('.');
        if (dot >= 0)
        {
            int end = dot + 1;
            while (end < s.Length && char.IsAsciiDigit(s[end])) end++;
            var fraction = s[(dot + 1)..end].TrimEnd('0');
            s = s[..dot] + (fraction.Length > 0 ? "." + fraction : "") + s[end..];
        }
        return s;
    }

    static string Name(object? value) => value switch
    {
        null => "null",
        TomlTable => "table",
        TomlArray or TomlTableArray => "array",
        TomlDateTime dt => dt.Kind.ToString(),
        _ => value.GetType().Name,
    };

    static string Show(object? value) => value switch
    {
        string s => $"\"{JsonEncodedText.Encode(s)}\"",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        null or TomlTable or TomlArray or TomlTableArray => "",
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };
}
