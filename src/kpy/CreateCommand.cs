using Kslurm.Processes;
using Kslurm.Cli;
using Kslurm.Venv;

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
        var (created, dir) = store.Create(name, version, a.Value("--requirements"));
        if (a.Has("--save"))
            Output.Note("kpy", store.Save(dir, created, force: false).Summary);
        return Activation.Finish(dir, created);
    }
}
