using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Registry;

namespace Kslurm.Tools;

/// <summary>`kapp purge dangling [--dry]`: images no name points at, with their Snakemake links, and stale downloads.</summary>
static class PurgeCommand
{
    const string Usage = "usage: kapp purge dangling [--dry]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-d|--dry"]);
        if (a.Positionals is not ["dangling"])
            throw new UsageException(a.Positionals.Count == 0 ? "missing 'dangling'" : $"unexpected arguments '{string.Join(' ', a.Positionals)}'", Usage);
        var dry = a.Has("--dry");
        var store = KappMain.Store();
        store.Create();
        var used = store.List().Where(i => i.ImagePath is not null).Select(i => Path.GetFullPath(i.ImagePath!)).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        foreach (var image in Directory.EnumerateFiles(store.Images, "*.sif"))
        {
            if (used.Contains(Path.GetFullPath(image)))
                continue;
            if (Remove(store, image, dry))
                removed++;
        }
        Output.Note("kapp", removed == 0 ? "nothing to remove" : $"{(dry ? "would remove" : "removed")} {removed} image{(removed == 1 ? "" : "s")}");
        return 0;
    }

    /// <summary>Deletes an image no name uses, with its Snakemake links; false while a pull holds it.</summary>
    public static bool Remove(ImageStore store, string image, bool dry = false)
    {
        // A pull holds the image's lock while it builds; leave those alone.
        using var lk = TryLock(store, Path.GetFileNameWithoutExtension(image));
        if (lk is null)
            return false;
        Console.WriteLine(Output.Safe(dry ? $"would remove {image}" : $"removing {image}"));
        if (!dry)
        {
            foreach (var link in Directory.EnumerateFileSystemEntries(store.Snakemake))
                if (ImageStore.ResolveLink(link) == Path.GetFullPath(image))
                    File.Delete(link);
            File.Delete(image);
        }
        return true;
    }

    static FileLock? TryLock(ImageStore store, string hex)
    {
        try { return FileLock.Acquire(Path.Combine(store.Locks, hex + ".lock"), TimeSpan.Zero); }
        catch (KslurmException) { return null; }
    }
}
