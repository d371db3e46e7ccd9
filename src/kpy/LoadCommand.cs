using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>`kpy load NAME [--as NEW]`: a saved venv onto this node's scratch, then activated.</summary>
static class LoadCommand
{
    const string Usage = "usage: kpy load NAME [--as NEW] [--no-modules]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--no-modules"], options: ["--as"]);
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
        var dir = store.Load(a.Positionals[0], label, reuse: false);
        return Activation.Finish(dir, label, modules: !a.Has("--no-modules"));
    }
}
