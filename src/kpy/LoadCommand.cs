using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy load NAME [--as NEW] [--unpack] [--all-nodes]`: a saved venv onto this node's scratch (with
/// --all-nodes onto every node of the job, in parallel), then activated. A venv saved with an image
/// is mounted from it where squashfuse works, unless --unpack.
/// </summary>
static class LoadCommand
{
    const string Usage = "usage: kpy load NAME [--as NEW] [--unpack] [--no-modules] [--all-nodes]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--no-modules", "--all-nodes", "--unpack"], options: ["--as"]);
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
        var unpack = a.Has("--unpack");
        if (unpack && store.IsMountedLive(label))
            store.Unmount(label); // --unpack: a copy to change replaces the read-only mount
        var dir = a.Has("--all-nodes") ? store.LoadOnEveryNode(a.Positionals[0], label, unpack)
            : store.Load(a.Positionals[0], label, reuse: false, unpack: unpack);
        return Activation.Finish(dir, label, modules: !a.Has("--no-modules"));
    }

    /// <summary>`kpy _load NAME LABEL`: one node's part of --all-nodes (no activation, nothing on stdout).</summary>
    public static int Here(string[] argv)
    {
        if (argv.Length is not (2 or 3) || (argv.Length == 3 && argv[2] != "--unpack"))
            throw new UsageException("usage: kpy _load NAME LABEL [--unpack]");
        VenvStore.Current().Load(argv[0], argv[1], unpack: argv.Length == 3);
        return 0;
    }
}
