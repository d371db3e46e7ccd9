using Kslurm.Host;
using Kslurm.Json;

namespace Kslurm.Jupyter;

/// <summary>
/// What `conda activate PREFIX` does to the environment, computed without running conda (which
/// can take seconds on a shared install): PATH with the prefix's bin first (replacing the bin of
/// an env that was already active), CONDA_PREFIX, CONDA_SHLVL and CONDA_PREFIX_N stacked the way
/// conda stacks them, CONDA_DEFAULT_ENV, CONDA_PROMPT_MODIFIER, and the env's own variables
/// (`etc/conda/env_vars.d/*.json`, then `conda env config vars` from `conda-meta/state`).
/// On top of conda, CPATH, LIBRARY_PATH and LD_LIBRARY_PATH get the env's include and lib, so
/// compilers and programs run from the kernel find the env's headers and libraries.
/// The `etc/conda/activate.d/*.sh` hooks need a shell: <see cref="Hooks"/> lists them in the
/// order conda sources them.
/// </summary>
public static class CondaActivation
{
    /// <summary>A conda env: the folder holds conda-meta/ and bin/python.</summary>
    public static string? Problem(string prefix)
    {
        if (!Directory.Exists(prefix))
            return $"{prefix} does not exist";
        if (!Directory.Exists(Path.Combine(prefix, "conda-meta")))
            return $"{prefix} is not a conda environment (it has no conda-meta folder)";
        if (!File.Exists(Path.Combine(prefix, "bin", "python")))
            return $"the conda environment {prefix} has no bin/python";
        return null;
    }

