using System.Globalization;
using System.Text;

namespace Kslurm.Json;

/// <summary>
/// A small JSON reader and writer (RFC 8259) for kslurm's own records, settings and plans.
/// System.Text.Json would work under NativeAOT too, but costs every binary a few hundred KB for
/// features we do not use. Values read are: JsonObject, List&lt;object?&gt;, string, long, double,
/// bool and null.
/// </summary>
public static class JsonText
{
    public static object? Parse(string text, string? source = null) => new Reader(text, source).Document();

    public static object? Parse(ReadOnlySpan<byte> utf8, string? source = null)
    {
        string text;
        try { text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(utf8); }
        catch (DecoderFallbackException) { throw new JsonException($"{source ?? "json"}: not valid UTF-8"); }
        return Parse(text, source);
    }

    /// <summary>JSON text for a value made of the types above (also int, string[] and IEnumerable).</summary>
    public static string Write(object? value, bool indented = true)
    {
        var sb = new StringBuilder();
        Emit(sb, value, indented, 0);
        return sb.ToString();
    }

    public static string Quote(string s)
    {
        var sb = new StringBuilder(s.Length + 2);
        Str(sb, s);
        return sb.ToString();
    }

    static void Emit(StringBuilder sb, object? v, bool indented, int depth)
    {
        switch (v)
        {
            case null: sb.Append("null"); break;
            case bool b: sb.Append(b ? "true" : "false"); break;
            case string s: Str(sb, s); break;
            case int i: sb.Append(i.ToString(CultureInfo.InvariantCulture)); break;
            case long l: sb.Append(l.ToString(CultureInfo.InvariantCulture)); break;
            case double d when double.IsFinite(d): sb.Append(d.ToString("R", CultureInfo.InvariantCulture)); break;
            case double: throw new ArgumentException("JSON has no NaN or infinity");
            case JsonObject o:
                Container(sb, '{', '}', o, indented, depth, (kv, d) =>
                {
                    Str(sb, kv.Key);
                    sb.Append(indented ? ": " : ":");
                    Emit(sb, kv.Value, indented, d);
                });
                break;
            case System.Collections.IEnumerable e:
                Container(sb, '[', ']', e.Cast<object?>(), indented, depth, (x, d) => Emit(sb, x, indented, d));
                break;
            default: throw new ArgumentException($"cannot write {v.GetType().Name} as JSON");
        }
    }

    static void Container<T>(StringBuilder sb, char open, char close, IEnumerable<T> items, bool indented, int depth, Action<T, int> item)
    {
        sb.Append(open);
        var first = true;
        foreach (var x in items)
        {
            sb.Append(first ? "" : ",");
            if (indented) sb.Append('\n').Append(' ', (depth + 1) * 2);
            item(x, depth + 1);
            first = false;
        }
        if (!first && indented) sb.Append('\n').Append(' ', depth * 2);
        sb.Append(close);
    }

