using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>`kpy rm NAME`: delete a saved venv (under its lock, so a save in progress finishes first).</summary>
static class RemoveCommand
{
    const string Usage = "usage: kpy rm NAME";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        var removed = VenvStore.Current().Remove(a.OnePositional("NAME", Usage));
        Output.Note("kpy", $"removed {removed}");
        return 0;
    }
}
