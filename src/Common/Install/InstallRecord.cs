using Kslurm.Files;

namespace Kslurm.Install;

/// <summary>
/// What install.sh wrote next to the binaries, in `BINDIR/.kslurm-install`: where the release
/// came from, which version, and the prefix of a shared install (empty for ~/bin). `key=value`
/// lines, so the installer writes it with printf and a person can read it. It lives in the bin
/// folder because that is the one place every binary can find without settings.
/// </summary>
public sealed record InstallRecord(string? Url, string? Version, string? Prefix)
{
    public const string FileName = ".kslurm-install";

    /// <summary>Where releases come from when nothing was recorded (install.sh's own default).</summary>
    public const string DefaultUrl = "https://github.com/kslurm/kslurm-native/releases/latest/download";

    public static readonly string[] Tools = ["krun", "kbatch", "kjupyter", "kpy", "kapp", "kslurm"];

    public static string PathIn(string binDir) => System.IO.Path.Combine(binDir, FileName);

    /// <summary>The record in this bin folder, or null when the binaries were copied by hand or `make install`.</summary>
    public static InstallRecord? Read(string binDir)
    {
        string text;
        try
        {
            text = File.ReadAllText(PathIn(binDir));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        string? url = null, version = null, prefix = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            var eq = line.IndexOf('=');
            if (line.StartsWith('#') || eq <= 0)
                continue;
            var value = line[(eq + 1)..].Trim();
            switch (line[..eq].Trim())
            {
                case "url": url = value.Length > 0 ? value.TrimEnd('/') : null; break;
                case "version": version = value.Length > 0 ? value : null; break;
                case "prefix": prefix = value.Length > 0 ? value : null; break;
            }
        }
        return new InstallRecord(url, version, prefix);
    }

    /// <summary>Atomically; an existing record keeps its mode (0600 under ~/bin, 0644 in a shared prefix).</summary>
    public void Write(string binDir)
        => AtomicFile.WriteAllText(PathIn(binDir), $"""
            # kslurm install record: written by install.sh and `kslurm self update`, read by `kslurm self update|uninstall`
            url={Url}
            version={Version}
            prefix={Prefix}

            """);
}