    static void Str(StringBuilder sb, string s)
    {
        sb.Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case < ' ' or '\u007f' or '\u2028' or '\u2029':
                    sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture)); break;
                default: sb.Append(c); break;
            }
        }
        sb.Append('"');
    }

    /// <summary>Recursive descent over a string; errors name the line and column.</summary>
    sealed class Reader(string text, string? source)
    {
        int _pos;

        public object? Document()
        {
            Space();
            var v = Value(0);
            Space();
            if (_pos < text.Length)
                throw Error("unexpected text after the value");
            return v;
        }

        object? Value(int depth)
        {
            if (depth > 256)
                throw Error("nested too deeply");
            if (_pos >= text.Length)
                throw Error("unexpected end");
            switch (text[_pos])
            {
                case '{': return Object(depth);
                case '[': return Array(depth);
                case '"': return String();
                case 't': return Word("true", true);
                case 'f': return Word("false", false);
                case 'n': return Word("null", null);
                case '-' or (>= '0' and <= '9'): return Number();
                default: throw Error($"unexpected '{text[_pos]}'");
            }
        }

        JsonObject Object(int depth)
        {
            var o = new JsonObject();
            _pos++;
            Space();
            if (Peek('}')) { _pos++; return o; }
            while (true)
            {
                Space();
                if (!Peek('"'))
                    throw Error("expected a string key");
                var key = String();
                Space();
                Expect(':');
                Space();
                o[key] = Value(depth + 1);
                Space();
                if (Peek(',')) { _pos++; continue; }
                Expect('}');
                return o;
            }
        }

        List<object?> Array(int depth)
        {
            var a = new List<object?>();
            _pos++;
            Space();
            if (Peek(']')) { _pos++; return a; }
            while (true)
            {
                Space();
                a.Add(Value(depth + 1));
                Space();
                if (Peek(',')) { _pos++; continue; }
                Expect(']');
                return a;
            }
        }

        string String()
        {
            _pos++; // opening quote
            var sb = new StringBuilder();
            while (true)
            {
                if (_pos >= text.Length)
                    throw Error("unterminated string");
                var c = text[_pos++];
                if (c == '"')
                    return sb.ToString();
                if (c < ' ')
                {
                    _pos--; // errors point at the offending character, as Python's json does
                    throw Error("control character in a string");
                }
                if (c != '\\')
                {
                    sb.Append(c);
                    continue;
                }
                if (_pos >= text.Length)
                    throw Error("unterminated string");
                var e = text[_pos++];
                switch (e)
                {
                    case '"' or '\\' or '/': sb.Append(e); break;
                    case 'b': sb.Append('\b'); break;
                    case 'f': sb.Append('\f'); break;
                    case 'n': sb.Append('\n'); break;
                    case 'r': sb.Append('\r'); break;
                    case 't': sb.Append('\t'); break;
                    case 'u':
                        if (_pos + 4 > text.Length || !int.TryParse(text.AsSpan(_pos, 4), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var u))
                        {
                            _pos -= 2; // at the backslash
                            throw Error("bad \\u escape");
                        }
                        sb.Append((char)u);
                        _pos += 4;
                        break;
                    default:
                        _pos -= 2; // at the backslash
                        throw Error($"bad escape '\\{e}'");
                }
            }
        }

        object Number()
        {
            var start = _pos;
            if (Peek('-')) _pos++;
            if (Peek('0')) _pos++;
            else if (!Digits()) throw Error("bad number");
            var integral = true;
            if (Peek('.'))
            {
                _pos++;
                integral = false;
                if (!Digits()) throw Error("bad number");
            }
            if (Peek('e') || Peek('E'))
            {
                _pos++;
                integral = false;
                if (Peek('+') || Peek('-')) _pos++;
                if (!Digits()) throw Error("bad number");
            }
            var s = text.AsSpan(start, _pos - start);
            if (integral && long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l))
                return l;
            return double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);
        }

        bool Digits()
        {
            var start = _pos;
            while (_pos < text.Length && char.IsAsciiDigit(text[_pos])) _pos++;
            return _pos > start;
        }

        object? Word(string word, object? value)
        {
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) != 0)
                throw Error($"unexpected '{text[_pos]}'");
            _pos += word.Length;
            return value;
        }

        bool Peek(char c) => _pos < text.Length && text[_pos] == c;

        void Expect(char c)
        {
            if (!Peek(c))
                throw Error(_pos < text.Length ? $"expected '{c}', found '{text[_pos]}'" : $"expected '{c}' before the end");
            _pos++;
        }

        void Space()
        {
            while (_pos < text.Length && text[_pos] is ' ' or '\t' or '\n' or '\r') _pos++;
        }

        JsonException Error(string what)
        {
            int line = 1, col = 1;
            for (var i = 0; i < _pos && i < text.Length; i++)
            {
                if (text[i] == '\n') { line++; col = 1; }
                else col++;
            }
            return new JsonException($"{source ?? "json"}:{line}:{col}: {what}");
        }
    }
}

/// <summary>A JSON object: insertion-ordered string keys.</summary>
public sealed class JsonObject : IEnumerable<KeyValuePair<string, object?>>
{
    readonly List<KeyValuePair<string, object?>> _items = [];
    readonly Dictionary<string, int> _index = new(StringComparer.Ordinal);

    public object? this[string key]
    {
        get => _index.TryGetValue(key, out var i) ? _items[i].Value : null;
        set
        {
            if (_index.TryGetValue(key, out var i))
                _items[i] = new(key, value);
            else
            {
                _index[key] = _items.Count;
                _items.Add(new(key, value));
            }
        }
    }

    public bool ContainsKey(string key) => _index.ContainsKey(key);

    public string? String(string key) => this[key] as string;

    public long? Long(string key) => this[key] is long l ? l : null;

    public JsonObject? Object(string key) => this[key] as JsonObject;

    public List<object?>? Array(string key) => this[key] as List<object?>;

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _items.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

public sealed class JsonException(string message) : Exception(message);
