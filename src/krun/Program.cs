using Kslurm;

return Entry.Run("krun", args, argv =>
{
    if (ToolHelp.TryAnswer("krun", argv, Help))
        return 0;
    if (argv.Length == 0)
        throw new UsageException("missing command", "run `krun --help` to see the commands");
    if (argv[0].StartsWith('-'))
        throw new UsageException($"unknown option '{argv[0]}'", "run `krun --help` to see the commands");
    throw ToolHelp.NotYet("krun", argv[0]);
});

static string Help() => $"""
    krun {BuildInfo.Version}: Slurm job with natural resource syntax

    usage: krun [RESOURCES...] [COMMAND ARGS...]

    """;
