using Kslurm;

return Entry.Run("kapp", args, argv =>
{
    if (ToolHelp.TryAnswer("kapp", argv, Help))
        return 0;
    if (argv.Length == 0)
        throw new UsageException("missing command", "run `kapp --help` to see the commands");
    if (argv[0].StartsWith('-'))
        throw new UsageException($"unknown option '{argv[0]}'", "run `kapp --help` to see the commands");
    throw ToolHelp.NotYet("kapp", argv[0]);
});

static string Help() => $"""
    kapp {BuildInfo.Version}: container images pulled by digest into a managed store

    usage: kapp COMMAND [ARGS...]

      pull URI [-a ALIAS] [-f] [--mem M] [--time T]
      path URI|ALIAS            print the image file of a pulled image
      image list | image rm URI|ALIAS | alias list | alias rm ALIAS | purge dangling [--dry]
      run|shell|exec URI|ALIAS [ARGS...]
      snakemake

    """;
