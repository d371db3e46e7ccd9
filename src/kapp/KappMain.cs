using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Registry;

namespace Kslurm.Tools;

/// <summary>kapp: container images pulled by digest into a store in permanent storage, run with Apptainer.</summary>
static class KappMain
{
    public static int Run(string[] argv)
    {
        if (ToolHelp.TryAnswer("kapp", argv, () => Help))
            return 0;
        if (argv.Length == 0)
            throw new UsageException("missing command", "run `kapp --help` to see the commands");
        var rest = argv[1..];
        return argv[0] switch
        {
            "pull" => PullCommand.Run(rest),
            "path" => PathCommand.Run(rest),
            "image" => ImageCommand.Run(rest),
            "alias" => AliasCommand.Run(rest),
            "purge" => PurgeCommand.Run(rest),
            "run" or "shell" or "exec" => RunCommand.Run(argv[0], rest),
            "snakemake" => SnakemakeDir(rest),
            "_resolve" => ResolveCommand.Run(rest),
            var other when other.StartsWith('-') => throw new UsageException($"unknown option '{other}'", "run `kapp --help` to see the commands"),
            var other => throw new UsageException($"unknown command '{other}'",
                "commands: pull, path, image list|rm, alias list|rm, purge dangling, run, shell, exec, snakemake"),
        };
    }

    /// <summary>The store of this user's (or lab's) pipdir.</summary>
    internal static ImageStore Store()
    {
        var pipdir = Settings.Load("kapp").Get("pipdir")
            ?? throw new KslurmException("pipdir is not set: kapp keeps images under <pipdir>/containers",
                "set it with: kslurm config pipdir DIR (project or permanent storage)");
        return new ImageStore(pipdir);
    }

    static int SnakemakeDir(string[] rest)
    {
        if (rest.Length > 0)
            throw new UsageException($"unexpected argument '{rest[0]}'", "usage: kapp snakemake");
        var store = Store();
        store.Create();
        Console.WriteLine(store.Snakemake);
        return 0;
    }

    internal static string Help => $"""
        kapp {BuildInfo.Version}: container images pulled by digest into a managed store

        usage: kapp COMMAND [ARGS...]

          pull URI [-a ALIAS] [-f] [--mem M] [--time T]   resolve URI to a digest, download, build the image
          path [-q] URI|ALIAS            the image file (no network: only what was pulled); -q: no error text
          image list                     pulled names: uri, digest, size, age
          image rm [-p] URI|ALIAS        forget a name (and its aliases); -p: its image too, if unused
          alias list | alias rm ALIAS
          purge dangling [--dry]         delete images no name points to any more
          run|shell|exec URI|ALIAS [ARGS...]   run the image with apptainer (its exit code is kapp's)
          snakemake                      the folder to give Snakemake as --singularity-prefix

        URIs: [docker://][REGISTRY[:PORT]/][ORG/]REPO[:TAG|@sha256:DIGEST] — Docker Hub by default
        (ubuntu:22.04 = docker.io/library/ubuntu:22.04), or any registry (ghcr.io, quay.io, a site's).
        Images live in <pipdir>/containers/images/<manifest digest>.sif: two tags of one image are
        stored once, and a tag that moved is pulled again. Images over 200 MB (or with --mem/--time)
        are built in a Slurm job with memory min(64 GB, 20 x size).

        """;
}
