using System.Text;
using Kslurm.Files;

namespace Kslurm.Venv;

/// <summary>
/// The saved form of a venv that has an image (`kpy save --image`): nothing a program reads to find
/// the venv names its folder, so the same bytes work wherever the image is mounted (a read-only
/// mount cannot be rewritten, and each job mounts it somewhere else).
/// <list type="bullet">
/// <item>Python scripts in bin/ start with a /bin/sh line that runs the python beside the script
/// (the trampoline pip writes for long paths, with the folder computed instead of written):
/// <code>
/// #!/bin/sh
/// '''exec' "$(s=$0; [ -L "$s" ] &amp;&amp; s=$(readlink -f -- "$s"); dirname -- "$s")/python3" "$0" "$@"
/// ' '''
/// </code>
/// A link to the script elsewhere (~/bin/tool) is followed; the script's own folder is kept as
/// reached, so `sys.prefix` matches `VIRTUAL_ENV`.</item>
/// <item>The activate scripts compute VIRTUAL_ENV from their own path when sourced (bash, zsh,
/// fish); csh from the `source` line typed, else kpy's place for NAME on this node.</item>
/// </list>
/// Loading such a venv from its archive still runs the usual relocation, which finds nothing to
/// change in these files. Activate scripts are edited as bytes read as Latin-1 and a script keeps every byte after its header, so any encoding survives.
/// </summary>
public static class RelocatableVenv
{
    /// <summary>What <see cref="MakeInPlace"/> changed, and the files that still name the folder.</summary>
    public sealed record Report(IReadOnlyList<string> Rewritten, IReadOnlyList<string> StillAbsolute);

    internal const string ExecLine = "'''exec' \"$(s=$0; [ -L \"$s\" ] && s=$(readlink -f -- \"$s\"); dirname -- \"$s\")/";

    static readonly Encoding Bytes = Encoding.Latin1;

    /// <summary>
    /// Rewrites the venv at <paramref name="venvDir"/> into its relocatable form (each file replaced
    /// atomically, mode kept), and names what still holds its path where it matters: `.pth` files
    /// and editable finders in site-packages (an editable install points into a checkout).
    /// </summary>
    public static Report MakeInPlace(string venvDir, string name)
    {
        var venv = Path.GetFullPath(venvDir).TrimEnd('/');
        string[] paths = [.. new[] { venv, Libc.RealPath(venv) ?? venv }.Distinct()];
        var rewritten = new List<string>();
        var bin = Path.Combine(venv, "bin");
        if (Directory.Exists(bin))
            foreach (var f in new DirectoryInfo(bin).EnumerateFiles().OrderBy(f => f.Name, StringComparer.Ordinal))
            {
                if (f.LinkTarget is not null || f.Length > 1 << 20)
                    continue;
                var content = File.ReadAllBytes(f.FullName);
                var updated = f.Name switch
                {
                    "activate" => Activate(ActivateShell.Sh, content, paths, name),
                    "activate.fish" => Activate(ActivateShell.Fish, content, paths, name),
                    "activate.csh" => Activate(ActivateShell.Csh, content, paths, name),
                    _ => Script(content, paths),
                };
                if (updated is null)
                    continue;
                AtomicFile.Write(f.FullName, s => s.Write(updated), File.GetUnixFileMode(f.FullName));
                rewritten.Add("bin/" + f.Name);
            }
        return new Report(rewritten, StillAbsolute(venv, paths));
    }

    /// <summary>The relocatable form of a Python script whose interpreter is this venv's (plain or pip's trampoline); null otherwise.</summary>
    public static byte[]? Script(ReadOnlySpan<byte> content, IReadOnlyList<string> venvPaths)
    {
        if (Shebang.Parse(content) is not (var interpreter, var args, var consumed))
            return null;
        args = args.TrimEnd();
        var name = Path.GetFileName(interpreter);
        if (!name.StartsWith("python", StringComparison.Ordinal) || !UnderBin(interpreter, venvPaths))
            return null;
        if (!Plain(name) || name.Contains(' ') || !Plain(args))
            return null; // nothing a shell word would need quoting for: keep what pip wrote
        var firstNewline = content.IndexOf((byte)'\n');
        var nl = firstNewline > 0 && content[firstNewline - 1] == '\r' ? "\r\n" : "\n";
        var header = $"#!/bin/sh{nl}{ExecLine}{name}\"{args} \"$0\" \"$@\"{nl}' '''{nl}";
        return [.. Encoding.UTF8.GetBytes(header), .. content[consumed..]];
    }

    public enum ActivateShell { Sh, Fish, Csh }

    /// <summary>The activate script with its VIRTUAL_ENV assignment computed at source time; null when it has none naming the venv.</summary>
    public static byte[]? Activate(ActivateShell shell, ReadOnlySpan<byte> content, IReadOnlyList<string> venvPaths, string name)
    {
        var text = Bytes.GetString(content);
        var result = new StringBuilder(text.Length + 512);
        var changed = false;
        for (var start = 0; start < text.Length;)
        {
            var end = LineEnd(text, start);
            var line = text[start..end];
            var replaced = Assignment(shell, line, venvPaths, name);
            changed |= replaced is not null;
            result.Append(replaced ?? line);
            start = end;
        }
        return changed ? Bytes.GetBytes(result.ToString()) : null;
    }

