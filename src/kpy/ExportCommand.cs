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
        var positionals = a.Positionals.Count == 2 && a.Positionals[0] == "venv" ? a.Positionals.Skip(1).ToList() : a.Positionals;
        var (_, saved) = LoadCommand.SavedArgument(positionals, Usage);
        var name = saved.Name;
        var target = Path.GetFullPath(a.Value("--path") ?? name);
        if (Path.Exists(target))
            throw new KslurmException($"{target} already exists", "choose a new folder with --path DIR");
        var meta = Unpacker.ReadMeta(saved);
        Unpacker.CheckInterpreter(meta, name);
        Output.Note("kpy", $"exporting {name} to {target} ...");
        Unpacker.Unpack(saved, meta, target, null);
        var live = meta ?? new VenvMeta { Name = name };
        live.SavedAs = name;
        live.OriginalPaths = [];
        live.WriteTo(target);
        Output.Note("kpy", $"done; activate it with: source {ShellQuote.Quote(Path.Combine(target, "bin", "activate"))}");
        return 0;
    }
}
