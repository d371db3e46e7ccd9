namespace Kslurm.Tools;

/// <summary>`kapp image list` and `kapp image rm URI|ALIAS`.</summary>
static class ImageCommand
{
    const string Usage = "usage: kapp image list | kapp image rm URI|ALIAS";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        return a.Positionals switch
        {
            ["list"] => List(),
            ["rm", var target] => Remove(target),
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

    /// <summary>Forgets the name: its uris entry and the aliases of that name only (the data stays until purge).</summary>
    static int Remove(string target)
    {
        var store = KappMain.Store();
        var uriPath = store.Find(target) ?? throw new KslurmException($"no pulled image called {target}", "see `kapp image list`");
        foreach (var (alias, points) in store.AliasList())
        {
            if (points != uriPath)
                continue;
            File.Delete(store.AliasPath(alias));
            Output.Note("kapp", $"removed alias {alias}");
        }
        File.Delete(uriPath);
        Output.Note("kapp", $"removed {store.DisplayUri(uriPath)} (its image stays until `kapp purge dangling`)");
        return 0;
    }
}
