using System.Text;

namespace Kslurm.Venv;

/// <summary>
/// A fingerprint of what is installed in a venv, from the names of the distributions' metadata
/// folders (name-version.dist-info, .egg-info): read with one directory listing, no Python.
/// </summary>
public static class VenvState
{
    public static string Fingerprint(string venvDir)
    {
        var names = new List<string>();
        foreach (var lib in new[] { "lib", "lib64" })
        {
            var libDir = Path.Combine(venvDir, lib);
            if (!Directory.Exists(libDir) || new DirectoryInfo(libDir).LinkTarget is not null)
                continue;
            foreach (var py in Directory.EnumerateDirectories(libDir, "python*"))
            {
                var site = Path.Combine(py, "site-packages");
                if (!Directory.Exists(site))
                    continue;
                foreach (var e in Directory.EnumerateFileSystemEntries(site))
                {
                    var n = Path.GetFileName(e);
                    if (n.EndsWith(".dist-info", StringComparison.Ordinal) || n.EndsWith(".egg-info", StringComparison.Ordinal)
                        || n.EndsWith(".egg-link", StringComparison.Ordinal) || n.EndsWith(".pth", StringComparison.Ordinal))
                        names.Add(n);
                }
            }
        }
        names.Sort(StringComparer.Ordinal);
        // FNV-1a: a fingerprint, not a security boundary, and it needs no crypto library (OpenSSL
        // would be loaded on every prompt refresh).
        var hash = 14695981039346656037UL;
        foreach (var b in Encoding.UTF8.GetBytes(string.Join('\n', names)))
            hash = (hash ^ b) * 1099511628211UL;
        return hash.ToString("x16");
    }
}
