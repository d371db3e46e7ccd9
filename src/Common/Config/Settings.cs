using Tomlyn.Model;
using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Json;

namespace Kslurm.Config;

/// <summary>
/// The effective configuration: the user's file over the site's (a lab or an admin sets
/// account, pipdir and templates once for everybody on a shared install).
/// </summary>
public sealed class Settings
{
    public Settings(ConfigFile user, ConfigFile site)
    {
        User = user;
        Site = site;
    }

    public ConfigFile User { get; }
    public ConfigFile Site { get; }

    /// <summary>Loads both files; on the first run imports the Python kslurm's config.json.</summary>
    public static Settings Load(string tool = "kslurm")
    {
        var user = ConfigFile.Load(Paths.UserConfigFile);
        if (!user.Exists && File.Exists(Paths.LegacyConfigFile))
            user = ImportLegacy(tool, user);
        return new Settings(user, ConfigFile.Load(Paths.SiteConfigFile));
    }

    /// <summary>The keys kslurm itself reads (besides templates.NAME.*); each holds a string.</summary>
    public static readonly string[] Known = ["account", "account.cpu", "account.gpu", "pipdir", "jupyter.login_host", "jupyter.login_user"];

    /// <summary>
    /// The effective value of a key: the user's, else the site's. Empty means unset. A known key
    /// holding anything but a string (a hand edit such as `gpu = true`) is an error naming the
    /// key, the expected type and where it is, never a value used as if it were right.
    /// </summary>
    public string? Get(string key) => Value(User, key, false) ?? Value(Site, key, true);

    /// <summary>The site file's value alone (`kslurm config --site KEY`).</summary>
    public string? GetSite(string key) => Value(Site, key, true);

    static string? Value(ConfigFile file, string key, bool site)
    {
        if (!Known.Contains(key))
            return ConfigTree.Get(file.Root, key);
        var node = ConfigTree.OwnValue(file.Root, key);
        if (node is null || node is "")
            return null;
        var what = key == "pipdir" ? "an absolute path in quotes, such as \"/project/def-lab/me/.kslurm\""
            : key.StartsWith("jupyter.", StringComparison.Ordinal) ? "a name in quotes, such as \"cluster.example.org\""
            : "an account name in quotes, such as \"def-lab\"";
        var path = ConfigTree.Split(key);
        string[] at = ConfigTree.Find(file.Root, path) is TomlTable ? [.. path, ConfigTree.Own] : path;
        if (node is not string s)
            throw new KslurmException($"{file.Where(at)}: {key} must be {what}, not {ConfigTree.Describe(node)}",
                $"set it with: kslurm config {(site ? "--site " : "")}{key} VALUE");
        if (key == "pipdir")
        {
            // A hand-written ~/ means the home folder; anything else relative would depend on the current folder.
            if (s.StartsWith("~/", StringComparison.Ordinal))
                s = System.IO.Path.Combine(Paths.Home, s[2..]);
            if (!System.IO.Path.IsPathRooted(s))
                throw new KslurmException($"{file.Where(at)}: pipdir must be an absolute path, not \"{s}\"",
                    $"set it with: kslurm config {(site ? "--site " : "")}pipdir FOLDER (a relative FOLDER is made absolute)");
        }
        return s;
    }

    /// <summary>Every effective key, user values shadowing site values.</summary>
    public IEnumerable<(string Key, string Value, bool FromSite)> List()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (k, v) in ConfigTree.Flatten(User.Root))
            if (seen.Add(k))
                yield return (k, v, false);
        foreach (var (k, v) in ConfigTree.Flatten(Site.Root))
            if (seen.Add(k))
                yield return (k, v, true);
    }

    /// <summary>The table under a key (e.g. "templates"), site entries first, user entries replacing them.</summary>
    public IReadOnlyList<(string Name, TomlTable Table, bool FromSite)> Tables(string key)
    {
        var result = new List<(string, TomlTable, bool)>();
        void Add(TomlTable root, bool site)
        {
            if (ConfigTree.Find(root, ConfigTree.Split(key)) is not TomlTable t)
                return;
            foreach (var (name, v) in t)
            {
                if (v is not TomlTable table)
                    continue;
                result.RemoveAll(r => r.Item1 == name);
                result.Add((name, table, site));
            }
        }
        Add(Site.Root, true);
        Add(User.Root, false);
        return result;
    }

    static ConfigFile ImportLegacy(string tool, ConfigFile user)
    {
        var legacy = Paths.LegacyConfigFile;
        Dictionary<string, string> values = [];
        try
        {
            if (JsonText.Parse(File.ReadAllBytes(legacy), Paths.Pretty(legacy)) is not JsonObject doc)
                throw new JsonException("not a JSON object");
            foreach (var (key, value) in doc)
                if (value is string { Length: > 0 } s)
                    values[key] = s; // the old `-i` stored "" for "none"; that must not block fallbacks
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            Output.Warn(tool, $"could not import {Paths.Pretty(legacy)} ({e.Message}); starting with empty settings");
            return user;
        }
        var skipped = new List<string>();
        user.Update(edit =>
        {
            foreach (var (k, v) in values)
            {
                try { edit.Set(k, v); }
                catch (KslurmException) { skipped.Add(k); }
            }
        });
        Output.Note(tool, $"imported your settings from {Paths.Pretty(legacy)} into {Paths.Pretty(user.Path)} (the old file is left as it was)");
        if (skipped.Count > 0)
            Output.Warn(tool, $"skipped keys that are not valid names: {string.Join(", ", skipped)}");
        return ConfigFile.Load(user.Path);
    }
}
