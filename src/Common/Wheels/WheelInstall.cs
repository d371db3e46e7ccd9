using Tomlyn.Model;
using Kslurm.Config;
using Kslurm.Processes;

namespace Kslurm.Wheels;

/// <summary>
/// Filling a new venv from a requirements file or a pyproject.toml, as DRAC recommends inside a
/// job: from the wheelhouses only (`--no-index`) in a job, any index outside one.
/// </summary>
public static class WheelInstall
{
    /// <summary>
    /// pip's arguments for the requirements in <paramref name="file"/>: `-r FILE` for a
    /// requirements file; for a pyproject.toml, its `[project] dependencies` (PEP 621) or, as in
    /// the DRAC guide, `[tool.poetry.dependencies]` (Poetry's ^ and ~ made PEP 440).
    /// </summary>
    public static List<string> Arguments(string file)
    {
        if (!File.Exists(file))
            throw new KslurmException($"{file} does not exist");
        if (!file.EndsWith(".toml", StringComparison.OrdinalIgnoreCase))
            return ["-r", file];
        var doc = TomlText.Parse(File.ReadAllBytes(file), file).Model;
        var deps = new List<string>();
        if (doc.TryGetValue("project", out var p) && p is TomlTable project && project.TryGetValue("dependencies", out var d) && d is TomlArray list)
            deps.AddRange(list.OfType<string>());
        else if (doc.TryGetValue("tool", out var t) && t is TomlTable tool && tool.TryGetValue("poetry", out var po) && po is TomlTable poetry
            && poetry.TryGetValue("dependencies", out var pd) && pd is TomlTable table)
            foreach (var (name, spec) in table)
            {
                if (name == "python")
                    continue;
                var version = spec is string s ? s : spec is TomlTable st && st.TryGetValue("version", out var v) && v is string vs ? vs : null;
                deps.Add(name + Poetry(version));
            }
        else
            throw new KslurmException($"{file} lists no dependencies ([project] dependencies or [tool.poetry.dependencies])");
        return deps;
    }

    // Poetry constraint -> PEP 440: ~2.31.0 -> ~=2.31.0 (~1.4 -> ~=1.4.0), ^1.2 -> >=1.2,<2, * -> any, 1.2 -> ==1.2
    static string Poetry(string? c)
    {
        c = c?.Trim();
        if (string.IsNullOrEmpty(c) || c == "*")
            return "";
        if (c.StartsWith('~') && !c.StartsWith("~=", StringComparison.Ordinal))
        {
            var v = c[1..].Trim();
            return v.Split('.').Length switch
            {
                1 => $">={v},<{(int.TryParse(v, out var major) ? major + 1 : 0)}", // ~1: >=1,<2
                2 => $"~={v}.0",                                                   // ~1.4: >=1.4.0,<1.5
                _ => "~=" + v,                                                     // ~2.31.0: >=2.31.0,<2.32
            };
        }
        if (c.StartsWith('^'))
        {
            var v = c[1..].Trim();
            var parts = v.Split('.').Select(x => int.TryParse(x, out var n) ? n : 0).ToList();
            // the first non-zero part may not change
            var i = parts.FindIndex(x => x != 0);
            if (i < 0)
                i = parts.Count - 1;
            var upper = parts.Take(i + 1).ToList();
            upper[i]++;
            return $">={v},<{string.Join('.', upper)}";
        }
        if (char.IsAsciiDigit(c[0]))
            return "==" + c;
        return c; // already PEP 440 (>=, ==, !=, ~=, <, ...)
    }

    /// <summary>
    /// Installs into the venv at <paramref name="venv"/>: pip's output goes to stderr as it comes;
    /// a requirement nothing offers becomes one error naming it and the places searched.
    /// </summary>
    public static void Run(string venv, List<string> requirements, IReadOnlyList<Wheelhouse> houses, bool noIndex)
    {
        var argv = new List<string> { Path.Combine(venv, "bin", "python"), "-m", "pip", "install", "--disable-pip-version-check" };
        if (noIndex)
            argv.Add("--no-index");
        foreach (var h in houses.Where(h => h.Exists || !h.Local))
            argv.AddRange(["--find-links", h.Location]);
        argv.AddRange(requirements);
        string? missing = null;
        var tail = new List<string>();
        var code = ChildProcess.Stream(argv, (line, _) =>
        {
            Console.Error.WriteLine(line);
            tail.Add(line);
            const string marker = "No matching distribution found for ";
            var at = line.IndexOf(marker, StringComparison.Ordinal);
            if (at >= 0)
                missing ??= line[(at + marker.Length)..].Trim();
        }, new Dictionary<string, string?> { ["VIRTUAL_ENV"] = venv, ["PIP_NO_INDEX"] = noIndex ? "1" : null });
        if (code == 0)
            return;
        var where = string.Join(", ", houses.Where(h => h.Exists).Select(h => h.Location));
        if (missing is not null)
            throw new KslurmException(
                $"no wheel for {missing} in {(where.Length > 0 ? where : "any wheelhouse")}" + (noIndex ? " (inside a job pip uses no index)" : ""),
                noIndex ? $"see what is there with `kpy wheels {missing.Split([' ', '=', '<', '>', '~', '!', '[', ';'])[0]}`; on a login node, `pip wheel` or `pip download` it into <pipdir>/wheels" : null);
        throw new KslurmException($"pip install failed (exit {code}): {tail.LastOrDefault(l => l.Contains("ERROR", StringComparison.Ordinal)) ?? tail.LastOrDefault() ?? ""}");
    }
}
