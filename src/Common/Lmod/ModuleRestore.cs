using Kslurm.Cli;
using Kslurm.Processes;
using Kslurm.Venv;

namespace Kslurm.Lmod;

/// <summary>
/// The Lmod modules a venv was saved with, loaded again before it is used (the OzSTAR guide:
/// "load all of the required modules before activating"). Lmod does the loading; we only hand
/// it the recorded names, in their order, minus those already loaded.
/// </summary>
public static class ModuleRestore
{
    /// <summary>
    /// Lmod's command: LMOD_CMD (set by Lmod's shell setup; when set, it alone counts), else
    /// LMOD_PKG/libexec/lmod, else the usual install places; null without Lmod.
    /// </summary>
    public static string? FindLmod()
    {
        if (Environment.GetEnvironmentVariable("LMOD_CMD") is { Length: > 0 } cmd)
            return File.Exists(cmd) ? cmd : null;
        var candidates = new List<string>();
        if (Environment.GetEnvironmentVariable("LMOD_PKG") is { Length: > 0 } pkg)
            candidates.Add(Path.Combine(pkg, "libexec", "lmod"));
        candidates.AddRange(["/usr/share/lmod/lmod/libexec/lmod", "/opt/lmod/lmod/libexec/lmod", "/usr/local/lmod/lmod/libexec/lmod", "/opt/apps/lmod/lmod/libexec/lmod"]);
        return candidates.FirstOrDefault(File.Exists);
    }

    /// <summary>The recorded modules not loaded now (LOADEDMODULES), in their recorded order.</summary>
    public static List<string> Missing(IReadOnlyList<string> recorded)
    {
        var loaded = PythonFinder.LoadedModules().ToHashSet(StringComparer.Ordinal);
        return [.. recorded.Where(m => !loaded.Contains(m))];
    }

    /// <summary>
    /// Lmod's shell code that loads <paramref name="modules"/> (for `eval` in the user's bash or
    /// zsh), or null when there is nothing to load or no Lmod (said once, as a note).
    /// </summary>
    /// <exception cref="KslurmException">A module Lmod does not know, named, with the spider hint.</exception>
    public static string? ShellCode(string tool, string venv, IReadOnlyList<string> modules, string shell)
    {
        if (modules.Count == 0 || Lmod(tool, venv, modules) is not { } lmod)
            return null;
        var r = ChildProcess.Capture([lmod, shell, "load", .. modules]);
        if (r.ExitCode != 0)
            throw Failure(venv, modules, r.Stderr);
        return r.Stdout;
    }

    /// <summary>
    /// The environment changes of loading <paramref name="modules"/> (null value = unset), for a
    /// program we start ourselves: Lmod's bash code is run by bash, which reports the result.
    /// </summary>
    public static Dictionary<string, string?> Changes(string tool, string venv, IReadOnlyList<string> modules)
    {
        var changes = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (modules.Count == 0 || Lmod(tool, venv, modules) is not { } lmod)
            return changes;
        var bash = ChildProcess.Which("bash") ?? "/bin/bash";
        var r = ChildProcess.Capture([bash, "-c", "__kpy_code=\"$(\"$0\" bash load \"$@\")\" || exit 97; eval \"$__kpy_code\" || exit 97; exec env -0", lmod, .. modules]);
        if (r.ExitCode != 0)
            throw Failure(venv, modules, r.Stderr);
        var after = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in r.Stdout.Split('\0', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = entry.IndexOf('=');
            if (eq > 0)
                after[entry[..eq]] = entry[(eq + 1)..];
        }
        // bash's own bookkeeping is not the modules' doing
        string[] shellOwn = ["_", "SHLVL", "PWD", "OLDPWD"];
        foreach (var (key, value) in after)
            if (!shellOwn.Contains(key) && Environment.GetEnvironmentVariable(key) != value)
                changes[key] = value;
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            if (e.Key is string key && !after.ContainsKey(key) && !shellOwn.Contains(key))
                changes[key] = null;
        return changes;
    }

    static string? Lmod(string tool, string venv, IReadOnlyList<string> modules)
    {
        if (FindLmod() is { } lmod)
            return lmod;
        Output.Note(tool, $"{venv} was saved with modules {string.Join(' ', modules)}, but this machine has no Lmod: they are not loaded");
        return null;
    }

    // Lmod: `The following module(s) are unknown: "nosuch/1.0"` -> name it; otherwise Lmod's first line.
    static KslurmException Failure(string venv, IReadOnlyList<string> modules, string stderr)
    {
        var at = stderr.IndexOf("unknown:", StringComparison.Ordinal);
        if (at >= 0)
        {
            var rest = stderr[(at + 8)..];
            var open = rest.IndexOf('"');
            var close = open >= 0 ? rest.IndexOf('"', open + 1) : -1;
            if (close > open)
            {
                var name = rest[(open + 1)..close];
                var family = name.Split('/')[0];
                return new KslurmException($"module {name}, loaded when {venv} was saved, does not exist here",
                    $"find what provides it with `module spider {family}`, then load it yourself and use --no-modules (or save the venv again)");
            }
        }
        var first = stderr.Replace("Lmod has detected the following error:", "")
            .Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
        return new KslurmException($"Lmod could not load {string.Join(' ', modules)} for {venv}: {first}",
            "try `module load` yourself, or skip the modules with --no-modules");
    }
}
