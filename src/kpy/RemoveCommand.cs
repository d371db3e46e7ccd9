using Kslurm.Cli;
using Kslurm.Files;

namespace Kslurm.Tools;

/// <summary>`kpy rm NAME`: delete a saved venv (under its lock, so a save in progress finishes first).</summary>
static class RemoveCommand
{
    const string Usage = "usage: kpy rm NAME";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        var (store, saved) = LoadCommand.SavedArgument(a.Positionals, Usage);
        var name = saved.Name;
        using var _ = FileLock.Acquire(Path.Combine(store.ArchiveDir, $".{name}.lock"), TimeSpan.FromMinutes(30), m => Output.Note("kpy", m));
        File.Delete(saved.Path);
        AtomicFile.SyncDirectory(store.ArchiveDir);
        Output.Note("kpy", $"removed {saved.Path}");
        return 0;
    }
}
