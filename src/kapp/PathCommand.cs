using Kslurm.Cli;
using Kslurm.Registry;

namespace Kslurm.Tools;

/// <summary>`kapp path URI|ALIAS`: the image file of something pulled; never touches the network.</summary>
static class PathCommand
{
    const string Usage = "usage: kapp path [-q] URI|ALIAS";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-q|--quiet"]);
        var uriOrAlias = a.OnePositional("URI or ALIAS", Usage);
        string image;
        try
        {
            image = ImageStore.Open("kapp").Resolve(uriOrAlias);
        }
        catch (KslurmException e) when (a.Has("--quiet"))
        {
            return e.ExitCode; // -q (as in kslurm): scripts test the exit code, e.g. kapp path -q X || kapp pull X
        }
        Console.Out.Write(image + "\n");
        return 0;
    }
}
