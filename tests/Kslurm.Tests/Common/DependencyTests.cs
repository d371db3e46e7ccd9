using System.Text;
using System.Text.RegularExpressions;

namespace Kslurm.Tests.Common;

/// <summary>
/// Common's folders are boundaries: each file declares its folder's namespace, and uses only
/// folders of lower layers, as written in src/Common/README.md (the ```layers block, read here).
/// Reads the sources only: no build output, no root, no cluster.
/// </summary>
[Trait("Tier", "Unit")]
public class DependencyTests
{
    // Arrows that break the layers today and are allowed only in the file named, until the change
    // that removes them (issue 12, "Stores own their protocols"). A stale entry fails the test too.
    static readonly (string File, string Target, string Why)[] Exceptions =
    [
        // The job grammar builds `kpy exec` and checks the venv store itself; the venv store should
        // build that command and krun join the two (helper `stores`).
        ("Slurm/JobCommand.cs", "Venv", "kpy exec command built inside the job grammar"),
    ];

    [Fact]
    public void Every_folder_of_Common_is_on_one_layer()
    {
        var layers = Layers();
        var folders = Directory.GetDirectories(CommonDir).Select(Path.GetFileName).Where(IsSourceFolder).ToHashSet();
        var missing = folders.Where(f => !layers.ContainsKey(f!)).Order().ToList();
        var extra = layers.Keys.Where(f => !folders.Contains(f)).Order().ToList();
        Assert.True(missing.Count == 0, $"src/Common/README.md: folders on no layer: {string.Join(", ", missing)}");
        Assert.True(extra.Count == 0, $"src/Common/README.md: layers name folders that do not exist: {string.Join(", ", extra)}");
    }

    [Fact]
    public void Every_file_declares_its_folders_namespace()
    {
        var wrong = new List<string>();
        foreach (var f in Sources())
        {
            var expected = f.Folder is null ? "Kslurm" : "Kslurm." + f.Folder;
            var declared = Regex.Matches(Code(File.ReadAllText(f.Path)), @"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)
                .Select(m => m.Groups[1].Value).ToList();
            if (declared.Count == 0 || declared.Any(d => d != expected))
                wrong.Add($"{f.Rel}: namespace {(declared.Count == 0 ? "(none)" : string.Join(", ", declared))}, expected {expected}");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
    }

    [Fact]
    public void Common_uses_only_lower_layers()
    {
        var layers = Layers();
        var types = TypesByFolder();
        var broken = new List<string>();
        var used = new HashSet<(string, string)>();
        foreach (var f in Sources())
        {
            foreach (var (target, line) in Uses(File.ReadAllText(f.Path), layers.Keys, types))
            {
                if (target == f.Folder) continue;
                if (Exceptions.Any(e => e.File == f.Rel && e.Target == target)) { used.Add((f.Rel, target)); continue; }
                var from = f.Folder is null ? "the base namespace Kslurm" : $"{f.Folder} (layer {layers[f.Folder]})";
                if (f.Folder is null || layers[target] >= layers[f.Folder])
                    broken.Add($"src/Common/{f.Rel}:{line}: {f.Folder ?? "Kslurm"} -> {target}: {from} may not use {target} (layer {layers[target]})");
            }
        }
        Assert.True(broken.Count == 0, "arrows outside the graph of src/Common/README.md:\n" + string.Join("\n", broken.Distinct()));
        var stale = Exceptions.Where(e => !used.Contains((e.File, e.Target))).ToList();
        Assert.True(stale.Count == 0, "exceptions no longer needed, remove them from DependencyTests.Exceptions: "
            + string.Join(", ", stale.Select(e => $"{e.File} -> {e.Target}")));
    }

    [Fact]
    public void Native_calls_are_bound_in_one_file_per_library()
    {
        // libc in Files/Libc.cs, libzstd in Archive/ZstdNative.cs: one binding each, one place to
        // check a signature or the oldest glibc that has it
        string[] allowed = ["Files/Libc.cs", "Archive/ZstdNative.cs"];
        var stray = Sources().Where(f => !allowed.Contains(f.Rel)
                && Regex.IsMatch(Code(File.ReadAllText(f.Path)), @"\[\s*(LibraryImport|DllImport)\b"))
            .Select(f => f.Rel).ToList();
        Assert.True(stray.Count == 0, "native bindings outside Files/Libc.cs and Archive/ZstdNative.cs: " + string.Join(", ", stray));
    }

    [Fact]
    public void Scanner_sees_every_way_to_name_a_folder_and_ignores_comments_and_strings()
    {
        var folders = new[] { "Venv", "Slurm", "Cli", "Json", "Files" };
        var types = new Dictionary<string, HashSet<string>> { ["Venv"] = ["VenvStore"], ["Files"] = ["AtomicFile"] };
        var src = """
            using Kslurm.Cli;
            using static Kslurm.Json.JsonText;
            namespace Kslurm.Slurm;
            // using Kslurm.Registry; a comment is no dependency
            /* Kslurm.Files.AtomicFile in a block comment neither */
            class C
            {
                string s = "Kslurm.Files.AtomicFile in a string";
                object o = global::Kslurm.Venv.VenvStore.Root;
                object p = Files.AtomicFile.Write;
                object q = req.Files.AtomicFile;
            }
            """;
        var found = Uses(src, folders, types).ToList();
        Assert.Equal(new[] { ("Cli", 1), ("Json", 2), ("Venv", 9), ("Files", 10) }, found);
    }

    // ---- reading the sources ----

    sealed record Source(string Path, string Rel, string? Folder);

    static readonly string CommonDir = FindCommon();

    static string FindCommon()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            var c = System.IO.Path.Combine(d.FullName, "src", "Common");
            if (File.Exists(System.IO.Path.Combine(c, "Common.csproj")))
                return c;
        }
        throw new InvalidOperationException("src/Common not found above " + AppContext.BaseDirectory);
    }

