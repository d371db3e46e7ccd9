using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy load NAME [--as NEW] [--all-nodes]`: a saved venv onto this node's scratch (with
/// --all-nodes onto every node of the job, in parallel), then activated.
/// </summary>
static class LoadCommand
{
    const string Usage = "usage: kpy load NAME [--as NEW] [--no-modules] [--all-nodes]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--no-modules", "--all-nodes"], options: ["--as"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        a.NoMorePositionals(1, Usage);
        var store = VenvStore.Current();
        if (a.Positionals.Count == 0)
            throw new UsageException("missing NAME", store.SavedHint());
        var label = a.Value("--as") ?? a.Positionals[0];
        // --all-nodes: where it is already, it stays as it is
        var dir = a.Has("--all-nodes") ? store.LoadOnEveryNode(a.Positionals[0], label) : store.Load(a.Positionals[0], label, reuse: false);
        return Activation.Finish(dir, label, modules: !a.Has("--no-modules"));
    }

    /// <summary>`kpy _load NAME LABEL`: one node's part of --all-nodes (no activation, nothing on stdout).</summary>
    public static int Here(string[] argv)
    {
        if (argv.Length != 2)
            throw new UsageException("usage: kpy _load NAME LABEL");
        VenvStore.Current().Load(argv[0], argv[1]);
        return 0;
    }
}
