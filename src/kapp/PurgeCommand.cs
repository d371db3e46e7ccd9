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
        var store = ImageStore.Open("kapp");
        store.Create();
        var used = store.List().Where(i => i.ImagePath is not null).Select(i => Path.GetFullPath(i.ImagePath!)).ToHashSet(StringComparer.Ordinal);
        var removed = 0;
        foreach (var image in Directory.EnumerateFiles(store.Images, "*.sif"))
        {
            if (used.Contains(Path.GetFullPath(image)))
                continue;
            // a pull holds the image's lock while it builds; those stay
            if (!store.RemoveImage(image, dry))
                continue;
            Console.WriteLine(Output.Safe(dry ? $"would remove {image}" : $"removing {image}"));
            removed++;
        }
        Output.Note("kapp", removed == 0 ? "nothing to remove" : $"{(dry ? "would remove" : "removed")} {removed} image{(removed == 1 ? "" : "s")}");
        return 0;
    }
}
