using Kslurm;
using Kslurm.Tools;

return Entry.Run("kjupyter", args, argv =>
{
    if (ToolHelp.TryAnswer("kjupyter", argv, Help))
        return 0;
    if (argv.Length == 0)
        throw new UsageException("missing command", "run `kjupyter --help` to see the commands");
    if (argv[0] == "kernel")
        return KernelCommand.Run(argv[1..]);
    if (argv[0].StartsWith('-'))
        throw new UsageException($"unknown option '{argv[0]}'", "run `kjupyter --help` to see the commands");
    throw ToolHelp.NotYet("kjupyter", argv[0]);
});

static string Help() => $"""
    kjupyter {BuildInfo.Version}: a Jupyter server in a Slurm job, and Jupyter kernels inside kslurm environments

    usage: kjupyter COMMAND [ARGS...]

      [RESOURCES] [--venv NAME] [--lab|--notebook]   start a server in a job
      list | url [JOBID] | tunnel [JOBID] | log [JOBID] [-n N] | stop [JOBID]
      kernel install|list|rm|run ...

    """;
