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
        if (a.Positionals.Count != 1)
            throw new UsageException(a.Positionals.Count == 0 ? "missing URI or ALIAS" : $"unexpected argument '{a.Positionals[1]}'", Usage);
        string image;
        try
        {
            image = Resolve(KappMain.Store(), a.Positionals[0]);
        }
        catch (KslurmException e) when (a.Has("--quiet"))
        {
            return e.ExitCode; // -q (as in kslurm): scripts test the exit code, e.g. kapp path -q X || kapp pull X
        }
        Console.Out.Write(image + "\n");
        return 0;
    }

    /// <summary>URI or alias to the image file, or a one-line error saying how to get it.</summary>
    public static string Resolve(ImageStore store, string uriOrAlias)
    {
        var uriPath = store.Find(uriOrAlias)
            ?? throw new KslurmException($"no pulled image called {uriOrAlias}", $"pull it first: kapp pull {uriOrAlias}");
        return ImageStore.ImageFile(uriPath)
            ?? throw new KslurmException($"{uriOrAlias} points to an image that is gone ({uriPath})", $"pull it again: kapp pull -f {uriOrAlias}");
    }
}
