namespace Kslurm.Host;

/// <summary>
/// The files and folders kslurm uses, following the XDG base directory rules so that sites and
/// users can relocate them.
/// </summary>
public static class Paths
{
    public static string Home
    {
        get
        {
            var h = Environment.GetEnvironmentVariable("HOME");
            if (string.IsNullOrEmpty(h))
                h = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            if (string.IsNullOrEmpty(h))
                throw new KslurmException("HOME is not set", "set HOME to your home directory");
            return h;
        }
    }

    static string Xdg(string variable, string fallback)
    {
        var v = Environment.GetEnvironmentVariable(variable);
        // The spec says relative values are invalid and must be ignored.
        return !string.IsNullOrEmpty(v) && Path.IsPathRooted(v) ? v : Path.Combine(Home, fallback);
    }

    public static string ConfigDir => Path.Combine(Xdg("XDG_CONFIG_HOME", ".config"), "kslurm");
    public static string StateDir => Path.Combine(Xdg("XDG_STATE_HOME", ".local/state"), "kslurm");
    public static string CacheDir => Path.Combine(Xdg("XDG_CACHE_HOME", ".cache"), "kslurm");

    public static string UserConfigFile => Path.Combine(ConfigDir, "config.toml");
    public static string LegacyConfigFile => Path.Combine(ConfigDir, "config.json");

    /// <summary>The folder the running binary lives in (symlinks resolved).</summary>
    public static string BinDir
    {
        get
        {
            var exe = Environment.ProcessPath ?? throw new KslurmException("cannot tell where this program is installed");
            var resolved = File.ResolveLinkTarget(exe, returnFinalTarget: true)?.FullName ?? exe;
            return Path.GetDirectoryName(resolved)!;
        }
    }

    /// <summary>
    /// Another kslurm program (<paramref name="tool"/>) for <paramref name="from"/> to run: the one
    /// in the running binary's folder, never one found on PATH (that may be another release). A
    /// missing one is an error now, not later in a job.
    /// </summary>
    public static string Sibling(string tool, string from) => Sibling(tool, from, BinDir);

    internal static string Sibling(string tool, string from, string binDir)
    {
        var path = Path.Combine(binDir, tool);
        return File.Exists(path) ? path
            : throw new KslurmException($"{tool} is not installed next to {from} (looked for {path})",
                "reinstall kslurm so that all its programs sit in one folder");
    }

    /// <summary>The install prefix: the parent of the bin folder holding the binary.</summary>
    public static string InstallPrefix => Path.GetDirectoryName(BinDir) ?? "/";

    /// <summary>The site file a lab or admin shares with all users of one install.</summary>
    public static string SiteConfigFile
    {
        get
        {
            var over = Environment.GetEnvironmentVariable("KSLURM_SITE_CONFIG");
            return !string.IsNullOrEmpty(over) ? over : Path.Combine(InstallPrefix, "etc", "kslurm", "config.toml");
        }
    }

    /// <summary>Replaces a leading home directory by ~ for messages.</summary>
    public static string Pretty(string path)
    {
        var home = Environment.GetEnvironmentVariable("HOME");
        if (!string.IsNullOrEmpty(home) && home != "/" && (path == home || path.StartsWith(home + "/", StringComparison.Ordinal)))
            return "~" + path[home.Length..];
        return path;
    }
}
