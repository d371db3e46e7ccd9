using Kslurm;

return Entry.Run("kbatch", args, argv =>
{
    if (ToolHelp.TryAnswer("kbatch", argv, Help))
        return 0;
    if (argv.Length == 0)
        throw new UsageException("missing command", "run `kbatch --help` to see the commands");
    if (argv[0].StartsWith('-'))
        throw new UsageException($"unknown option '{argv[0]}'", "run `kbatch --help` to see the commands");
    throw ToolHelp.NotYet("kbatch", argv[0]);
});

static string Help() => $"""
    kbatch {BuildInfo.Version}: Slurm job with natural resource syntax

    usage: kbatch [RESOURCES...] [COMMAND ARGS...]

    """;
