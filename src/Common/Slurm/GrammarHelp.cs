namespace Kslurm.Slurm;

/// <summary>The resource-word section shared by the help of krun, kbatch and kjupyter.</summary>
public static class GrammarHelp
{
    public const string Resources = """
        Resources (any order, before the command):
          3:00, 1-12:00     time limit [D-]H:MM                         (default 3:00)
          4                 CPUs for the task                            (default 1)
          16G, 500M, 8GiB   memory, K/M/G/T, optionally KiB.. or KB..    (default 4G)
          gpu, gpu:2, gpu:a100:1   GPUs
          x11               forward X11
          ./dir, /path/dir  run from this folder (a word with a / naming a folder)
          -j, --job-template NAME   start from a template (built-in or from your settings)
          -J, -l, --list    list the templates
          -a, --account NAME        account (default: settings account.gpu/.cpu, then account)
          --venv NAME       run inside a saved venv (kpy), loaded onto each node's scratch,
                            with the Lmod modules it was saved with (--no-modules: without)
          --opt=VALUE, --flag, --opt VALUE, -p gpu   any other Slurm option, passed on as given
          --                end of options: everything after it is the command
          -t, --test        print what would run instead of running it (--json: as JSON)

        The command and its arguments reach the job exactly as typed (no shell in between):
        use `bash -c '...'` for pipes, `&&` or variables to expand on the node.
        """;
}
