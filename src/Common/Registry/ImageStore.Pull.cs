using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Processes;

namespace Kslurm.Registry;

public sealed partial class ImageStore
{
    /// <summary>Below this size (bytes of layers) an image is built where kapp runs, unless told otherwise.</summary>
    public const long SmallImage = 200_000_000;

    /// <summary>
    /// `kapp pull`: resolve TYPED to a manifest digest, download its blobs once (the per-image lock
    /// makes concurrent pulls share one download; partial blobs stay, to resume), build the image
    /// file and point the names at it: the uris entry, ALIAS, Snakemake's names. Returns the image.
    /// <paramref name="build"/> runs the container runtime's build argv for an image of the given
    /// size and returns its exit code: the caller chooses where (a large image in a Slurm job).
    /// </summary>
    public string Pull(string typed, string? alias, bool force, Func<IReadOnlyList<string>, long, int> build)
    {
        var reference = ImageRef.Parse(typed);
        if (alias is not null)
            CheckAlias(alias);
        var runtime = ContainerRuntime.Find(); // fail before any download when nothing can build the image
        // SIGTERM (scancel, a time limit) and SIGHUP end a pull as Ctrl-C does: through the finally
        // blocks that remove its scratch files.
        using var signals = Interrupt.Watch();
        Create();
        if (alias is not null)
            ImageAliases.Check(this, alias, reference, force);

        var client = new RegistryClient();
        var image = client.Resolve(reference);
        var imagePath = ImagePath(image.ManifestDigest);
        if (!File.Exists(imagePath))
        {
            using var _ = LockImage(image.ManifestDigest, TimeSpan.FromHours(12), msg => Output.Note("kapp", msg));
            if (!File.Exists(imagePath)) // another pull may have finished it while we waited
                Build(client, image, runtime, imagePath, build);
        }
        Name(typed, reference, image, imagePath, alias);
        return imagePath;
    }

    void Build(RegistryClient client, ResolvedImage image, string runtime, string imagePath, Func<IReadOnlyList<string>, long, int> build)
    {
        var hex = Hex(image.ManifestDigest);
        var work = Path.Combine(Work, hex);
        Directory.CreateDirectory(work);
        Output.Note("kapp", $"downloading {image.Ref.Canonical} ({Format.Bytes(image.TotalSize)}, {image.Layers.Count} layers) ...");
        client.Download(image, Blobs, progress: msg => Output.Note("kapp", msg));
        var archive = Path.Combine(work, "image.tar");
        RegistryClient.WriteOciArchive(image, Blobs, archive);

        var temp = Path.Combine(Images, $".{hex}.sif.tmp-{Environment.ProcessId}");
        var code = build([runtime, "build", "--disable-cache", temp, "oci-archive://" + archive], image.TotalSize);
        if (code != 0 || !File.Exists(temp))
        {
            AtomicFile.TryDelete(temp);
            Interrupt.Check();
            throw new KslurmException($"building the image for {image.Ref.Canonical} failed (exit code {code})",
                $"the download is kept in {Blobs}; run the pull again to retry the build");
        }
        File.Move(temp, imagePath, overwrite: true);
        AtomicFile.SyncDirectory(Images);
        foreach (var blob in image.Layers.Append(image.Config))
            AtomicFile.TryDelete(Path.Combine(Blobs, Hex(blob.Digest)));
        try { Directory.Delete(work, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    void Name(string typed, ImageRef reference, ResolvedImage image, string imagePath, string? alias)
    {
        var uriPath = UriPath(reference);
        var before = ImageFile(uriPath);
        Link(uriPath, imagePath);
        if (before is null || Path.GetFullPath(before) != Path.GetFullPath(imagePath))
            Output.Note("kapp", $"{typed} -> {image.ManifestDigest}");
        else
            Output.Note("kapp", $"{typed} is up to date ({image.ManifestDigest})");
        if (alias is not null)
            ImageAliases.Set(this, alias, uriPath);
        foreach (var spelling in SnakemakeNames.Spellings(typed, reference))
            Link(Path.Combine(Snakemake, SnakemakeNames.FileName(spelling)), imagePath);
    }
}
