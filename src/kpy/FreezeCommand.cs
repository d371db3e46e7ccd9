using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy freeze NAME [--exact]`: the saved venv's distributions as requirements that install off
/// the cluster too, read from the archive without unpacking it.
/// </summary>
static class FreezeCommand
{
    const string Usage = "usage: kpy freeze NAME [--exact]";

    // Left out as `pip freeze` leaves them out: the installer's own tools, not the project's.
    static readonly HashSet<string> Tools = ["pip", "setuptools", "wheel", "distribute"];

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--exact"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        var (_, saved) = LoadCommand.SavedArgument(a.Positionals, Usage);
        var meta = Unpacker.ReadMeta(saved);
        var found = Distributions.ReadArchive(saved.Path);
        var o = new System.Text.StringBuilder();
        // Enough to rebuild the same venv by hand: the Python and the modules it ran on.
        o.Append($"# kpy freeze {saved.Name}");
        if (meta?.PythonVersion is { } python)
            o.Append($": Python {python}");
        if (meta?.Modules is { Count: > 0 } modules)
            o.Append($", modules {string.Join(' ', modules)}");
        o.Append('\n');
        int local = 0;
        foreach (var d in found.Where(d => !Tools.Contains(Distributions.Canonical(d.Name))))
        {
            o.Append(Distributions.Requirement(d, a.Has("--exact"))).Append('\n');
            if (d.Origin == Origin.Local)
                local++;
        }
        Console.Out.Write(o.ToString());
        if (local > 0)
            Output.Note("kpy", $"{local} local install{(local == 1 ? " is" : "s are")} left as a comment: publish {(local == 1 ? "it" : "them")} (a git URL or an index) to install elsewhere");
        return 0;
    }
}
