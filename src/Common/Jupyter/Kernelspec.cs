using Kslurm.Json;

namespace Kslurm.Jupyter;

/// <summary>
/// A kernelspec folder (`.../kernels/NAME/kernel.json`). Ours carry `metadata.kslurm` (mode,
/// target, the kjupyter that wrote it); that is how `kernel list` and `kernel rm` tell them from
/// kernels installed by other tools.
/// </summary>
public sealed class Kernelspec
{
    Kernelspec(string name, string dir, JsonObject doc)
    {
        Name = name;
        Dir = dir;
        Doc = doc;
    }

    public string Name { get; }
    public string Dir { get; }
    public JsonObject Doc { get; }

    public string File => Path.Combine(Dir, "kernel.json");
    public string? DisplayName => Doc.String("display_name");
    public IReadOnlyList<string> Argv => Doc.Array("argv")?.OfType<string>().ToList() ?? [];
    public JsonObject? Kslurm => Doc.Object("metadata")?.Object("kslurm");
    public bool Ours => Kslurm is not null;

    /// <summary>The target recorded by `kernel install`, or null for a kernel that is not ours.</summary>
    public KernelTarget? Target
    {
        get
        {
            if (Kslurm is not { } k || KernelTarget.ParseMode(k.String("mode")) is not { } mode)
                return null;
            return new KernelTarget
            {
                Mode = mode,
                Target = k.String("target") ?? "",
                Modules = k.Array("modules")?.OfType<string>().ToList() ?? [],
                Purge = k["purge"] is true,
                Binds = k.Array("binds")?.OfType<string>().ToList() ?? [],
            };
        }
    }

    /// <summary>Reads `DIR/kernel.json`; null when it is missing or not a JSON object.</summary>
    public static Kernelspec? Read(string dir)
    {
        var file = Path.Combine(dir, "kernel.json");
        try
        {
            if (!System.IO.File.Exists(file))
                return null;
            return JsonText.Parse(System.IO.File.ReadAllBytes(file), file) is JsonObject doc
                ? new Kernelspec(Path.GetFileName(dir).ToLowerInvariant(), dir, doc)
                : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Every kernelspec in one kernels folder, by name.</summary>
    public static IEnumerable<Kernelspec> In(string kernelsDir)
    {
        if (!Directory.Exists(kernelsDir))
            yield break;
        IEnumerable<string> dirs;
        try { dirs = Directory.EnumerateDirectories(kernelsDir).Order(StringComparer.Ordinal).ToList(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { yield break; }
        foreach (var d in dirs)
            if (!Path.GetFileName(d).StartsWith('.') && Read(d) is { } spec)
                yield return spec;
    }

    /// <summary>The kernel.json `kernel install` writes.</summary>
    public static JsonObject Build(string kjupyter, KernelTarget target, string displayName, IReadOnlyDictionary<string, string>? env = null)
    {
        var argv = new List<string> { kjupyter, "kernel", "run" };
        argv.AddRange(target.ToArgs());
        argv.AddRange(["--", "{connection_file}"]);
        var doc = new JsonObject
        {
            ["argv"] = argv,
            ["display_name"] = displayName,
            ["language"] = "python",
            ["metadata"] = new JsonObject { ["kslurm"] = target.Metadata() },
        };
        if (env is { Count: > 0 })
        {
            var vars = new JsonObject();
            foreach (var (k, v) in env)
                vars[k] = v;
            doc["env"] = vars;
        }
        return doc;
    }

    /// <summary>
    /// Jupyter lists kernel folders by lower-cased name and accepts letters, digits, `.`, `_` and
    /// `-`; we also refuse a leading `.` (hidden) or `-` (read as an option).
    /// </summary>
    public static string CheckName(string name, string usage)
    {
        var lower = name.ToLowerInvariant();
        if (lower.Length is 0 or > 100 || lower[0] is '.' or '-' || !lower.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-'))
            throw new UsageException($"invalid kernel name '{name}'",
                "use letters, digits, '.', '_' and '-', not starting with '.' or '-' (Jupyter stores names in lower case)");
        return lower;
    }
}
