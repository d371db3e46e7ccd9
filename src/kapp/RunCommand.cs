using Kslurm.Processes;
using Kslurm.Registry;

namespace Kslurm.Tools;

/// <summary>
/// `kapp run|shell|exec URI|ALIAS [ARGS...]`: apptainer replaces kapp (exec), so the container's
/// exit code and signals are the caller's. Everything after the image, -h included, is the container's.
/// </summary>
static class RunCommand
{
    public static int Run(string verb, string[] argv)
    {
        if (argv.Length == 0)
            throw new UsageException("missing URI or ALIAS", $"usage: kapp {verb} URI|ALIAS [ARGS...]");
        if (argv[0] is "-h" or "--help")
        {
            Console.Write($"usage: kapp {verb} URI|ALIAS [ARGS...]\n");
            return 0;
        }
        var image = PathCommand.Resolve(KappMain.Store(), argv[0]);
        return ChildProcess.Exec([ContainerRuntime.Find(), verb, image, .. argv[1..]]);
    }
}
