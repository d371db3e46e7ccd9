using Kslurm.Processes;
using Kslurm.Registry;

namespace Kslurm.Tools;

/// <summary>
/// Hidden developer command: `kapp _resolve URI [OUT.tar]` prints the canonical name, manifest
/// digest and size; with OUT.tar it also downloads the blobs (OUT.tar.blobs/) and writes the OCI
/// archive that `kapp pull` builds from. The registry tests drive the client through it.
/// </summary>
static class ResolveCommand
{
    public static int Run(string[] args)
    {
        if (args.Length is < 1 or > 2)
            throw new UsageException("usage: kapp _resolve URI [OUT.tar]");
        using var signals = Interrupt.Watch(); // as kapp pull: SIGTERM removes the scratch on the way out
        var client = new RegistryClient();
        var image = client.Resolve(ImageRef.Parse(args[0]));
        Console.WriteLine($"{image.Ref.Canonical} {image.ManifestDigest} {image.TotalSize}");
        if (args.Length == 2)
        {
            var blobs = args[1] + ".blobs";
            client.Download(image, blobs, progress: line => Console.Error.WriteLine("kapp: " + line));
            RegistryClient.WriteOciArchive(image, blobs, args[1]);
        }
        return 0;
    }
}
