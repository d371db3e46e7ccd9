using Kslurm;

return Entry.Run("kpy", args, argv =>
{
    if (ToolHelp.TryAnswer("kpy", argv, Help))
        return 0;
    if (argv.Length == 0)
        throw new UsageException("missing command", "run `kpy --help` to see the commands");
    if (argv[0].StartsWith('-'))
        throw new UsageException($"unknown option '{argv[0]}'", "run `kpy --help` to see the commands");
    throw ToolHelp.NotYet("kpy", argv[0]);
});

static string Help() => $"""
    kpy {BuildInfo.Version}: save Python virtual environments to permanent storage and load them on any node

    usage: kpy COMMAND [ARGS...]

      create [NAME] [3.X]       new venv on node-local scratch
      save [-f] NAME            archive the active venv to <pipdir>/venv_archives/NAME.tar.zst
      load [NAME] [--as NEW]    unpack a saved venv onto this node and activate it
      activate [NAME]           activate a venv already loaded on this node
      list | info NAME | rm NAME | export NAME --path DIR | bash

    """;
