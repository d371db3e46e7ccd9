using Kslurm.Config;
using Kslurm.Files;

namespace Kslurm.Registry;

/// <summary>One pulled image as the store lists it.</summary>
public sealed record StoredImage(string Uri, string UriPath, string? Digest, string? ImagePath, long Size, DateTime Pulled);

/// <summary>
/// The image store under `<pipdir>/containers/`, in the Python kslurm's layout:
/// `images/<manifest digest hex>.sif` (the data, one file per image), `uris/docker/<...>/<tag>.sif`
/// (a relative link per pulled name, so the tree can move), `aliases/<name>` (links to uris entries),
/// `snakemake/<md5>.simg` (links under the names Snakemake's --singularity-prefix looks for), plus
/// `blobs/`, `work/` and `locks/` for pulls in progress. Reading it never touches the network.
/// </summary>
public sealed partial class ImageStore
{
    public ImageStore(string pipdir)
    {
        Root = Path.Combine(pipdir, "containers");
    }

    /// <summary>The store of this user's (or lab's) pipdir, from the settings; the one "pipdir is not set" error otherwise.</summary>
    public static ImageStore Open(string tool) => Open(Settings.Load(tool));

    public static ImageStore Open(Settings settings) => new(settings.Pipdir);

    /// <summary>The uris entry of a pulled URI or alias, or the one error for a name not pulled (no network).</summary>
    public string Require(string uriOrAlias)
        => Find(uriOrAlias) ?? throw new KslurmException($"no pulled image called {uriOrAlias}",
            $"pull it first: kapp pull {uriOrAlias} (`kapp image list` shows what is pulled)");

    /// <summary>The image file a pulled URI or alias stands for, or a one-line error saying how to get it.</summary>
    public string Resolve(string uriOrAlias)
    {
        var uriPath = Require(uriOrAlias);
        return ImageFile(uriPath)
            ?? throw new KslurmException($"{uriOrAlias} points to an image that is gone ({uriPath})", $"pull it again: kapp pull -f {uriOrAlias}");
    }

    /// <summary>
    /// The lock of one image (by manifest digest): a pull holds it while it downloads and builds,
    /// so concurrent pulls share one download and a purge never deletes an image being built.
    /// </summary>
    public FileLock LockImage(string digest, TimeSpan wait, Action<string>? onWait = null)
        => FileLock.Acquire(Path.Combine(Locks, Hex(digest) + ".lock"), wait, onWait);

    /// <summary>The image's lock if nobody holds it now, else null.</summary>
    public FileLock? TryLockImage(string digest)
    {
        try { return LockImage(digest, TimeSpan.Zero); }
        catch (KslurmException) { return null; }
    }

    /// <summary>
    /// Deletes an image file of the store, with its Snakemake links, unless a pull holds its lock
    /// (then false). <paramref name="dry"/>: only says whether it could.
    /// </summary>
    public bool RemoveImage(string image, bool dry = false)
    {
        using var held = TryLockImage(Path.GetFileNameWithoutExtension(image));
        if (held is null)
            return false;
        if (!dry)
        {
            foreach (var link in Directory.EnumerateFileSystemEntries(Snakemake))
                if (ResolveLink(link) == Path.GetFullPath(image))
                    File.Delete(link);
            File.Delete(image);
        }
        return true;
    }

    public string Root { get; }
    public string Images => Path.Combine(Root, "images");
    public string Uris => Path.Combine(Root, "uris");
    public string Aliases => Path.Combine(Root, "aliases");
    public string Snakemake => Path.Combine(Root, "snakemake");
    public string Blobs => Path.Combine(Root, "blobs");
    public string Work => Path.Combine(Root, "work");
    public string Locks => Path.Combine(Root, "locks");

    public void Create()
    {
        foreach (var d in new[] { Images, Uris, Aliases, Snakemake, Blobs, Work, Locks })
            Directory.CreateDirectory(d);
    }

    public static string Hex(string digest) => digest.StartsWith("sha256:", StringComparison.Ordinal) ? digest[7..] : digest;

    public string ImagePath(string manifestDigest) => Path.Combine(Images, Hex(manifestDigest) + ".sif");

    /// <summary>
    /// uris/docker/ORG/REPO/TAG.sif for Docker Hub (as the Python kslurm wrote them), and
    /// uris/docker/REGISTRY/PATH/TAG.sif for other registries; a digest reference is stored as
    /// `@sha256:HEX.sif` (a tag can never start with '@').
    /// </summary>
    public string UriPath(ImageRef r)
    {
        var parts = new List<string> { Uris, "docker" };
        if (!r.IsDockerHub)
            parts.Add(r.Registry.Replace(':', '_')); // host:port -> host_port, a valid folder name everywhere
        parts.AddRange(r.Repository.Split('/'));
        parts.Add((r.Tag is { } tag ? tag : "@" + r.Digest) + ".sif");
        return Path.Combine([.. parts]);
    }

