using Kslurm.Lmod;
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
        var store = VenvStore.Current();
        var dir = store.LivePath(name);
        // --all-nodes (a batch script): the tasks it starts with srun on the other nodes find it there too
        if (allNodes && store.Node.InJob)
            LoadCommand.OnEveryNode(store, name, name);
        else if (!Directory.Exists(dir))
            dir = LoadCommand.LoadInto(store, name, name);
        var bin = Path.Combine(dir, "bin");
        // The modules it was saved with first (as Lmod would set them), the venv on top.
        var env = noModules ? [] : ModuleRestore.Changes("kpy", name, ModuleRestore.Missing(VenvMeta.ReadFrom(dir)?.Modules ?? []));
        var path = env.TryGetValue("PATH", out var p) ? p : Environment.GetEnvironmentVariable("PATH");
        env["VIRTUAL_ENV"] = dir;
        env["VIRTUAL_ENV_PROMPT"] = name;
        env["PATH"] = bin + ":" + path;
        env["PYTHONHOME"] = null;
        // the shell snippet (if the command is an interactive shell) activates it properly
        env["KSLURM_KPY_ACTIVATE"] = dir;
        if (store.Node.InJob)
            env["PIP_NO_INDEX"] = "1"; // compute nodes: pip must not try the internet
        var program = ChildProcess.Which(command[0], env["PATH"]) ?? command[0];
        return ChildProcess.Exec([program, .. command[1..]], env);
    }
}
