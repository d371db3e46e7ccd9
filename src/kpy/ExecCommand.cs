using Kslurm.Cli;
using Kslurm.Processes;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy exec NAME [--] COMMAND...`: run a command inside a saved venv on this node, loading it
/// first if it is not here yet. This is what `krun/kbatch --venv NAME` put in front of the
/// user's command; argv reaches the command untouched.
/// </summary>
static class ExecCommand
{
    const string Usage = "usage: kpy exec [--no-modules] [--all-nodes] NAME [--] COMMAND [ARGS...]";

    public static int Run(string[] argv)
    {
        // Options only before the command: everything from COMMAND on is the user's.
        bool noModules = false, allNodes = false;
        for (; argv.Length > 0 && argv[0] is "--no-modules" or "--all-nodes"; argv = argv[1..])
        {
            noModules |= argv[0] == "--no-modules";
            allNodes |= argv[0] == "--all-nodes";
        }
        if (argv.Length == 0 || argv[0] is "-h" or "--help")
        {
            if (argv.Length == 0)
                throw new UsageException("missing NAME", Usage);
            Console.Write(Usage + "\n");
            return 0;
        }
        var name = VenvName.Check(argv[0]);
        var rest = argv[1..];
        if (rest.Length > 0 && rest[0] == "--no-modules")
        {
            noModules = true;
            rest = rest[1..];
        }
        var command = rest.SkipWhile((a, i) => i == 0 && a == "--").ToArray();
        if (command.Length == 0)
            throw new UsageException("missing COMMAND", Usage);
        var (program, env) = VenvStore.Current().Exec(name, command, modules: !noModules, allNodes: allNodes);
        return ChildProcess.Exec(program, env);
    }
}
