using Kslurm;

return Entry.Run("kapp", args, argv =>
{
    if (ToolHelp.TryAnswer("kapp", argv, Help))
        return 0;
    if (argv.Length == 0)
        throw new UsageException("missing command", "run `kapp --help` to see the commands");
    if (argv[0] == "_resolve")
        return Resolve(argv[1..]);
    if (argv[0].StartsWith('-'))
        throw new UsageException($"unknown option '{argv[0]}'", "run `kapp --help` to see the commands");
    throw ToolHelp.NotYet("kapp", argv[0]);
});

// Hidden, for developers until `kapp pull` lands: `kapp _resolve URI [OUT.tar]` prints the manifest
// digest; with OUT.tar it also downloads the blobs (OUT.tar.blobs/) and writes an OCI archive.
static int Resolve(string[] args)
{
    if (args.Length is < 1 or > 2)
        throw new UsageException("usage: kapp _resolve URI [OUT.tar]");
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

static string Help() => $"""
    kapp {BuildInfo.Version}: container images pulled by digest into a managed store

    usage: kapp COMMAND [ARGS...]

      pull URI [-a ALIAS] [-f] [--mem M] [--time T]
      path URI|ALIAS            print the image file of a pulled image
      image list | image rm URI|ALIAS | alias list | alias rm ALIAS | purge dangling [--dry]
      run|shell|exec URI|ALIAS [ARGS...]
      snakemake

    """;