    /// <summary>
    /// `VIRTUAL_ENV="/path"` (also '/path', /path, after `export `) for sh, `set -gx VIRTUAL_ENV
    /// "/path"` for fish, `setenv VIRTUAL_ENV "/path"` for csh, as the line that computes it instead.
    /// </summary>
    static string? Assignment(ActivateShell shell, string line, IReadOnlyList<string> venvPaths, string name)
    {
        var nl = line.EndsWith("\r\n", StringComparison.Ordinal) ? "\r\n" : line.EndsWith('\n') ? "\n" : "";
        var body = line[..^nl.Length];
        var indent = body[..(body.Length - body.TrimStart(' ', '\t').Length)];
        body = body.Trim(' ', '\t');
        var export = "";
        string[] keys = shell switch
        {
            ActivateShell.Sh => ["VIRTUAL_ENV=", "export VIRTUAL_ENV="],
            ActivateShell.Fish => ["set -gx VIRTUAL_ENV "],
            _ => ["setenv VIRTUAL_ENV "],
        };
        var key = keys.FirstOrDefault(k => body.StartsWith(k, StringComparison.Ordinal));
        if (key is null)
            return null;
        if (key.StartsWith("export ", StringComparison.Ordinal))
            export = "export ";
        var value = body[key.Length..];
        if (value.Length >= 2 && value[0] is '"' or '\'' && value[^1] == value[0])
            value = value[1..^1];
        if (value.IndexOfAny(['"', '\'', '$', '`', '\\']) >= 0 || !venvPaths.Contains(value.TrimEnd('/')))
            return null;
        const string Why = "# kpy: the venv is the folder above this script, wherever it is (mounted or copied)";
        if (nl.Length == 0)
            nl = "\n";
        return shell switch
        {
            ActivateShell.Sh => string.Join(nl, [
                indent + Why,
                $"{indent}if [ -n \"${{BASH_VERSION-}}\" ]; then __kpy_src=${{BASH_SOURCE[0]}}",
                $"{indent}elif [ -n \"${{ZSH_VERSION-}}\" ]; then __kpy_src=${{(%):-%x}}",
                $"{indent}else echo \"source this file from bash or zsh\" >&2; return 1 2>/dev/null || exit 1",
                $"{indent}fi",
                $"{indent}{export}VIRTUAL_ENV=\"$(CDPATH= cd -- \"$(dirname -- \"$__kpy_src\")/..\" && pwd)\"",
                $"{indent}unset __kpy_src",
                ""]),
            ActivateShell.Fish => indent + Why + nl
                + $"{indent}set -gx VIRTUAL_ENV (command sh -c 'CDPATH= cd -- \"$(dirname -- \"$1\")/..\" && pwd' sh (status --current-filename)){nl}",
            // csh cannot tell where a sourced file is: the `source` line typed (an interactive
            // shell's history), else where kpy puts NAME on this node
            _ => string.Join(nl, [
                indent + "# kpy: the venv is the folder above this script: from the `source` line typed, else where kpy puts it",
                $"{indent}set __kpy_src = ( x `history -h 1` )",
                $"{indent}set __kpy_act = \"$__kpy_src[$#__kpy_src]\"",
                $"{indent}if ( \"$__kpy_act\" =~ */bin/activate.csh ) then",
                $"{indent}    setenv VIRTUAL_ENV \"`cd $__kpy_act:h/.. && pwd`\"",
                $"{indent}else if ( $?SLURM_TMPDIR ) then",
                $"{indent}    setenv VIRTUAL_ENV \"$SLURM_TMPDIR/kpy/{name}\"",
                $"{indent}else if ( $?TMPDIR ) then",
                $"{indent}    setenv VIRTUAL_ENV \"$TMPDIR/kpy-$USER/{name}\"",
                $"{indent}else",
                $"{indent}    setenv VIRTUAL_ENV \"/tmp/kpy-$USER/{name}\"",
                $"{indent}endif",
                $"{indent}unset __kpy_src __kpy_act",
                ""]),
        };
    }

    /// <summary>Nothing a shell would need quoted in the interpreter's name and arguments.</summary>
    static bool Plain(string s) => s.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '+' or '-' or '=' or ' ');

    static bool UnderBin(string interpreter, IReadOnlyList<string> venvPaths)
        => venvPaths.Any(p => Path.GetDirectoryName(interpreter) == p + "/bin");

    static int LineEnd(string text, int start)
    {
        var nl = text.IndexOf('\n', start);
        return nl < 0 ? text.Length : nl + 1;
    }

    /// <summary>Files where an import looks for paths (.pth, editable finders) that still name the venv's folder.</summary>
    static List<string> StillAbsolute(string venv, string[] paths)
    {
        var found = new List<string>();
        var lib = Path.Combine(venv, "lib");
        if (!Directory.Exists(lib))
            return found;
        foreach (var sp in Directory.EnumerateDirectories(lib, "python*").Select(d => Path.Combine(d, "site-packages")).Where(Directory.Exists))
            foreach (var f in Directory.EnumerateFiles(sp).Order(StringComparer.Ordinal))
            {
                var n = Path.GetFileName(f);
                if (!n.EndsWith(".pth", StringComparison.Ordinal) && !(n.StartsWith("__editable__", StringComparison.Ordinal) && n.EndsWith(".py", StringComparison.Ordinal)))
                    continue;
                var text = Bytes.GetString(File.ReadAllBytes(f));
                if (paths.Any(p => text.Contains(p, StringComparison.Ordinal)))
                    found.Add(Path.GetRelativePath(venv, f));
            }
        return found;
    }
}
