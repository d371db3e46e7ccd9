using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Processes;
using Kslurm.Registry;
using Kslurm.Shell;
using Kslurm.Slurm;

namespace Kslurm.Tools;

/// <summary>
/// `kapp pull URI [-a ALIAS] [-f] [--mem M] [--time T]`: resolve to a manifest digest, download
/// the blobs once (a per-image lock makes concurrent pulls share one download), build the SIF
/// (here when small, in a Slurm job when large), then point the names at it.
/// </summary>
static class PullCommand
{
    const string Usage = "usage: kapp pull URI [-a ALIAS] [-f] [--mem M] [--time T]";
    const long SmallImage = 200_000_000;

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-f|--force"], options: ["-a|--alias", "--mem", "--time"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        if (a.Positionals.Count != 1)
            throw new UsageException(a.Positionals.Count == 0 ? "missing URI" : $"unexpected argument '{a.Positionals[1]}'", Usage);
        var typed = a.Positionals[0];
        var reference = ImageRef.Parse(typed);
        var alias = a.Value("--alias") is { } al ? ImageStore.CheckAlias(al) : null;
        long? memMB = a.Value("--mem") is { } m ? ResourceTokens.MemoryMB(m) ?? Number(m, "--mem", "a memory size such as 16G") : null;
        int? minutes = a.Value("--time") is { } t ? ResourceTokens.Time(t) ?? (int?)Number(t, "--time", "hours, or [D-]H:MM") * 60 : null;
        var runtime = ContainerRuntime.Find(); // fail before any download when nothing can build the image
        // SIGTERM (scancel, a time limit) and SIGHUP end a pull as Ctrl-C does: through the finally
        // blocks that remove its scratch files. Partial blobs stay, to resume.
        using var signals = Interrupt.Watch();

        var store = KappMain.Store();
        store.Create();
        if (alias is not null)
            Aliases.Check(store, alias, reference, a.Has("--force"));

        var client = new RegistryClient();
        var image = client.Resolve(reference);
        var imagePath = store.ImagePath(image.ManifestDigest);
        if (!File.Exists(imagePath))
        {
            using var _ = FileLock.Acquire(Path.Combine(store.Locks, ImageStore.Hex(image.ManifestDigest) + ".lock"),
                TimeSpan.FromHours(12), msg => Output.Note("kapp", msg));
            if (!File.Exists(imagePath)) // another pull may have finished it while we waited
                Build(store, client, image, runtime, imagePath, memMB, minutes);
        }
        Names(store, typed, reference, image, imagePath, alias);
        return 0;
    }

    static long Number(string text, string option, string forms)
        => long.TryParse(text, out var n) && n > 0 ? n : throw new UsageException($"invalid {option} '{text}'", $"{option} takes {forms}");

    static void Build(ImageStore store, RegistryClient client, ResolvedImage image, string runtime, string imagePath, long? memMB, int? minutes)
    {
        var hex = ImageStore.Hex(image.ManifestDigest);
        var work = Path.Combine(store.Work, hex);
        Directory.CreateDirectory(work);
        var size = image.TotalSize;
        Output.Note("kapp", $"downloading {image.Ref.Canonical} ({Format.Bytes(size)}, {image.Layers.Count} layers) ...");
        client.Download(image, store.Blobs, progress: msg => Output.Note("kapp", msg));
        var archive = Path.Combine(work, "image.tar");
        RegistryClient.WriteOciArchive(image, store.Blobs, archive);

        var temp = Path.Combine(store.Images, $".{hex}.sif.tmp-{Environment.ProcessId}");
        string[] build = [runtime, "build", "--disable-cache", temp, "oci-archive://" + archive];
        int code;
        if (size < SmallImage && memMB is null && minutes is null)
        {
            Output.Note("kapp", $"building {Path.GetFileName(imagePath)} here ...");
            code = ChildProcess.Run(build, stdoutToStderr: true);
        }
        else
        {
            // Large images need memory a login node does not give: build in a job, through krun.
            var mem = memMB ?? Math.Min(64_000, Math.Max(1, size / 1_000_000) * 20);
            var time = minutes ?? 60;
            var krun = Paths.Sibling("krun", "kapp");
            string[] job = [krun, ResourceTokens.FormatTime(time)[..^3], $"{mem}M", "--job-name=kapp-build", "--", .. build];
            Output.Note("kapp", $"building in a Slurm job ({mem} MB, {ResourceTokens.FormatTime(time)}): {ShellQuote.Join(job)}");
            code = ChildProcess.Run(job, stdoutToStderr: true);
        }
        if (code != 0 || !File.Exists(temp))
        {
            AtomicFile.TryDelete(temp);
            Interrupt.Check();
            throw new KslurmException($"building the image for {image.Ref.Canonical} failed (exit code {code})",
                $"the download is kept in {store.Blobs}; run the pull again to retry the build");
        }
        File.Move(temp, imagePath, overwrite: true);
        AtomicFile.SyncDirectory(store.Images);
        foreach (var blob in image.Layers.Append(image.Config))
            AtomicFile.TryDelete(Path.Combine(store.Blobs, ImageStore.Hex(blob.Digest)));
        CreateCommandCleanup(work);
    }

    static void CreateCommandCleanup(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    /// <summary>The uris entry, the alias and the Snakemake links, pointing at the image.</summary>
    static void Names(ImageStore store, string typed, ImageRef reference, ResolvedImage image, string imagePath, string? alias)
    {
        var uriPath = store.UriPath(reference);
        var before = ImageStore.ImageFile(uriPath);
        ImageStore.Link(uriPath, imagePath);
        if (before is null || Path.GetFullPath(before) != Path.GetFullPath(imagePath))
            Output.Note("kapp", $"{typed} -> {image.ManifestDigest}");
        else
            Output.Note("kapp", $"{typed} is up to date ({image.ManifestDigest})");
        if (alias is not null)
            Aliases.Set(store, alias, uriPath);
        foreach (var spelling in SnakemakeNames.Spellings(typed, reference))
            ImageStore.Link(Path.Combine(store.Snakemake, SnakemakeNames.FileName(spelling)), imagePath);
        Console.Out.Write(imagePath + "\n");
    }
}
