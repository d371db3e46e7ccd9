using System.Text.RegularExpressions;
using Kslurm.Processes;

namespace Kslurm.Venv;

/// <summary>Which Python a new venv is built on, and what the environment says about it.</summary>
public static partial class PythonFinder
{
    [GeneratedRegex(@"^\d\.\d{1,2}$")]
    public static partial Regex VersionShape();

    /// <summary>Lmod's loaded modules (LOADEDMODULES is colon-separated).</summary>
    public static List<string> LoadedModules()
        => Environment.GetEnvironmentVariable("LOADEDMODULES") is { Length: > 0 } m
            ? [.. m.Split(':', StringSplitOptions.RemoveEmptyEntries)]
            : [];

    /// <summary>
    /// python3.X from PATH when a version is asked for; otherwise python3 from PATH, which is the
    /// loaded python module's when one is loaded.
    /// </summary>
    public static string Find(string? version)
    {
        if (version is not null)
        {
            return ChildProcess.Which($"python{version}")
                ?? throw new KslurmException($"python{version} is not on PATH",
                    $"load it first, e.g. `module load python/{version}`, or leave out the version to use python3");
        }
        return ChildProcess.Which("python3") ?? ChildProcess.Which("python")
            ?? throw new KslurmException("no python3 on PATH", "load a python module first, e.g. `module load python`");
    }

    /// <summary>The version and interpreter a venv runs on, from its pyvenv.cfg.</summary>
    public static (string? Version, string? Executable) FromPyvenvCfg(string venvDir)
    {
        var cfg = Path.Combine(venvDir, "pyvenv.cfg");
        if (!File.Exists(cfg))
            return (null, null);
        string? version = null, home = null, executable = null;
        foreach (var line in File.ReadLines(cfg))
        {
            var eq = line.IndexOf('=');
            if (eq < 0) continue;
            var key = line[..eq].Trim();
            var value = line[(eq + 1)..].Trim();
            switch (key)
            {
                case "version" or "version_info": version ??= value; break;
                case "home": home = value; break;
                case "executable" or "base-executable": executable = value; break;
            }
        }
        if (executable is null && home is not null && version is not null)
        {
            var mm = string.Join('.', version.Split('.').Take(2));
            executable = Path.Combine(home, $"python{mm}");
        }
        return (version, executable);
    }
}
