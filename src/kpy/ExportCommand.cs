using Kslurm.Cli;
using Kslurm.Shell;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>`kpy export NAME [--path DIR]`: a saved venv unpacked into a folder of the user's choosing.</summary>
static class ExportCommand
{
    const string Usage = "usage: kpy export NAME [--path DIR]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, options: ["-p|--path"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        // kslurm's form was `kpy export venv NAME`: accept it.
        if (a.Positionals.Count == 2 && a.Positionals[0] == "venv")
            a.Positionals.RemoveAt(0);
        var name = a.OnePositional("NAME", Usage);
        var target = VenvStore.Current().Export(name, a.Value("--path") ?? name);
        Output.Note("kpy", $"done; activate it with: source {ShellQuote.Quote(Path.Combine(target, "bin", "activate"))}");
        return 0;
    }
}
