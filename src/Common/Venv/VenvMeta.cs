using System.Globalization;
using System.Text;
using Kslurm.Files;
using Kslurm.Json;

namespace Kslurm.Venv;

/// <summary>
/// The record kpy keeps with a venv: `.kpy.json` in the venv's folder, and the first entry of its
/// archive (so `kpy list` reads it without unpacking). Fields this kpy does not know (a later
/// kpy's, or a person's) are kept, after the known ones, whenever the record is rewritten or saved.
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
    /// <summary>Entries of the archive, in records of archives saved before the count moved to the
    /// archive's trailer (Archive/ArchiveTrailer.cs); kept so that `kpy info` shows it for them.</summary>
    public long? Files { get; set; }
    /// <summary>Fingerprint of the installed distributions when saved (the prompt's `*` compares to it).</summary>
    public string? SavedState { get; set; }
    public string? SavedAs { get; set; }
    public string? KpyVersion { get; set; }

    /// <summary>The fields this kpy does not know, as read, in their order.</summary>
    public List<KeyValuePair<string, object?>> Unknown { get; set; } = [];

    static readonly HashSet<string> Known =
    [
        "format", "name", "python_version", "base_interpreter", "modules", "created", "saved", "original_paths",
        "files", "saved_state", "saved_as", "kpy_version",
    ];

    public static VenvMeta? ReadFrom(string venvDir)
    {
        var path = Path.Combine(venvDir, FileName);
        return File.Exists(path) ? Parse(File.ReadAllBytes(path), path) : null;
    }

    /// <summary>Replaces the venv's record atomically; an unchanged record is left alone (a save
    /// of an unchanged venv would otherwise pay two fsyncs for nothing).</summary>
    public void WriteTo(string venvDir)
    {
        var path = Path.Combine(venvDir, FileName);
        var bytes = ToBytes();
        if (File.Exists(path) && new FileInfo(path).Length == bytes.Length && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes))
            return;
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    public static VenvMeta Parse(ReadOnlySpan<byte> json, string where)
    {
        JsonObject r;
        try
        {
            r = JsonText.Parse(json, where) as JsonObject ?? throw new JsonException("not a JSON object");
        }
        catch (JsonException e)
        {
            throw new KslurmException($"{where}: the venv record is damaged ({e.Message})");
        }
        var m = new VenvMeta
        {
            Format = (int)(r.Long("format") ?? 0),
            Name = r.String("name") ?? "",
            PythonVersion = r.String("python_version"),
            BaseInterpreter = r.String("base_interpreter"),
            Modules = Strings(r, "modules"),
            Created = Date(r, "created"),
            Saved = Date(r, "saved"),
            OriginalPaths = Strings(r, "original_paths"),
            Files = r.Long("files"),
            SavedState = r.String("saved_state"),
            SavedAs = r.String("saved_as"),
            KpyVersion = r.String("kpy_version"),
            Unknown = [.. r.Where(kv => !Known.Contains(kv.Key))],
        };
        if (m.Format > CurrentFormat)
            throw new KslurmException($"{where} was written by a newer kpy (format {m.Format})", "update kslurm to load it");
        return m;
    }

    public byte[] ToBytes()
    {
        var o = new JsonObject { ["format"] = Format, ["name"] = Name };
        if (PythonVersion is not null) o["python_version"] = PythonVersion;
        if (BaseInterpreter is not null) o["base_interpreter"] = BaseInterpreter;
        o["modules"] = Modules;
        if (Created is { } c) o["created"] = Stamp(c);
        if (Saved is { } s) o["saved"] = Stamp(s);
        o["original_paths"] = OriginalPaths;
        if (Files is { } n) o["files"] = n;
        if (SavedState is not null) o["saved_state"] = SavedState;
        if (SavedAs is not null) o["saved_as"] = SavedAs;
        if (KpyVersion is not null) o["kpy_version"] = KpyVersion;
        foreach (var (key, value) in Unknown)
            if (!o.ContainsKey(key))
                o[key] = value;
        return Encoding.UTF8.GetBytes(JsonText.Write(o) + "\n");
    }

    // Fixed ISO 8601 UTC form, written and read by hand: the general date parser and formatter
    // cost tens of KB in every binary that has this record.
    static string Stamp(DateTime t)
    {
        var u = t.ToUniversalTime();
        return $"{u.Year:D4}-{u.Month:D2}-{u.Day:D2}T{u.Hour:D2}:{u.Minute:D2}:{u.Second:D2}Z";
    }

    static DateTime? Date(JsonObject r, string k)
    {
        if (r.String(k) is not { Length: 20 } s || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z')
            return null;
        int N(int at, int len) => int.TryParse(s.AsSpan(at, len), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1;
        try
        {
            return new DateTime(N(0, 4), N(5, 2), N(8, 2), N(11, 2), N(14, 2), N(17, 2), DateTimeKind.Utc);
        }
        catch (ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    static List<string> Strings(JsonObject r, string k) => r.Array(k)?.OfType<string>().ToList() ?? [];

    public override string ToString() => Encoding.UTF8.GetString(ToBytes());
}
