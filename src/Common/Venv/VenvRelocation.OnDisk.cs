using System.Text;
using System.Text.RegularExpressions;
using Kslurm.Files;

namespace Kslurm.Venv;

/// <summary>What <see cref="VenvRelocation.RelocateInPlace"/> did.</summary>
public sealed record VenvRelocationReport(IReadOnlyList<string> RewrittenFiles, IReadOnlyList<string> RewrittenLinks);

public sealed partial class VenvRelocation
{
    /// <summary>
    /// Applies the same rules to a venv already on disk: rewritten files are replaced atomically
    /// (temp file + rename, mode kept; hard links to a uv cache are therefore never written
    /// through), their stale __pycache__ entries are removed, symlinks into an old path are
    /// retargeted (all others are kept). Symlinked folders (lib64 -> lib) are not followed. Files
    /// above 1 MiB are streamed (a binary is recognised from its first MiB), never loaded whole.
    /// </summary>
    public static VenvRelocationReport RelocateInPlace(string venvDir, VenvRelocation relocation)
    {
        ArgumentNullException.ThrowIfNull(relocation);
        var root = Path.GetFullPath(venvDir);
        if (!Directory.Exists(root))
            throw new DirectoryNotFoundException($"{root} is not a directory");
        var files = new List<string>();
        var links = new List<string>();
        var pending = new Stack<string>();
        pending.Push("");
        while (pending.Count > 0)
        {
            var relDir = pending.Pop();
            var dir = relDir.Length == 0 ? root : Path.Combine(root, relDir);
            foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos().OrderBy(e => e.Name, StringComparer.Ordinal).ToList())
            {
                var rel = relDir.Length == 0 ? entry.Name : relDir + "/" + entry.Name;
                if (entry.LinkTarget is { } target)
                {
                    if (relocation.RewriteSymlink(rel, target) is not { } moved || moved == target)
                        continue;
                    File.Delete(entry.FullName);
                    File.CreateSymbolicLink(entry.FullName, moved);
                    links.Add(rel);
                }
                else if (entry is DirectoryInfo)
                    pending.Push(rel);
                else if (entry is FileInfo file && RelocateFile(file, rel, relocation))
                    files.Add(rel);
            }
        }
        files.Sort(StringComparer.Ordinal);
        return new VenvRelocationReport(files, links);
    }

    static bool RelocateFile(FileInfo file, string rel, VenvRelocation relocation)
    {
        bool changed;
        using (var fs = new FileStream(file.FullName, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan))
        {
            if (fs.Length > LargeChunk)
                // Streamed: memory stays bounded whatever the file's size.
                changed = AtomicFile.TryWrite(file.FullName, open => relocation.RewriteFile(rel, fs, open), File.GetUnixFileMode(file.FullName));
            else
            {
                var content = new byte[fs.Length];
                var n = fs.ReadAtLeast(content, content.Length, throwOnEndOfStream: false);
                var rewritten = relocation.RewriteFile(rel, content.AsSpan(0, n));
                if (rewritten is not null)
                    AtomicFile.Write(file.FullName, s => s.Write(rewritten), File.GetUnixFileMode(file.FullName));
                changed = rewritten is not null;
            }
        }
        if (changed && rel.EndsWith(".py", StringComparison.Ordinal))
            DropBytecode(file);
        return changed;
    }

    /// <summary>Removes __pycache__/NAME.*.pyc of a rewritten NAME.py (Python rebuilds it).</summary>
    static void DropBytecode(FileInfo source)
    {
        var cache = Path.Combine(source.DirectoryName!, "__pycache__");
        if (!Directory.Exists(cache))
            return;
        var stem = Path.GetFileNameWithoutExtension(source.Name) + ".";
        foreach (var pyc in Directory.EnumerateFiles(cache, stem + "*.pyc"))
        {
            // NAME.cpython-311.pyc or NAME.cpython-311.opt-1.pyc, not NAME.other.cpython-311.pyc
            var tail = Path.GetFileName(pyc)[stem.Length..].Split('.');
            if (tail.Length == 2 || (tail.Length == 3 && tail[1].StartsWith("opt-", StringComparison.Ordinal)))
                AtomicFile.TryDelete(pyc);
        }
    }

    // ---- guessing the old path of an archive without metadata --------------------------------------

    [GeneratedRegex("""^[ \t]*(?:export[ \t]+)?VIRTUAL_ENV=(?<v>.*)$""", RegexOptions.Multiline)]
    private static partial Regex ShAssignment();
    [GeneratedRegex("""^[ \t]*setenv[ \t]+VIRTUAL_ENV[ \t]+(?<v>.*)$""", RegexOptions.Multiline)]
    private static partial Regex CshAssignment();
    [GeneratedRegex("""^[ \t]*set[ \t]+-gx[ \t]+VIRTUAL_ENV[ \t]+(?<v>.*)$""", RegexOptions.Multiline)]
    private static partial Regex FishAssignment();
    [GeneratedRegex("""^[ \t]*home[ \t]*=[ \t]*(?<v>.*?)[ \t]*\r?$""", RegexOptions.Multiline)]
    private static partial Regex CfgHome();
    [GeneratedRegex("""^[ \t]*command[ \t]*=[ \t]*.*?-m[ \t]+(?:venv|virtualenv)[ \t]+(?<v>.*?)[ \t]*\r?$""", RegexOptions.Multiline)]
    private static partial Regex CfgCommand();

    /// <summary>
    /// For archives without metadata (old kslurm): the absolute path the venv was created at,
    /// read from the literal VIRTUAL_ENV assignment of bin/activate (then activate.csh, activate.fish),
    /// then pyvenv.cfg's "command =" line (CPython venv), then the shebang of a script in bin/;
    /// null when none gives an absolute path. The first of <see cref="GuessOldPaths"/>.
    /// </summary>
    public static string? GuessOldPath(string venvDir) => GuessOldPaths(venvDir).FirstOrDefault();

    /// <summary>
    /// Every old path the venv's files name, best first (same sources as <see cref="GuessOldPath"/>,
    /// and every bin/ script). The Python kslurm rebased only bin/activate and plain python
    /// shebangs, so an archive it saved after a load names the load path there and the creation
    /// path in activate.csh/.fish, pyvenv.cfg and pip trampolines: pass them all as old paths.
    /// Never includes the base interpreter's prefix (the parent of pyvenv.cfg's "home").
    /// </summary>
    public static IReadOnlyList<string> GuessOldPaths(string venvDir)
    {
        string? Read(string rel)
        {
            var path = Path.Combine(venvDir, rel);
            try { return File.Exists(path) ? File.ReadAllText(path, Encoding.UTF8) : null; }
            catch (IOException) { return null; }
            catch (UnauthorizedAccessException) { return null; }
        }
        var found = new List<string>();
        var cfg = Read("pyvenv.cfg");
        var home = cfg is null ? null : CfgHome().Match(cfg) is { Success: true } h ? h.Groups["v"].Value.TrimEnd('/') : null;
        void Add(string? candidate)
        {
            if (candidate is null || !IsAbsolute(candidate))
                return;
            candidate = candidate.TrimEnd('/');
            if (home is not null && (candidate + "/bin" == home || candidate == home))
                return; // the base interpreter, not the venv
            if (!found.Contains(candidate))
                found.Add(candidate);
        }
        foreach (var (file, rule) in new (string, Regex)[] { ("bin/activate", ShAssignment()), ("bin/activate.csh", CshAssignment()), ("bin/activate.fish", FishAssignment()) })
            if (Read(file) is { } text)
                foreach (Match m in rule.Matches(text))
                    Add(ShellLiteral(m.Groups["v"].Value));
        if (cfg is not null && CfgCommand().Match(cfg) is { Success: true } c)
            Add(CommandTarget(c.Groups["v"].Value));
        var bin = Path.Combine(venvDir, "bin");
        if (Directory.Exists(bin))
            foreach (var script in Directory.EnumerateFiles(bin).Order(StringComparer.Ordinal))
                if (ScriptInterpreter(script) is { } interpreter)
                {
                    // <venv>/bin/pythonX where this venv has a bin/pythonX of its own
                    var cut = interpreter.LastIndexOf("/bin/", StringComparison.Ordinal);
                    var name = cut > 0 ? interpreter[(cut + 5)..] : "";
                    if (name.StartsWith("python", StringComparison.Ordinal) && new FileInfo(Path.Combine(bin, name)) is var own
                        && (own.Exists || own.LinkTarget is not null)) // a link to the base interpreter may dangle here
                        Add(interpreter[..cut]);
                }
        return found;
    }

    static bool IsAbsolute(string v) => v.StartsWith('/') && v.Trim('/').Length > 0;

    /// <summary>
    /// The value of a shell word made of literal pieces ('...', "..." without expansions, bare
    /// characters, backslash escapes), up to an unquoted blank or ';'. Null if it expands anything.
    /// </summary>
    internal static string? ShellLiteral(string s)
    {
        var sb = new StringBuilder();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (c is ' ' or '\t' or ';' or '\r')
                break;
            if (c == '\'')
            {
                var close = s.IndexOf('\'', i + 1);
                if (close < 0) return null;
                sb.Append(s, i + 1, close - i - 1);
                i = close + 1;
            }
            else if (c == '"')
            {
                var close = s.IndexOf('"', i + 1);
                if (close < 0) return null;
                var inner = s[(i + 1)..close];
                if (inner.IndexOfAny(['$', '`', '\\']) >= 0) return null;
                sb.Append(inner);
                i = close + 1;
            }
            else if (c is '$' or '`' or '(' or ')' or '|' or '&' or '<' or '>')
                return null;
            else if (c == '\\' && i + 1 < s.Length)
            {
                sb.Append(s[i + 1]);
                i += 2;
            }
            else
            {
                sb.Append(c);
                i++;
            }
        }
        return sb.Length == 0 ? null : sb.ToString();
    }

    /// <summary>pyvenv.cfg "command = python -m venv [options] DIR": DIR (unquoted by venv, so it may hold spaces).</summary>
    static string? CommandTarget(string args)
    {
        while (args.StartsWith('-'))
        {
            // an option, maybe with ="quoted value"
            var i = 0;
            var quoted = false;
            for (; i < args.Length; i++)
            {
                if (args[i] == '"') quoted = !quoted;
                else if (args[i] == ' ' && !quoted) break;
            }
            args = args[i..].TrimStart();
        }
        return IsAbsolute(args) ? args.TrimEnd('/') : null;
    }

    /// <summary>The interpreter of a script: plain shebang or pip's /bin/sh trampoline.</summary>
    static string? ScriptInterpreter(string path)
    {
        try
        {
            using var fs = File.OpenRead(path);
            var buf = new byte[4096];
            var n = fs.ReadAtLeast(buf, buf.Length, throwOnEndOfStream: false);
            var span = buf.AsSpan(0, n);
            if (!span.StartsWith("#!"u8) || span.IndexOf((byte)0) >= 0)
                return null;
            var lines = Encoding.UTF8.GetString(span).Split('\n');
            if (lines[0].TrimEnd() == "#!/bin/sh" && lines.Length > 1 && lines[1].StartsWith("'''exec' ", StringComparison.Ordinal))
            {
                var cmd = lines[1][9..];
                if (cmd.StartsWith('"'))
                {
                    var close = cmd.IndexOf('"', 1);
                    return close > 0 ? cmd[1..close] : null;
                }
                var sp = cmd.IndexOf(' ');
                return sp > 0 ? cmd[..sp] : null;
            }
            var first = lines[0][2..].Trim();
            var cut = first.IndexOfAny([' ', '\t']);
            return cut < 0 ? first : first[..cut];
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}