    static bool IsSourceFolder(string? name) => name is not (null or "bin" or "obj") && !name.StartsWith('.');

    static IEnumerable<Source> Sources()
    {
        foreach (var p in Directory.EnumerateFiles(CommonDir, "*.cs", SearchOption.AllDirectories).Order())
        {
            var rel = System.IO.Path.GetRelativePath(CommonDir, p).Replace('\\', '/');
            var parts = rel.Split('/');
            if (parts.Length > 1 && !IsSourceFolder(parts[0])) continue;
            yield return new Source(p, rel, parts.Length > 1 ? parts[0] : null);
        }
    }

    /// <summary>The ```layers block of src/Common/README.md: "N  Folder Folder | why" per line.</summary>
    static Dictionary<string, int> Layers()
    {
        var text = File.ReadAllText(System.IO.Path.Combine(CommonDir, "README.md"));
        var block = Regex.Match(text, @"^```layers\s*\n(.*?)^```", RegexOptions.Multiline | RegexOptions.Singleline);
        Assert.True(block.Success, "src/Common/README.md has no ```layers block");
        var layers = new Dictionary<string, int>();
        foreach (var raw in block.Groups[1].Value.Split('\n'))
        {
            var line = raw.Split('|')[0].Trim();
            if (line.Length == 0) continue;
            var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.True(int.TryParse(words[0], out var n), $"src/Common/README.md: layer line without a number: {raw}");
            foreach (var folder in words.Skip(1))
                Assert.True(layers.TryAdd(folder, n), $"src/Common/README.md: {folder} is on two layers");
        }
        return layers;
    }

