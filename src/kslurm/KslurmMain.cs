using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Processes;

namespace Kslurm.Tools;

/// <summary>`kslurm`: settings, and a dispatcher to the sibling tools.</summary>
static class KslurmMain
{
    static readonly string[] Tools = ["krun", "kbatch", "kjupyter", "kpy", "kapp"];

    const string Usage = "usage: kslurm config|self|completions ... | kslurm krun|kbatch|kjupyter|kpy|kapp ... | kslurm --version";

    public static int Run(string[] args)
    {
        if (args.Length == 0)
            throw new UsageException("missing command", "run `kslurm --help` to see the commands");
        if (ToolHelp.TryAnswer("kslurm", args, () => Help))
            return 0;
        switch (args[0])
        {
            case "config": return ConfigCommand.Run(args[1..]);
            case "self": return SelfCommand.Run(args[1..]);
            case "update": return SelfCommand.Update(args[1..]); // the Python kslurm's name for it
            case "completions": return CompletionsCommand.Run(args[1..]);
            case "_complete": return CompletionsCommand.Complete(args[1..]);
        }
        if (Tools.Contains(args[0]))
            return Dispatch(args[0], args[1..]);
        throw new UsageException($"unknown command '{args[0]}'", $"commands: config, self, completions, {string.Join(", ", Tools)}");
    }

    /// <summary>`kslurm krun ...` is `krun ...`: the sibling binary replaces this process.</summary>
    static int Dispatch(string tool, string[] rest)
    {
        return ChildProcess.Exec([Paths.Sibling(tool, "kslurm"), .. rest]);
    }

    static string Help => $"""
        kslurm {BuildInfo.Version}: Slurm jobs and Python environments without pain

        {Usage}

        Commands:
          config KEY [VALUE]       show or set a setting (see `kslurm config --help`)
          self update [--check]    install the latest release over this one (`update` too)
          self uninstall           remove the programs; settings, venvs and images stay
          completions SHELL        Tab completion script for bash, zsh or fish
          krun ...                 interactive job or command on a compute node
          kbatch ...               batch job
          kjupyter ...             Jupyter server in a job, and Jupyter kernels
          kpy ...                  save and load Python virtual environments
          kapp ...                 container images by digest

        Settings:
          user file   {Paths.Pretty(Paths.UserConfigFile)}
          site file   {Paths.Pretty(Paths.SiteConfigFile)}

        Environment: NO_COLOR (no colours), KSLURM_DEBUG=1 (show internal details on errors),
        KSLURM_SITE_CONFIG (site settings file), KSLURM_INSTALL_URL (release server for
        `self update`), XDG_CONFIG_HOME.

        """;
}
