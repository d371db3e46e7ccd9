using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Kslurm;

/// <summary>
/// A TOML table: string keys mapped to values, kept in insertion order so a config written back
/// lists its keys in the order the user (or the code) put them. Values are string, long, double,
/// bool, <see cref="TomlDateTime"/>, <see cref="TomlArray"/> or <see cref="TomlTable"/>.
/// </summary>
public sealed class TomlTable : IEnumerable<KeyValuePair<string, object>>
{
    readonly OrderedDictionary<string, object> items = new(StringComparer.Ordinal);

    public int Count => items.Count;

    public IEnumerable<string> Keys => items.Keys;

    public IEnumerable<object> Values => items.Values;

    /// <summary>Get throws KeyNotFoundException; set adds a new key at the end or replaces in place.</summary>
    public object this[string key]
    {
        get => items[key];
        set => items[key] = TomlValue.Normalize(value);
    }

    /// <summary>Adds a new key; throws ArgumentException if it exists (enables collection initialisers).</summary>
    public void Add(string key, object value) => items.Add(key, TomlValue.Normalize(value));

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object value) => items.TryGetValue(key, out value);

    public bool ContainsKey(string key) => items.ContainsKey(key);

    public bool Remove(string key) => items.Remove(key);

    public void Clear() => items.Clear();

    public IEnumerator<KeyValuePair<string, object>> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
