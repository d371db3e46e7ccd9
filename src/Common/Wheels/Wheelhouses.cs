using Kslurm.Host;

namespace Kslurm.Wheels;

/// <summary>A folder (or URL) pip takes wheels from, and who named it.</summary>
public sealed record Wheelhouse(string Location, string Source)
{
    /// <summary>A local folder (file:// URLs become paths); http(s) find-links pages are not.</summary>
    public bool Local => !Location.Contains("://", StringComparison.Ordinal);

    public bool Exists => Local && Directory.Exists(Location);
}

/// <summary>
/// The wheelhouses pip uses here without an index: kpy's `<pipdir>/wheels`, then `find-links` as
/// pip itself resolves it (DRAC names its wheelhouses through PIP_CONFIG_FILE): the files
/// global (XDG_CONFIG_DIRS/pip/pip.conf, /etc/pip.conf), user (~/.pip/pip.conf,
/// $XDG_CONFIG_HOME/pip/pip.conf; skipped when PIP_CONFIG_FILE names an existing file), site
/// ($VIRTUAL_ENV/pip.conf), PIP_CONFIG_FILE, then the PIP_FIND_LINKS variable: as in pip, a
/// later file wins, `[install]` in any file wins over `[global]`, the variable over both.
/// </summary>
public static class Wheelhouses
{
    public static List<Wheelhouse> Find(string? pipdir, Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var found = new List<Wheelhouse>();
        if (pipdir is not null)
            found.Add(new Wheelhouse(Path.Combine(pipdir, "wheels"), "kpy (pipdir)"));
        if (PipFindLinks(env) is { } pip)
            foreach (var item in pip.Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            {
                var location = LocalPath(item);
                if (!found.Any(w => w.Location.TrimEnd('/') == location.TrimEnd('/')))
                    found.Add(new Wheelhouse(location, pip.Source));
            }
        return found;
    }

    /// <summary>pip's effective find-links for `pip install`, and where it was set.</summary>
    static (string Value, string Source)? PipFindLinks(Func<string, string?> env)
    {
        if (env("PIP_FIND_LINKS") is { Length: > 0 } fromEnv)
            return (fromEnv, "PIP_FIND_LINKS");
        var envFile = env("PIP_CONFIG_FILE");
        if (envFile == "/dev/null")
            return null; // pip loads no configuration file at all
        var home = env("HOME") ?? Paths.Home;
        var files = new List<string>();
        var xdgDirs = env("XDG_CONFIG_DIRS") is { Length: > 0 } x ? x : "/etc/xdg";
        files.AddRange(xdgDirs.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(d => Path.Combine(d, "pip", "pip.conf")));
        files.Add("/etc/pip.conf");
        if (!(envFile is { Length: > 0 } && File.Exists(envFile)))
        {
            files.Add(Path.Combine(home, ".pip", "pip.conf"));
            files.Add(Path.Combine(env("XDG_CONFIG_HOME") is { Length: > 0 } c ? c : Path.Combine(home, ".config"), "pip", "pip.conf"));
        }
        if (env("VIRTUAL_ENV") is { Length: > 0 } venv)
            files.Add(Path.Combine(venv, "pip.conf"));
        if (envFile is { Length: > 0 })
            files.Add(envFile);
        // pip merges the files first (a later file's key wins), then the command's section wins
        // over [global]: a user [install] beats a site [global].
        (string, string)? install = null, global = null;
        foreach (var file in files)
        {
            var ini = ReadIni(file);
            if (ini.TryGetValue("install.find-links", out var v))
                install = (v, Paths.Pretty(file));
            if (ini.TryGetValue("global.find-links", out v))
                global = (v, Paths.Pretty(file));
        }
        return install ?? global;
    }

    // pip's spelling rules: file:// URLs are paths, a leading ~ is the home folder.
    static string LocalPath(string item)
    {
        if (item.StartsWith("file://", StringComparison.OrdinalIgnoreCase))
            return PercentDecode(item[7..]);
        if (item.StartsWith('~'))
            return Paths.Home + item[1..];
        return item;
    }

    // file:///a%20b -> /a b (System.Uri would add ~100 KB to the binary for this)
    static string PercentDecode(string s)
    {
        var bytes = new List<byte>();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '%' && i + 2 < s.Length && byte.TryParse(s.AsSpan(i + 1, 2), System.Globalization.NumberStyles.HexNumber, null, out var b))
            {
                bytes.Add(b);
                i += 2;
            }
            else
                bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(s[i].ToString()));
        }
        return System.Text.Encoding.UTF8.GetString([.. bytes]);
    }

    /// <summary>
    /// `section.key` -> value of an INI file as Python's configparser reads it: `=` or `:`,
    /// indented lines continue a value, `#`/`;` lines are comments, keys with `_` read as `-`.
    /// </summary>
    public static Dictionary<string, string> ReadIni(string file)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        string[] lines;
        try
        {
            lines = File.ReadAllLines(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return values;
        }
        string section = "", key = "";
        foreach (var line in lines)
        {
            var t = line.Trim();
            if (t.Length == 0 || t[0] is '#' or ';')
                continue;
            if (char.IsWhiteSpace(line[0]) && key.Length > 0)
            {
                values[key] += "\n" + t;
                continue;
            }
            if (t[0] == '[' && t.EndsWith(']'))
            {
                section = t[1..^1].Trim().ToLowerInvariant();
                key = "";
                continue;
            }
            var at = t.IndexOfAny(['=', ':']);
            if (at <= 0)
                continue;
            key = $"{section}.{t[..at].Trim().ToLowerInvariant().Replace('_', '-')}";
            values[key] = t[(at + 1)..].Trim();
        }
        return values;
    }
}
