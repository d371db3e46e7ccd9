using Kslurm.Cli;

namespace Kslurm.Registry;

/// <summary>Alias rules (the Python kslurm's, with its "already set" comparison fixed).</summary>
public static class ImageAliases
{
    /// <summary>Before pulling: may ALIAS point at this image?</summary>
    public static void Check(ImageStore store, string alias, ImageRef reference, bool force)
    {
        var path = store.AliasPath(alias);
        var info = new FileInfo(path);
        if (info.LinkTarget is null)
        {
            if (Path.Exists(path))
                throw new KslurmException($"a file is in the way of alias {alias} ({path})", "move or remove it by hand");
            return;
        }
        var current = ImageStore.ResolveLink(path)!;
        if (!current.StartsWith(store.Uris + "/", StringComparison.Ordinal))
            throw new KslurmException($"alias {alias} ({path}) does not point into the image store", "move or remove it by hand");
        var target = store.UriPath(reference);
        // Without -f an alias may follow its image to another tag, not jump to another image.
        var sameRepository = Path.GetDirectoryName(current) == Path.GetDirectoryName(target);
        if (!sameRepository && !force)
            throw new KslurmException($"alias {alias} points to {store.DisplayUri(current)}",
                $"to point it at {reference.Original} instead, run the pull again with -f");
    }

    public static void Set(ImageStore store, string alias, string uriPath)
    {
        var path = store.AliasPath(alias);
        var current = ImageStore.ResolveLink(path);
        if (current == uriPath)
            return;
        ImageStore.Link(path, uriPath);
        Output.Note("kapp", current is null
            ? $"alias {alias} -> {store.DisplayUri(uriPath)}"
            : $"alias {alias} moved from {store.DisplayUri(current)} to {store.DisplayUri(uriPath)}");
    }
}
