using System.Globalization;
using Kslurm.Processes;
using Kslurm.Venv;

namespace Kslurm.Wheels;

/// <summary>
/// What an interpreter accepts, as pip decides it (packaging.tags): asked from the interpreter
/// once (`python -I -S`: no site import), then every wheel is judged without Python.
/// </summary>
public sealed class PythonTags
{
    // One line: implementation, major, minor, SOABI, platform, libc, free-threaded, executable.
    const string Probe = """
        import os, sys, sysconfig
        libc = os.confstr('CS_GNU_LIBC_VERSION') if hasattr(os, 'confstr') else None
        print(sys.implementation.name, sys.version_info[0], sys.version_info[1],
              sysconfig.get_config_var('SOABI') or '-', sysconfig.get_platform(),
              (libc or 'unknown').replace(' ', '-'), int(bool(sysconfig.get_config_var('Py_GIL_DISABLED'))),
              sys.executable)
        """;

    public required string Executable { get; init; }
    public required string Implementation { get; init; }   // cpython, pypy
    public required int Major { get; init; }
    public required int Minor { get; init; }
    public required string Interpreter { get; init; }      // cp311, pp310
    public required string Abi { get; init; }              // cp311, cp313t, pypy310_pp73
    public required string Arch { get; init; }             // x86_64, aarch64
    public (int Major, int Minor)? Glibc { get; init; }
    public bool Musl { get; init; }
    public bool FreeThreaded { get; init; }

    public string Version => $"{Major}.{Minor}";

    /// <summary>
    /// The Python pip would install for: the active venv's (VIRTUAL_ENV), else `python3` on PATH.
    /// </summary>
    public static string ActiveExecutable()
    {
        if (Environment.GetEnvironmentVariable("VIRTUAL_ENV") is { Length: > 0 } venv && File.Exists(Path.Combine(venv, "bin", "python")))
            return Path.Combine(venv, "bin", "python");
        return PythonFinder.Find(null);
    }

    public static PythonTags Of(string python)
    {
        var r = ChildProcess.Capture([python, "-I", "-S", "-c", Probe]);
        var f = r.Stdout.Trim().Split(' ', 8);
        if (r.ExitCode != 0 || f.Length < 8 || !int.TryParse(f[1], out var major) || !int.TryParse(f[2], out var minor))
            throw new KslurmException($"cannot ask {python} which wheels it takes: {r.Stderr.Trim().Split('\n')[^1]}");
        var impl = f[0];
        var free = f[6] == "1";
        var xy = $"{major}{minor}";
        var short_ = impl switch { "cpython" => "cp", "pypy" => "pp", "graalpy" => "graalpy", _ => impl };
        // packaging.tags: CPython's ABI is cp3Y (+t when free-threaded); others take SOABI's first two parts.
        var abi = impl == "cpython"
            ? $"cp{xy}{(free ? "t" : "")}"
            : f[3] == "-" ? "none" : string.Join('_', f[3].Split('-').Take(2)).Replace('.', '_').Replace('-', '_');
        var platform = f[4];                   // linux-x86_64
        var libc = f[5];                       // glibc-2.36, or unknown
        (int, int)? glibc = null;
        if (libc.StartsWith("glibc-", StringComparison.Ordinal) && libc[6..].Split('.') is [var a, var b, ..]
            && int.TryParse(a, out var ga) && int.TryParse(b, out var gb))
            glibc = (ga, gb);
        return new PythonTags
        {
            Executable = f[7],
            Implementation = impl,
            Major = major,
            Minor = minor,
            Interpreter = short_ + xy,
            Abi = abi,
            Arch = platform.StartsWith("linux-", StringComparison.Ordinal) ? platform[6..] : platform,
            Glibc = glibc,
            Musl = glibc is null && platform.StartsWith("linux", StringComparison.Ordinal),
            FreeThreaded = free,
        };
    }

    /// <summary>Null when the wheel installs here, else why not (one short phrase).</summary>
    public string? WhyNot(WheelFile w)
    {
        bool pythonFits = false;
        foreach (var py in w.Pythons)
            foreach (var abi in w.Abis)
            {
                if (!PythonFits(py, abi))
                    continue;
                pythonFits = true;
                if (w.Platforms.Any(PlatformFits))
                    return null;
            }
        if (!pythonFits)
            return $"for {string.Join('.', w.Pythons)}-{string.Join('.', w.Abis)}, not {Interpreter}-{Abi}";
        return $"for {string.Join('.', w.Platforms)}, not linux_{Arch}" + (Glibc is { } g ? $" with glibc {g.Major}.{g.Minor}" : Musl ? " with musl" : "");
    }

    bool PythonFits(string py, string abi)
    {
        if (abi == Abi)
            return py == Interpreter;
        if (abi == "abi3")
            return Implementation == "cpython" && !FreeThreaded
                && py.StartsWith("cp" + Major, StringComparison.Ordinal) && MinorOf(py, "cp") is { } m && m >= 2 && m <= Minor;
        if (abi != "none")
            return false;
        if (py == Interpreter || py == "py" + Major)
            return true;
        return py.StartsWith("py" + Major, StringComparison.Ordinal) && MinorOf(py, "py") is { } n && n <= Minor;
    }

    // cp38 -> 8, py311 -> 11 (the major is one digit for every Python with wheels)
    int? MinorOf(string tag, string prefix)
        => tag.Length > prefix.Length + 1 && int.TryParse(tag.AsSpan(prefix.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var m) ? m : null;

    bool PlatformFits(string plat)
    {
        if (plat == "any" || plat == $"linux_{Arch}")
            return true;
        if (!plat.EndsWith("_" + Arch, StringComparison.Ordinal))
            return false;
        var head = plat[..^(Arch.Length + 1)];
        (int, int)? needs = head switch
        {
            "manylinux1" => (2, 5),
            "manylinux2010" => (2, 12),
            "manylinux2014" => (2, 17),
            _ when head.StartsWith("manylinux_", StringComparison.Ordinal) && head[10..].Split('_') is [var a, var b]
                && int.TryParse(a, out var x) && int.TryParse(b, out var y) => (x, y),
            _ => null,
        };
        if (needs is { } n)
            return Glibc is { } g && (g.Major > n.Item1 || (g.Major == n.Item1 && g.Minor >= n.Item2));
        // musllinux_1_2: only on a musl Python (whose exact version is not asked: every 1.x reads as fitting)
        return Musl && head.StartsWith("musllinux_1_", StringComparison.Ordinal);
    }
}