    public string AliasPath(string alias) => Path.Combine(Aliases, CheckAlias(alias));

    public static string CheckAlias(string alias)
    {
        if (alias.Length is 0 or > 100 || alias[0] is '.' or '-' || !alias.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.'))
            throw new UsageException($"invalid alias '{alias}'", "use letters, digits, '_', '-' and '.', not starting with '.' or '-'");
        return alias;
    }

    /// <summary>The uris entry a name or alias stands for, when it has been pulled; no network.</summary>
    public string? Find(string uriOrAlias)
    {
        if (IsAliasShaped(uriOrAlias) && ResolveLink(Path.Combine(Aliases, uriOrAlias)) is { } target)
            return Path.Exists(target) ? target : null;
        var path = UriPath(ImageRef.Parse(uriOrAlias));
        return Path.Exists(path) ? path : null;
    }

    static bool IsAliasShaped(string s) => s.Length > 0 && s[0] is not ('.' or '-') && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.');

    /// <summary>The image file behind a uris entry (following the store's links).</summary>
    public static string? ImageFile(string uriPath)
    {
        try
        {
            var info = new FileInfo(uriPath);
            if (info.LinkTarget is null)
                return info.Exists ? uriPath : null; // a raw file (the Python kslurm without a digest)
            var target = info.ResolveLinkTarget(returnFinalTarget: true);
            return target is { Exists: true } ? target.FullName : null;
        }
        catch (IOException) { return null; }
    }

    /// <summary>Absolute target of a link (relative targets resolved against its folder).</summary>
    public static string? ResolveLink(string link)
    {
        if (!Path.Exists(Path.GetDirectoryName(link)))
            return null;
        var target = new FileInfo(link).LinkTarget;
        return target is null ? null : Path.GetFullPath(Path.Combine(Path.GetDirectoryName(link)!, target));
    }

    /// <summary>Points `link` at `target` with a relative link, replacing whatever was there atomically.</summary>
    public static void Link(string link, string target)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        var relative = Path.GetRelativePath(Path.GetDirectoryName(link)!, target);
        var temp = AtomicFile.TempBeside(link);
        File.CreateSymbolicLink(temp, relative);
        File.Move(temp, link, overwrite: true);
    }

    /// <summary>Every pulled name, with its image.</summary>
    public IReadOnlyList<StoredImage> List()
    {
        var result = new List<StoredImage>();
        if (!Directory.Exists(Uris))
            return result;
        foreach (var path in Directory.EnumerateFiles(Uris, "*.sif", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            var image = ImageFile(path);
            var info = image is null ? null : new FileInfo(image);
            var digest = image is not null && Path.GetDirectoryName(image) == Images ? "sha256:" + Path.GetFileNameWithoutExtension(image) : null;
            result.Add(new StoredImage(DisplayUri(path), path, digest, image, info?.Length ?? 0,
                info?.LastWriteTimeUtc ?? File.GetLastWriteTimeUtc(path)));
        }
        return [.. result.OrderBy(r => r.Uri, StringComparer.Ordinal)];
    }

    /// <summary>A uris path back as a name: docker://ubuntu:22.04, docker://ghcr.io/org/img:1.</summary>
    public string DisplayUri(string uriPath)
    {
        var rel = Path.GetRelativePath(Path.Combine(Uris, "docker"), uriPath).Split('/');
        var leaf = rel[^1][..^4]; // without .sif
        var repoParts = rel[..^1].ToList();
        var host = repoParts.Count > 0 && (repoParts[0].Contains('.') || repoParts[0].Contains('_') || repoParts[0] == "localhost")
            ? repoParts[0].Replace('_', ':') : null;
        if (host is not null)
            repoParts.RemoveAt(0);
        if (host is null && repoParts.Count == 2 && repoParts[0] == "library")
            repoParts.RemoveAt(0);
        var name = string.Join('/', host is null ? repoParts : [host, .. repoParts]);
        return leaf.StartsWith('@') ? $"docker://{name}{leaf}" : $"docker://{name}:{leaf}";
    }

    /// <summary>Aliases and the uris entry each points at.</summary>
    public IReadOnlyList<(string Alias, string? UriPath)> AliasList()
        => Directory.Exists(Aliases)
            ? [.. Directory.EnumerateFileSystemEntries(Aliases).Select(a => (Path.GetFileName(a)!, ResolveLink(a))).OrderBy(a => a.Item1, StringComparer.Ordinal)]
            : [];
}
