using Kslurm.Json;

namespace Kslurm.Tests.Kjupyter;

/// <summary>What kernel_probe.py saw: the kernel answered (or died), what the code printed.</summary>
public sealed record Probe(bool Ok, string Output, string? Error, string? ConnectionFile, double? Seconds, Result Raw)
{
    public override string ToString() => Raw.ToString();

    /// <summary>The code printed `KEY=VALUE` lines; one value (null when absent or printed as None).</summary>
    public string? Value(string key)
    {
        var line = Output.Split('\n').FirstOrDefault(l => l.StartsWith(key + "=", StringComparison.Ordinal));
        return line is null || line[(key.Length + 1)..] == "None" ? null : line[(key.Length + 1)..];
    }
}

/// <summary>
/// A login-node world for kernels: private HOME (so Jupyter's user kernels folder is ours), pipdir,
/// scratch ($TMPDIR), the Apptainer stand-in and the published binaries first on PATH, and
/// Debian's python3 (which has ipykernel and jupyter_client) rather than a developer's pyenv.
/// Kernels are started for real, through jupyter_client, by kernel_probe.py.
/// </summary>
public sealed class KernelSandbox : IDisposable
{
    public const string SystemPython = "/usr/bin/python3";

    public KernelSandbox()
    {
        S = new Sandbox();
        S.Env["PATH"] = $"{Path.Combine(Repo.Root, "tests", "standin")}:{Repo.Dist}:/usr/bin:/bin";
        S.Env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"; // ipykernel's debugger warns about frozen modules otherwise
        Pipdir = Path.Combine(S.Dir, "project", "pipdir");
        Expect.Ok(S.Tool("kslurm", "config", "pipdir", Pipdir));
    }

    public Sandbox S { get; }
    public string Pipdir { get; }
    public string UserKernels => Path.Combine(S.Home, ".local", "share", "jupyter", "kernels");
    public string LiveRoot => Path.Combine(S.Env["TMPDIR"]!, $"kpy-{Environment.UserName}");

    public Result Kjupyter(params string[] args) => S.Tool("kjupyter", args);

    public Result Kernel(params string[] args) => Kjupyter(["kernel", .. args]);

    public void Install(params string[] args) => Expect.Ok(Kernel(["install", .. args]));

    public JsonObject Spec(string name, string? kernels = null)
        => (JsonObject)JsonText.Parse(File.ReadAllText(Path.Combine(kernels ?? UserKernels, name, "kernel.json")))!;

    /// <summary>Starts kernel NAME as Jupyter would, runs the code, and stops it.</summary>
    public Probe Start(string name, string code, IDictionary<string, string?>? env = null, string? viaBash = null)
    {
        var probe = Path.Combine(Repo.Root, "tests", "Kslurm.Tests", "Kjupyter", "kernel_probe.py");
        var r = viaBash is null
            ? S.Exec(SystemPython, [probe, name, code], extraEnv: env)
            // a server environment prepared by a shell first (e.g. modules already loaded)
            : S.Exec("bash", ["-c", viaBash + "\nexec \"$@\"", "bash", SystemPython, probe, name, code], extraEnv: env);
        var last = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException("kernel_probe.py printed no result\n" + r);
        var o = (JsonObject)JsonText.Parse(last)!;
        return new Probe(o["ok"] is true, o.String("stdout") ?? "", o.String("error"), o.String("connection_file"),
            o["seconds"] switch { double d => d, long l => l, _ => null }, r);
    }

    /// <summary>Prints KEY=value for each environment variable, and sys.prefix/sys.executable.</summary>
    public static string Show(params string[] vars)
        => "import os, sys\nprint('prefix=' + sys.prefix)\nprint('executable=' + sys.executable)\n"
           + string.Concat(vars.Select(v => $"print('{v}=' + str(os.environ.get('{v}')))\n"));

    /// <summary>A venv of Debian's python that sees the system's ipykernel.</summary>
    public string MakeVenv(string dir, bool systemSitePackages = true)
    {
        Expect.Ok(S.Exec(SystemPython, ["-m", "venv", "--without-pip", .. systemSitePackages ? new[] { "--system-site-packages" } : [], dir]));
        return dir;
    }

    /// <summary>Makes a venv, saves it with kpy under NAME, then deletes it: only the archive is left.</summary>
    public void SavedVenv(string name, bool systemSitePackages = true)
    {
        var dir = MakeVenv(Path.Combine(S.Dir, "made", name), systemSitePackages);
        var r = S.Exec(Repo.Tool("kpy"), ["save", name], extraEnv: new Dictionary<string, string?> { ["VIRTUAL_ENV"] = dir });
        Expect.Ok(r);
        Directory.Delete(dir, recursive: true);
        Assert.True(File.Exists(Path.Combine(Pipdir, "venv_archives", name + ".tar.zst")));
    }

    public void Dispose() => S.Dispose();
}
