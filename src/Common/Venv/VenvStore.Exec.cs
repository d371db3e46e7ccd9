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
    /// </summary>
    public List<string> JobCommand(string name, IReadOnlyList<string> command, bool modules = true)
    {
        Require(name);
        return ExecArgv(Paths.Sibling("kpy", Tool), name, command, modules);
    }

    /// <summary>`KPY exec [--no-modules] NAME -- COMMAND...`: argv passes verbatim after the `--`.</summary>
    public static List<string> ExecArgv(string kpy, string name, IReadOnlyList<string> command, bool modules = true)
        => [kpy, "exec", .. (modules ? Array.Empty<string>() : ["--no-modules"]), VenvName.Check(name), "--", .. command];

    /// <summary>
    /// `kpy exec`: what runs COMMAND inside NAME on this node, loading the venv first if it is not
    /// here: the program (found on the venv's PATH) and the environment changes (null = unset).
    /// </summary>
    public (List<string> Argv, Dictionary<string, string?> Env) Exec(string name, IReadOnlyList<string> command, bool modules = true)
    {
        var dir = Load(name);
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
        var program = command[0].Contains('/') ? command[0] : ChildProcess.Which(command[0], env["PATH"]!) ?? command[0];
        return ([program, .. command.Skip(1)], env);
    }
}
