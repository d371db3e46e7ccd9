using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Lmod;
using Kslurm.Processes;

namespace Kslurm.Venv;

public sealed partial class VenvStore
{
    /// <summary>
    /// `krun/kbatch/kjupyter --venv NAME`: the command a job runs so that COMMAND runs inside the
    /// saved venv, `kpy exec [--no-modules] NAME -- COMMAND...`, which loads it onto the node's
    /// scratch (once per node) first. The venv is checked now, so a typo fails before the job
    /// waits in the queue. <paramref name="modules"/> false: without the Lmod modules it was saved with.
    /// <paramref name="allNodes"/>: `kpy exec --all-nodes`, for a batch script or a shell whose srun
    /// tasks may run on the job's other nodes; a krun command needs none, as each of its tasks loads
    /// onto its own node.
    /// </summary>
    public List<string> JobCommand(string name, IReadOnlyList<string> command, bool modules = true, bool allNodes = false)
    {
        Require(name);
        return ExecArgv(Paths.Sibling("kpy", Tool), name, command, modules, allNodes);
    }

    /// <summary>`KPY exec [--no-modules] [--all-nodes] NAME -- COMMAND...`: argv passes verbatim after the `--`.</summary>
    public static List<string> ExecArgv(string kpy, string name, IReadOnlyList<string> command, bool modules = true, bool allNodes = false)
        => [kpy, "exec", .. (modules ? Array.Empty<string>() : ["--no-modules"]), .. (allNodes ? ["--all-nodes"] : Array.Empty<string>()),
            VenvName.Check(name), "--", .. command];

    /// <summary>
    /// `kpy exec`: what runs COMMAND inside NAME on this node, loading the venv first if it is not
    /// here: the program (found on the venv's PATH) and the environment changes (null = unset).
    /// </summary>
    public (List<string> Argv, Dictionary<string, string?> Env) Exec(string name, IReadOnlyList<string> command, bool modules = true, bool allNodes = false)
    {
        // --all-nodes (a batch script): the tasks it starts with srun on the other nodes find it there too
        var dir = allNodes && Node.InJob ? LoadOnEveryNode(name) : Load(name);
        var bin = Path.Combine(dir, "bin");
        // The modules it was saved with first (as Lmod would set them), the venv on top.
        var env = modules ? ModuleRestore.Changes(Tool, name, ModuleRestore.Missing(VenvMeta.ReadFrom(dir)?.Modules ?? [])) : [];
        var path = env.TryGetValue("PATH", out var p) ? p : Environment.GetEnvironmentVariable("PATH");
        env["VIRTUAL_ENV"] = dir;
        env["VIRTUAL_ENV_PROMPT"] = name;
        env["PATH"] = bin + ":" + path;
        env["PYTHONHOME"] = null;
        // the shell snippet (if the command is an interactive shell) activates it properly
        env["KSLURM_KPY_ACTIVATE"] = dir;
        if (Node.InJob)
            env["PIP_NO_INDEX"] = "1"; // compute nodes: pip must not try the internet
        var program = ChildProcess.Which(command[0], env["PATH"]) ?? command[0];
        return ([program, .. command.Skip(1)], env);
    }
}
