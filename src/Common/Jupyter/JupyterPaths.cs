using Kslurm.Host;
using Kslurm.Processes;

namespace Kslurm.Jupyter;

/// <summary>
/// Where Jupyter looks for kernelspecs, computed the way jupyter_core does it (without running
/// Python): JUPYTER_PATH first, then the user's data folder, then the prefix of the `jupyter` on
/// PATH, then the system folders. Each entry is a `.../kernels` folder; the first one holding a
/// name wins.
/// </summary>
public static class JupyterPaths
{
    /// <summary>JUPYTER_DATA_DIR, else ${XDG_DATA_HOME:-~/.local/share}/jupyter.</summary>
    public static string UserDataDir
    {
        get
        {
            if (Environment.GetEnvironmentVariable("JUPYTER_DATA_DIR") is { Length: > 0 } d)
                return Path.GetFullPath(d);
            var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
            var share = !string.IsNullOrEmpty(xdg) && Path.IsPathRooted(xdg) ? xdg : Path.Combine(Paths.Home, ".local", "share");
            return Path.Combine(share, "jupyter");
        }
    }

    public static string UserKernels => Path.Combine(UserDataDir, "kernels");

    /// <summary>The kernels folder of an install prefix (what `--prefix DIR` means to Jupyter).</summary>
    public static string PrefixKernels(string prefix) => Path.Combine(Path.GetFullPath(prefix), "share", "jupyter", "kernels");

    static readonly string[] SystemDataDirs = ["/usr/local/share/jupyter", "/usr/share/jupyter"];

    /// <summary>Every kernels folder in Jupyter's order of precedence, extra prefixes last; no duplicates.</summary>
    public static IReadOnlyList<string> KernelDirs(IEnumerable<string>? extraPrefixes = null)
    {
        var dirs = new List<string>();
        void Add(string dataDir)
        {
            if (dataDir.Length == 0)
                return;
            var k = Path.TrimEndingDirectorySeparator(Path.Combine(Path.GetFullPath(dataDir), "kernels"));
            if (!dirs.Contains(k))
                dirs.Add(k);
        }
        foreach (var p in (Environment.GetEnvironmentVariable("JUPYTER_PATH") ?? "").Split(':'))
            Add(p);
        Add(UserDataDir);
        if (ChildProcess.Which("jupyter") is { } jupyter && Path.GetDirectoryName(Path.GetDirectoryName(Path.GetFullPath(jupyter))) is { } prefix)
            Add(Path.Combine(prefix, "share", "jupyter"));
        foreach (var s in SystemDataDirs)
            Add(s);
        foreach (var p in extraPrefixes ?? [])
            Add(Path.Combine(p, "share", "jupyter"));
        return dirs;
    }

    /// <summary>True when Jupyter (with this environment) would look in that kernels folder.</summary>
    public static bool IsSearched(string kernelsDir)
        => KernelDirs().Contains(Path.TrimEndingDirectorySeparator(Path.GetFullPath(kernelsDir)));
}
