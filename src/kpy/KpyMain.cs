using Kslurm.Cli;

namespace Kslurm.Tools;

/// <summary>kpy: build a venv once, save it to permanent storage, load it onto any node's scratch.</summary>
static class KpyMain
{
    public static int Run(string[] argv)
    {
        if (ToolHelp.TryAnswer("kpy", argv, () => Help))
            return 0;
        if (argv.Length == 0)
            throw new UsageException("missing command", "run `kpy --help` to see the commands");
        var rest = argv[1..];
        return argv[0] switch
        {
            "create" => CreateCommand.Run(rest),
            "save" => SaveCommand.Run(rest),
            "load" => LoadCommand.Run(rest),
            "activate" => ActivateCommand.Run(rest),
            "list" => ListCommand.Run(rest),
            "info" => InfoCommand.Run(rest),
            "rm" => RemoveCommand.Run(rest),
            "deactivate" => DeactivateCommand.Run(rest),
            "export" => ExportCommand.Run(rest),
            "exec" => ExecCommand.Run(rest),
            "freeze" => FreezeCommand.Run(rest),
            "wheels" => WheelsCommand.Run(rest),
            "bash" or "zsh" => ShellInit.PrintLine(argv[0], rest),
            "init" => ShellInit.Print(rest),
            "_prompt" => PromptCommand.Run(rest),
            "_load" => LoadCommand.Here(rest),
            var other when other.StartsWith('-') => throw new UsageException($"unknown option '{other}'", "run `kpy --help` to see the commands"),
            var other => throw new UsageException($"unknown command '{other}'",
                "commands: create, save, load, activate, deactivate, list, info, rm, export, exec, freeze, wheels, bash, zsh"),
        };
    }

    internal static string Help => $"""
        kpy {BuildInfo.Version}: save Python virtual environments to permanent storage and load them on any node

        usage: kpy COMMAND [ARGS...]

          create [NAME] [3.X]          new venv on this node's scratch (python3.X, else python3)
            [-r FILE] [--save]         ... with a requirements.txt/pyproject.toml from the wheelhouses, then saved
          save [-f] [NAME]             archive the active venv to <pipdir>/venv_archives/NAME.tar.zst
            [--image]                  ... and a SquashFS image beside it (NAME.sqfs), which loads mount
          load NAME [--as NEW]         unpack a saved venv onto this node's scratch and activate it
                                       (a venv saved with --image is mounted read-only where squashfuse works)
            [--unpack]                 ... unpacked even when it has an image (a venv to change)
            [--all-nodes]              ... onto every node of the job at once (one loader per node)
          activate [NAME]              activate a venv already on this node (no NAME: list them)
          deactivate [NAME]            leave the active venv; a mounted one is unmounted
          list                         saved venvs: name, size, date, Python, modules
          info NAME                    everything recorded about a saved venv
          rm NAME                      delete a saved venv (and its image)
          export NAME [--path DIR]     unpack a saved venv into DIR (default ./NAME), working there
          exec NAME [--] COMMAND...    run a command in a saved venv, loading it onto this node if needed
            [--all-nodes]              ... loading it onto every node of the job first (kbatch --venv)
          freeze NAME [--exact]        its packages as requirements that install anywhere (name~=X.Y.Z)
          wheels [PATTERN...] [--json] wheels pip can install here without an index, and which fit this Python
          bash | zsh                   print the line to add to ~/.bashrc / ~/.zshrc

        load, activate and exec first load the Lmod modules the venv was created with (those not
        loaded yet, in order); --no-modules skips that.
        Venvs live in $SLURM_TMPDIR/kpy/NAME inside a job, else in $TMPDIR/kpy-$USER/NAME.
        With the shell line installed, load/activate/create activate in your current shell, `pip`
        adds --no-index inside jobs and uses <pipdir>/wheels, and the prompt shows *NAME when the
        venv changed since it was saved. Without it, kpy opens a subshell (`deactivate` leaves it).

        """;
}