    /// <summary>Top-level type names declared in each folder (to catch `Venv.VenvStore` written
    /// without a using, which C# accepts inside any Kslurm.* namespace).</summary>
    static Dictionary<string, HashSet<string>> TypesByFolder()
    {
        var types = new Dictionary<string, HashSet<string>>();
        foreach (var f in Sources().Where(s => s.Folder is not null))
        {
            var set = types.TryGetValue(f.Folder!, out var s) ? s : types[f.Folder!] = [];
            foreach (Match m in Regex.Matches(Code(File.ReadAllText(f.Path)),
                         @"^(?:[a-z]+\s+)*(?:class|struct|record|enum|interface|delegate\s+[\w<>\[\]?,\s]+?)\s+(\w+)", RegexOptions.Multiline))
                set.Add(m.Groups[1].Value);
        }
        return types;
    }

    /// <summary>Folders named by one source text, with the line: `using Kslurm.X`, `Kslurm.X.`
    /// (also global::), and `X.Type` for a type of folder X. Comments and strings do not count.</summary>
    static IEnumerable<(string Folder, int Line)> Uses(string source, IEnumerable<string> folders, Dictionary<string, HashSet<string>> types)
    {
        var known = folders.ToHashSet();
        var lines = Code(source).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            if (Regex.IsMatch(line, @"^\s*namespace\s")) continue;
            var seen = new HashSet<string>();
            foreach (Match m in Regex.Matches(line, @"(?<![\w.])(?:global::)?Kslurm\.(\w+)"))
                if (known.Contains(m.Groups[1].Value) && seen.Add(m.Groups[1].Value))
                    yield return (m.Groups[1].Value, i + 1);
            foreach (Match m in Regex.Matches(line, @"(?<![\w.:])(\w+)\.(\w+)"))
                if (known.Contains(m.Groups[1].Value) && types.TryGetValue(m.Groups[1].Value, out var t)
                    && t.Contains(m.Groups[2].Value) && seen.Add(m.Groups[1].Value))
                    yield return (m.Groups[1].Value, i + 1);
        }
    }

    /// <summary>The source with comments and string/char literals blanked (newlines kept, so line
    /// numbers stay right).</summary>
    static string Code(string s)
    {
        var sb = new StringBuilder(s.Length);
        int i = 0;
        void Blank(int end) { for (; i < end && i < s.Length; i++) sb.Append(s[i] == '\n' ? '\n' : ' '); }
        while (i < s.Length)
        {
            if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '/')
            {
                var e = s.IndexOf('\n', i);
                Blank(e < 0 ? s.Length : e);
            }
            else if (s[i] == '/' && i + 1 < s.Length && s[i + 1] == '*')
            {
                var e = s.IndexOf("*/", i + 2, StringComparison.Ordinal);
                Blank(e < 0 ? s.Length : e + 2);
            }
            else if (string.CompareOrdinal(s, i, "\"\"\"", 0, 3) == 0)
            {
                var q = i;
                while (q < s.Length && s[q] == '"') q++;
                var fence = new string('"', q - i);
                var e = s.IndexOf(fence, q, StringComparison.Ordinal);
                Blank(e < 0 ? s.Length : e + fence.Length);
            }
            else if (s[i] == '"')
            {
                var verbatim = i > 0 && (s[i - 1] == '@' || (i > 1 && s[i - 2] == '@' && s[i - 1] == '$'));
                var e = i + 1;
                while (e < s.Length)
                {
                    if (!verbatim && s[e] == '\\') { e += 2; continue; }
                    if (s[e] == '"')
                    {
                        if (verbatim && e + 1 < s.Length && s[e + 1] == '"') { e += 2; continue; }
                        break;
                    }
                    if (!verbatim && s[e] == '\n') break;
                    e++;
                }
                Blank(e + 1);
            }
            else if (s[i] == '\'' && i + 2 < s.Length)
            {
                var e = s[i + 1] == '\\' ? s.IndexOf('\'', i + 3) : i + 2;
                if (e < 0 || s[e] != '\'') { sb.Append(s[i++]); continue; }
                Blank(e + 1);
            }
            else
                sb.Append(s[i++]);
        }
        return sb.ToString();
    }
}
