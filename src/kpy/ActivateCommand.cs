using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>`kpy activate [NAME]`: a venv already on this node (created or loaded here).</summary>
static class ActivateCommand
{
    const string Usage = "usage: kpy activate [NAME] [--no-modules]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--no-modules"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        a.NoMorePositionals(1, Usage);
        var store = VenvStore.Current();
        var live = store.Live();
        if (a.Positionals.Count == 0)
        {
            // Listing goes to stderr: with the shell function, stdout is what gets activated.
            Console.Error.Write(live.Count == 0 ? "no venvs on this node\n" : string.Concat(live.Select(n => n + "\n")));
            return 0;
        }
        var name = VenvName.Check(a.Positionals[0]);
        if (!live.Contains(name))
        {
            var hint = store.Settings.Get("pipdir") is not null && store.Find(name) is not null
                ? $"it is saved: kpy load {name}"
                : $"create it with: kpy create {name}";
            throw new KslurmException(
                $"no venv called {name} on this node" + (live.Count > 0 ? $" (here: {string.Join(", ", live)})" : ""), hint);
        }
        return Activation.Finish(store.LivePath(name), name, modules: !a.Has("--no-modules"));
    }
}
