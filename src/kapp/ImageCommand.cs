using Kslurm.Cli;
using Kslurm.Registry;

namespace Kslurm.Tools;

/// <summary>`kapp image list` and `kapp image rm URI|ALIAS`.</summary>
static class ImageCommand
{
    const string Usage = "usage: kapp image list | kapp image rm [-p] URI|ALIAS";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-p|--purge"]);
        return a.Positionals switch
        {
            ["list"] => List(),
            ["rm", var target] => Remove(target, a.Has("--purge")),
            [] => throw new UsageException("missing image command", Usage),
            _ => throw new UsageException($"unexpected arguments '{string.Join(' ', a.Positionals)}'", Usage),
        };
    }

    static int List()
    {
        var store = KappMain.Store();
        var images = store.List();
        if (images.Count == 0)
        {
            Output.Note("kapp", $"no images in {store.Root}");
            return 0;
        }
        var rows = new List<string[]> { new[] { "URI", "DIGEST", "SIZE", "AGE" } };
        foreach (var i in images)
            rows.Add([i.Uri, i.Digest is { } d ? d[..Math.Min(d.Length, 19)] : "(none)", i.ImagePath is null ? "(missing)" : Format.Bytes(i.Size), Age(i.Pulled)]);
        Console.Write(Format.Table(rows));
        return 0;
    }

    static string Age(DateTime when)
    {
        var d = DateTime.UtcNow - when;
        return d.TotalDays >= 1 ? $"{(int)d.TotalDays}d" : d.TotalHours >= 1 ? $"{(int)d.TotalHours}h" : $"{Math.Max(0, (int)d.TotalMinutes)}m";
    }

    /// <summary>
    /// Forgets the name: its uris entry and the aliases of that name only. The data stays until
    /// `purge dangling`, or goes now with -p (kslurm's --purge) when no other name uses it.
    /// </summary>
    static int Remove(string target, bool purge)
    {
        var store = KappMain.Store();
        var uriPath = store.Find(target) ?? throw new KslurmException($"no pulled image called {target}", "see `kapp image list`");
        var image = ImageStore.ImageFile(uriPath);
        foreach (var (alias, points) in store.AliasList())
        {
            if (points != uriPath)
                continue;
            File.Delete(store.AliasPath(alias));
            Output.Note("kapp", $"removed alias {alias}");
        }
        File.Delete(uriPath);
        if (!purge)
        {
            Output.Note("kapp", $"removed {store.DisplayUri(uriPath)} (its image stays until `kapp purge dangling`)");
            return 0;
        }
        Output.Note("kapp", $"removed {store.DisplayUri(uriPath)}");
        var inStore = image is not null && Path.GetDirectoryName(Path.GetFullPath(image)) == Path.GetFullPath(store.Images);
        if (inStore && store.List().Any(i => i.ImagePath is { } p && Path.GetFullPath(p) == Path.GetFullPath(image!)))
            Output.Note("kapp", "its image stays: other names use it");
        else if (inStore && !PurgeCommand.Remove(store, image!))
            Output.Note("kapp", "its image stays: a pull is using it");
        return 0;
    }
}
