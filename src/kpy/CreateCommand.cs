using Kslurm.Cli;
using Kslurm.Processes;
using Kslurm.Venv;
using Kslurm.Wheels;

namespace Kslurm.Tools;

/// <summary>`kpy create [NAME] [3.X]`: a new venv on this node's scratch, with pip (seeded offline).</summary>
static class CreateCommand
{
    const string Usage = "usage: kpy create [NAME] [3.X] [-r requirements.txt|pyproject.toml] [--save]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--save"], options: ["-r|--requirements"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        a.NoMorePositionals(2, Usage);
        string? version = null, name = null;
        foreach (var p in a.Positionals)
        {
            if (PythonFinder.VersionShape().IsMatch(p))
                version = version is null ? p : throw new UsageException($"two Python versions given ({version} and {p})", Usage);
            else
                name = name is null ? VenvName.Check(p) : throw new UsageException($"unexpected argument '{p}'", Usage);
        }
        var store = VenvStore.Current();
        name ??= FreeName(store);
        var dir = store.LivePath(name);
        if (Directory.Exists(dir))
            throw new KslurmException($"a venv called {name} is already on this node ({dir})",
                $"activate it with `kpy activate {name}`, or choose another name");

        // read before anything is created: a bad file leaves nothing behind
        var requirements = a.Value("--requirements") is { } req ? WheelInstall.Arguments(Path.GetFullPath(req)) : null;
        var python = PythonFinder.Find(version);
        Output.Note("kpy", $"creating {name} with {python} ...");
        // The stdlib venv seeds pip from the wheel bundled with Python: no network needed.
        var r = ChildProcess.Capture([python, "-m", "venv", "--prompt", name, dir]);
        if (!r.Ok)
        {
            TryDelete(dir);
            var last = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? $"exit code {r.ExitCode}";
            throw new KslurmException($"{python} -m venv failed: {last}",
                last.Contains("ensurepip") ? "this Python lacks ensurepip: install python3-venv, or load a python module" : null);
        }
        var (ver, exe) = PythonFinder.FromPyvenvCfg(dir);
        new VenvMeta
        {
            Name = name,
            PythonVersion = ver,
            BaseInterpreter = exe ?? python,
            Modules = PythonFinder.LoadedModules(),
            Created = DateTime.UtcNow,
            KpyVersion = BuildInfo.Version,
        }.WriteTo(dir);
        Output.Note("kpy", $"created {name} (Python {ver ?? "?"}) at {dir}");
        if (requirements is not null)
        {
            try
            {
                // DRAC's advice: inside a job, from the wheelhouses only
                WheelInstall.Run(dir, requirements, Wheelhouses.Find(store.Settings.Get("pipdir")), noIndex: store.Node.InJob);
            }
            catch
            {
                TryDelete(dir); // a venv missing part of its requirements is not one to keep
                throw;
            }
        }
        if (a.Has("--save"))
        {
            Environment.SetEnvironmentVariable("VIRTUAL_ENV", dir); // what `kpy save` saves
            var saved = SaveCommand.Run([name]);
            if (saved != 0)
                return saved;
        }
        return Activation.Finish(dir, name);
    }

    /// <summary>venv, venv1, venv2, ... the first one free on this node.</summary>
    static string FreeName(VenvStore store)
    {
        for (var i = 0; ; i++)
        {
            var candidate = i == 0 ? "venv" : $"venv{i}";
            if (!Directory.Exists(store.LivePath(candidate)))
                return candidate;
        }
    }

    internal static void TryDelete(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
