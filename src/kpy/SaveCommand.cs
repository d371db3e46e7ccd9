using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy save [-f] [--image] [NAME]`: archive the active venv (and, with --image or when NAME has
/// one, write its SquashFS image) into permanent storage (VenvStore.Save). A NAME
/// other than the venv's own renames it first; when its folder moved, the shell function
/// re-activates the folder printed.
/// </summary>
static class SaveCommand
{
    const string Usage = "usage: kpy save [-f] [--image] [NAME]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-f|--force", "--image"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        a.NoMorePositionals(1, Usage);
        var saved = VenvStore.Current().Save(Environment.GetEnvironmentVariable("VIRTUAL_ENV"),
            a.Positionals.Count > 0 ? a.Positionals[0] : null, a.Has("--force"), a.Has("--image"));
        Output.Note("kpy", saved.Summary);
        if (saved.MovedTo is { } moved)
        {
            // The shell function re-activates the folder printed; a shell without it still has
            // the old folder in PATH.
            if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KSLURM_KPY_SHELL")))
                Console.Out.Write(moved + "\n");
            else
                Output.Note("kpy", $"activate it again with: kpy activate {saved.Name}");
        }
        return 0;
    }
}