    /// <summary>
    /// A conda env's full path from a path or an env name: names are looked up in
    /// CONDA_ENVS_PATH, ~/.conda/envs and the envs folder of the conda in use (CONDA_EXE,
    /// CONDA_PREFIX, MAMBA_ROOT_PREFIX); `base` is the root of that conda.
    /// </summary>
    public static string Resolve(string value)
    {
        if (value.Contains('/') || value is "." or "..")
            return Path.TrimEndingDirectorySeparator(Path.GetFullPath(value));
        var roots = Roots().ToList();
        if (value == "base" && roots.FirstOrDefault(r => Problem(r) is null) is { } root)
            return root;
        var envDirs = (Environment.GetEnvironmentVariable("CONDA_ENVS_PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append(Path.Combine(Paths.Home, ".conda", "envs"))
            .Concat(roots.Select(r => Path.Combine(r, "envs")));
        foreach (var d in envDirs)
        {
            var candidate = Path.Combine(d, value);
            if (Directory.Exists(Path.Combine(candidate, "conda-meta")))
                return Path.GetFullPath(candidate);
        }
        throw new KslurmException($"no conda environment called {value}",
            "give its full path instead (`conda env list` shows them), e.g. --conda ~/miniforge3/envs/" + value);
    }

    // Root installs of the conda in use, best guess first.
    static IEnumerable<string> Roots()
    {
        if (Environment.GetEnvironmentVariable("CONDA_EXE") is { Length: > 0 } exe)
            yield return Path.GetDirectoryName(Path.GetDirectoryName(exe)!)!; // ROOT/bin/conda
        foreach (var v in new[] { "MAMBA_ROOT_PREFIX", "CONDA_ROOT" })
            if (Environment.GetEnvironmentVariable(v) is { Length: > 0 } r)
                yield return r;
        if (Environment.GetEnvironmentVariable("CONDA_PREFIX") is { Length: > 0 } p)
            yield return Path.GetFileName(Path.GetDirectoryName(p)) == "envs" ? Path.GetDirectoryName(Path.GetDirectoryName(p)!)! : p;
    }

    /// <summary>conda's name for an env: `base` for a root install, the folder name under an envs folder, else the path.</summary>
    public static string EnvName(string prefix)
    {
        prefix = Path.TrimEndingDirectorySeparator(prefix);
        if (Path.GetFileName(Path.GetDirectoryName(prefix)) == "envs")
            return Path.GetFileName(prefix);
        if (Directory.Exists(Path.Combine(prefix, "condabin")) || File.Exists(Path.Combine(prefix, "bin", "conda")))
            return "base";
        return prefix;
    }

    /// <summary>The variables to change (null: remove) to activate PREFIX over the given environment.</summary>
    public static Dictionary<string, string?> Variables(string prefix, Func<string, string?> env)
    {
        var bin = Path.Combine(prefix, "bin");
        var old = env("CONDA_PREFIX") is { Length: > 0 } o ? Path.TrimEndingDirectorySeparator(o) : null;
        var level = int.TryParse(env("CONDA_SHLVL"), out var l) && l >= 0 ? l : 0;
        var path = (env("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries).ToList();
        if (old is not null)
            path.RemoveAll(p => Path.TrimEndingDirectorySeparator(p) == Path.Combine(old, "bin"));
        path.RemoveAll(p => Path.TrimEndingDirectorySeparator(p) == bin);
        path.Insert(0, bin);
        var name = EnvName(prefix);
        var result = new Dictionary<string, string?>
        {
            ["PATH"] = string.Join(':', path),
            ["CONDA_PREFIX"] = prefix,
            ["CONDA_DEFAULT_ENV"] = name,
            ["CONDA_PROMPT_MODIFIER"] = $"({name}) ",
            ["PYTHONHOME"] = null, // would point the env's python at another standard library
            ["CPATH"] = Prepend(Path.Combine(prefix, "include"), env("CPATH")),
            ["LIBRARY_PATH"] = Prepend(Path.Combine(prefix, "lib"), env("LIBRARY_PATH")),
            ["LD_LIBRARY_PATH"] = Prepend(Path.Combine(prefix, "lib"), env("LD_LIBRARY_PATH")),
        };
        if (old is null || level == 0)
            result["CONDA_SHLVL"] = "1";
        else if (old != prefix)
        {
            // conda keeps the env it replaces, so `conda deactivate` in a terminal can go back
            result[$"CONDA_PREFIX_{level}"] = old;
            result["CONDA_SHLVL"] = (level + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        foreach (var (k, v) in EnvVars(prefix))
            result[k] = v;
        return result;
    }

    /// <summary>The `activate.d` shell hooks, sorted as conda sorts them.</summary>
    public static IReadOnlyList<string> Hooks(string prefix)
    {
        var d = Path.Combine(prefix, "etc", "conda", "activate.d");
        return Directory.Exists(d) ? [.. Directory.EnumerateFiles(d, "*.sh").Order(StringComparer.Ordinal)] : [];
    }

    static string Prepend(string dir, string? list)
        => string.IsNullOrEmpty(list) ? dir : dir + ":" + string.Join(':', list.Split(':').Where(p => p != dir));

    // Package-provided variables first, then the user's own (`conda env config vars set`), as conda does.
    static IEnumerable<(string, string)> EnvVars(string prefix)
    {
        var files = new List<string>();
        var d = Path.Combine(prefix, "etc", "conda", "env_vars.d");
        if (Directory.Exists(d))
            files.AddRange(Directory.EnumerateFiles(d, "*.json").Order(StringComparer.Ordinal));
        files.Add(Path.Combine(prefix, "conda-meta", "state"));
        foreach (var f in files)
        {
            JsonObject? vars;
            try
            {
                if (!File.Exists(f))
                    continue;
                var doc = JsonText.Parse(File.ReadAllBytes(f), f) as JsonObject;
                vars = f.EndsWith("state", StringComparison.Ordinal) ? doc?.Object("env_vars") : doc;
            }
            catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
            {
                continue; // conda ignores what it cannot read too
            }
            foreach (var (k, v) in vars ?? new JsonObject())
                if (k.Length > 0 && !k.Contains('=') && v is string s)
                    yield return (k, s);
        }
    }
}
