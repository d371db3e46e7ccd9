using Kslurm.Config;
using Kslurm.Host;

namespace Kslurm.Install;

/// <summary>
/// `kslurm self uninstall`: removes what install.sh put there (the six binaries, the record, and
/// in a shared install the modulefiles and the settings example) and nothing a person wrote: the
/// site settings stay unless they are still the untouched stub, and every user's settings, saved
/// venvs, wheels and images stay. Returns what was removed and what was left, for the report.
/// </summary>
public static class SelfUninstall
{
    public sealed record Outcome(List<string> Removed, List<string> Left);

    public static Outcome Run(Installation inst)
    {
        var bin = inst.BinDir;
        InstallFolder.RequireWritable(bin, "uninstall");
        var prefix = inst.Prefix;
        if (prefix is not null)
            InstallFolder.RequireWritable(prefix, "uninstall");
        var removed = new List<string>();
        var left = new List<string>();

        // Read before anything is deleted: where the user's data lives (for the "left" lines).
        string? pipdir = null;
        try { pipdir = Settings.Load().Get("pipdir"); } catch (Exception e) when (e is KslurmException or IOException or UnauthorizedAccessException) { }

        foreach (var t in InstallRecord.Tools)
            Delete(Path.Combine(bin, t), removed);
        Delete(Path.Combine(bin, ".kslurm-update.lock"), removed, quiet: true);
        Delete(InstallRecord.PathIn(bin), removed, quiet: true);

        if (prefix is not null)
        {
            var modules = Path.Combine(prefix, "modulefiles", "kslurm");
            if (Directory.Exists(modules))
                foreach (var lua in Directory.GetFiles(modules, "*.lua"))
                    if (File.ReadAllText(lua).Contains($"\"{prefix}\"", StringComparison.Ordinal)) // ours: it names this prefix
                        Delete(lua, removed);
            var example = Path.Combine(prefix, "share", "kslurm", "config.toml.example");
            var site = Path.Combine(prefix, "etc", "kslurm", "config.toml");
            if (File.Exists(site))
            {
                if (File.Exists(example) && File.ReadAllText(site) == File.ReadAllText(example))
                    Delete(site, removed); // the stub as installed: nobody wrote settings into it
                else
                    left.Add($"{site} (the site settings; delete it if nobody needs them)");
            }
            Delete(example, removed);
            foreach (var d in new[] { modules, Path.GetDirectoryName(modules)!, Path.Combine(prefix, "share", "kslurm"), Path.Combine(prefix, "share"),
                                      Path.Combine(prefix, "etc", "kslurm"), Path.Combine(prefix, "etc"), bin, prefix })
                RemoveIfEmpty(d, left);
        }
        else if (Directory.Exists(bin) && Directory.EnumerateFileSystemEntries(bin).Any())
        {
            left.Add($"{Paths.Pretty(bin)} (it holds other programs)");
        }

        if (Directory.Exists(Paths.ConfigDir))
            left.Add($"{Paths.Pretty(Paths.ConfigDir)} (your settings)");
        if (pipdir is not null && Directory.Exists(pipdir))
            left.Add($"{Paths.Pretty(pipdir)} (pipdir: saved venvs, wheels, container images)");
        if (Directory.Exists(Paths.StateDir))
            left.Add($"{Paths.Pretty(Paths.StateDir)} (Jupyter session records and logs)");
        return new Outcome(removed, left);
    }

    static void Delete(string path, List<string> removed, bool quiet = false)
    {
        if (!File.Exists(path))
            return;
        File.Delete(path);
        if (!quiet)
            removed.Add(path);
    }

    static void RemoveIfEmpty(string dir, List<string> left)
    {
        if (!Directory.Exists(dir))
            return;
        if (Directory.EnumerateFileSystemEntries(dir).Any())
        {
            if (!left.Any(l => l.StartsWith(dir + "/", StringComparison.Ordinal)))
                left.Add($"{dir}/ (not empty)");
            return;
        }
        Directory.Delete(dir);
    }
}
