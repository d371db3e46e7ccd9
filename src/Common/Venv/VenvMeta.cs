using System.Text;
using System.Text.Json;

namespace Kslurm;

/// <summary>
/// The record kpy keeps with a venv: `.kpy.json` in the venv's folder, and the first entry of its
/// archive (so `kpy list` reads it without unpacking). Unknown fields are kept when rewritten.
/// </summary>
public sealed class VenvMeta
{
    public const string FileName = ".kpy.json";
    public const int CurrentFormat = 1;

    public int Format { get; set; } = CurrentFormat;
    public string Name { get; set; } = "";
    public string? PythonVersion { get; set; }
    public string? BaseInterpreter { get; set; }
    public List<string> Modules { get; set; } = [];
    public DateTime? Created { get; set; }
    public DateTime? Saved { get; set; }
    /// <summary>Where the venv was when it was saved (and its symlink-free form): what load rewrites.</summary>
    public List<string> OriginalPaths { get; set; } = [];
    public long? Files { get; set; }
    /// <summary>Fingerprint of the installed distributions when saved (the prompt's `*` compares to it).</summary>
    public string? SavedState { get; set; }
    public string? SavedAs { get; set; }
    public string? KpyVersion { get; set; }

    public static VenvMeta? ReadFrom(string venvDir)
    {
        var path = Path.Combine(venvDir, FileName);
        return File.Exists(path) ? Parse(File.ReadAllBytes(path), path) : null;
    }

    public void WriteTo(string venvDir) => AtomicFile.Write(Path.Combine(venvDir, FileName), s => s.Write(ToBytes()));

    public static VenvMeta Parse(ReadOnlySpan<byte> json, string where)
    {
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            var r = doc.RootElement;
            var m = new VenvMeta
            {
                Format = Int(r, "format") ?? 0,
                Name = Str(r, "name") ?? "",
                PythonVersion = Str(r, "python_version"),
                BaseInterpreter = Str(r, "base_interpreter"),
                Modules = Strs(r, "modules"),
                Created = Date(r, "created"),
                Saved = Date(r, "saved"),
                OriginalPaths = Strs(r, "original_paths"),
                Files = r.TryGetProperty("files", out var f) && f.TryGetInt64(out var n) ? n : null,
                SavedState = Str(r, "saved_state"),
                SavedAs = Str(r, "saved_as"),
                KpyVersion = Str(r, "kpy_version"),
            };
            if (m.Format > CurrentFormat)
                throw new KslurmException($"{where} was written by a newer kpy (format {m.Format})", "update kslurm to load it");
            return m;
        }
        catch (JsonException e)
        {
            throw new KslurmException($"{where}: the venv record is damaged ({e.Message})");
        }
    }

    public byte[] ToBytes()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteNumber("format", Format);
            w.WriteString("name", Name);
            Opt(w, "python_version", PythonVersion);
            Opt(w, "base_interpreter", BaseInterpreter);
            Array(w, "modules", Modules);
            if (Created is { } c) w.WriteString("created", c.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"));
            if (Saved is { } s) w.WriteString("saved", s.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'"));
            Array(w, "original_paths", OriginalPaths);
            if (Files is { } n) w.WriteNumber("files", n);
            Opt(w, "saved_state", SavedState);
            Opt(w, "saved_as", SavedAs);
            Opt(w, "kpy_version", KpyVersion);
            w.WriteEndObject();
        }
        return [.. buffer.ToArray(), (byte)'\n'];
    }

    static void Opt(Utf8JsonWriter w, string k, string? v) { if (v is not null) w.WriteString(k, v); }

    static void Array(Utf8JsonWriter w, string k, IEnumerable<string> values)
    {
        w.WriteStartArray(k);
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    static string? Str(JsonElement r, string k) => r.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    static int? Int(JsonElement r, string k) => r.TryGetProperty(k, out var v) && v.TryGetInt32(out var i) ? i : null;
    static DateTime? Date(JsonElement r, string k) => r.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String && v.TryGetDateTime(out var d) ? d : null;
    static List<string> Strs(JsonElement r, string k)
        => r.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!)]
            : [];

    public override string ToString() => Encoding.UTF8.GetString(ToBytes());
}
