using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// `kpy deactivate [NAME]`: unmounts a venv mounted from its image on this node (default: the
/// active one, $VIRTUAL_ENV). The shell function leaves the venv first (its `deactivate`); an
/// unpacked venv stays on scratch as it is (it may hold changes).
/// </summary>
static class DeactivateCommand
{
    const string Usage = "usage: kpy deactivate [NAME]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        a.NoMorePositionals(1, Usage);
        var store = VenvStore.Current();
        var active = Environment.GetEnvironmentVariable("VIRTUAL_ENV");
        var name = a.Positionals.Count > 0 ? a.Positionals[0]
            : active is { Length: > 0 } && Path.GetDirectoryName(active.TrimEnd('/')) == store.LiveRoot.TrimEnd('/') ? Path.GetFileName(active.TrimEnd('/'))
            : throw new UsageException("no kpy venv is active", "name the venv: kpy deactivate NAME");
        var shell = !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KSLURM_KPY_SHELL"));
        if (store.Unmount(name))
            Output.Note("kpy", $"unmounted {name}");
        else if (!shell)
            Output.Note("kpy", $"{name} is not mounted here; leave an active venv with `deactivate`");
        return 0;
    }
}
