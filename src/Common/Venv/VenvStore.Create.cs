using Kslurm.Cli;
using Kslurm.Lmod;
using Kslurm.Processes;
using Kslurm.Wheels;

namespace Kslurm.Venv;

public sealed partial class VenvStore
{
    /// <summary>
    /// A new venv on this node's scratch, with pip (the stdlib venv seeds it from the wheel bundled
    /// with Python: no network), then the requirements of <paramref name="requirementsFile"/> from
    /// the wheelhouses. NAME defaults to the first free of venv, venv1, ... Returns (name, folder).
    /// </summary>
    public (string Name, string Dir) Create(string? name, string? version, string? requirementsFile)
    {
        name ??= FreeName();
        var dir = LivePath(name);
        if (Directory.Exists(dir))
            throw AlreadyHere(name, dir, $"activate it with `kpy activate {name}`, or choose another name");
        // read before anything is created: a bad file leaves nothing behind
        var requirements = requirementsFile is not null ? WheelInstall.Arguments(Path.GetFullPath(requirementsFile)) : null;
        var python = PythonFinder.Find(version);
        Note($"creating {name} with {python} ...");
        var r = ChildProcess.Capture([python, "-m", "venv", "--prompt", name, dir]);
        if (!r.Ok)
        {
            DeleteTree(dir);
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
            Modules = ModuleRestore.Loaded(),
            Created = DateTime.UtcNow,
            KpyVersion = BuildInfo.Version,
        }.WriteTo(dir);
        Note($"created {name} (Python {ver ?? "?"}) at {dir}");
        if (requirements is not null)
        {
            try
            {
                // DRAC's advice: inside a job, from the wheelhouses only
                WheelInstall.Run(dir, requirements, Wheelhouses.Find(Settings.Get("pipdir")), noIndex: Node.InJob);
            }
            catch
            {
                DeleteTree(dir); // a venv missing part of its requirements is not one to keep
                throw;
            }
        }
        return (name, dir);
    }

    /// <summary>venv, venv1, venv2, ... the first one free on this node.</summary>
    string FreeName()
    {
        for (var i = 0; ; i++)
        {
            var candidate = i == 0 ? "venv" : $"venv{i}";
            if (!Directory.Exists(LivePath(candidate)))
                return candidate;
        }
    }
}
