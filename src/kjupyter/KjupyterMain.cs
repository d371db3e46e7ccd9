using Kslurm.Cli;
using Kslurm.Slurm;

namespace Kslurm.Tools;

/// <summary>kjupyter: a Jupyter server in a Slurm job, the sessions it leaves, and Jupyter kernels.</summary>
static class KjupyterMain
{
    public static int Run(string[] argv)
    {
        if (ToolHelp.TryAnswer("kjupyter", argv, () => Help))
            return 0;
        var rest = argv.Length > 0 ? argv[1..] : [];
        return (argv.Length > 0 ? argv[0] : "") switch
        {
            "list" => SessionCommands.List(rest),
            "url" => SessionCommands.Url(rest),
            "tunnel" => SessionCommands.Tunnel(rest),
            "log" => SessionCommands.Log(rest),
            "stop" => SessionCommands.Stop(rest),
            "shell" => SessionCommands.Shell(rest),
            "kernel" => KernelCommand.Run(rest),
            "_serve" => ServeCommand.Run(rest),
            _ => StartCommand.Run(argv),
        };
    }

    internal static string Help => $"""
        kjupyter {BuildInfo.Version}: a Jupyter server in a Slurm job, and kernels inside your environments

        usage: kjupyter [RESOURCES...] [--venv NAME] [--lab|--notebook|--server] [-d|--detach] [--debug]
               kjupyter list | url [browser|server] [JOBID] | tunnel [JOBID] | log [JOBID] [-n N] | stop [JOBID]
               kjupyter shell [JOBID] [-- COMMAND...]     a shell or command on the server's node, in its job
               kjupyter kernel install|list|rm ...

        Starts Jupyter in a job, on a free port of the node, with a token it makes: JupyterLab, else
        Notebook 7, else the classic Notebook 6, else nbclassic (--lab / --notebook pick one; --server
        a bare Jupyter Server, which has no web interface). Prints the ssh tunnel line (its host:
        setting jupyter.login_host, else KSLURM_LOGIN_HOST, else hostname -f) and the URL once the
        server answers. Ctrl-C (or `kjupyter stop`) ends the job. --detach returns once the URL is
        printed; the session stays and `kjupyter list/url/tunnel/log/stop` find it from the login
        node. A started job has KSLURM_JUPYTER_TIMEOUT seconds (default 300) to answer before it is
        cancelled. --debug shows the job's log (Jupyter's own output) as it comes.

        {GrammarHelp.Resources}
        """;
}
