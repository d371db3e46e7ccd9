using System.Collections;

namespace Kslurm;

/// <summary>
/// A TOML array: an ordered list whose elements may be of mixed types (TOML 1.0 allows that).
/// Elements have the same types as table values. A non-empty array holding only tables is written
/// as an array of tables (<c>[[name]]</c>).
/// </summary>
public sealed class TomlArray : IList<object>
{
    readonly List<object> items = new();

    public TomlArray() { }

    public TomlArray(IEnumerable<object> values)
    {
        foreach (var v in values) Add(v);
    }

    public int Count => items.Count;

    bool ICollection<object>.IsReadOnly => false;

    public object this[int index]
    {
        get => items[index];
        set => items[index] = TomlValue.Normalize(value);
    }

    public void Add(object value) => items.Add(TomlValue.Normalize(value));

    public void Insert(int index, object value) => items.Insert(index, TomlValue.Normalize(value));

    public int IndexOf(object value) => items.IndexOf(value);

    public bool Contains(object value) => items.Contains(value);

    public bool Remove(object value) => items.Remove(value);

    public void RemoveAt(int index) => items.RemoveAt(index);

    public void Clear() => items.Clear();

    public void CopyTo(object[] array, int arrayIndex) => items.CopyTo(array, arrayIndex);

    public IEnumerator<object> GetEnumerator() => items.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}
