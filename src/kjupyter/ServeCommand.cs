namespace Kslurm.Tools;

/// <summary>
/// `kjupyter _serve [--lab|--notebook]`, inside the job: choose Jupyter, a free port on this node,
/// start it with the token from the environment, and once it answers write the session record;
/// remove it when Jupyter ends (scancel's SIGTERM is passed on to Jupyter).
/// </summary>
static class ServeCommand
{
    public static int Run(string[] argv)
    {
        var token = Environment.GetEnvironmentVariable("KSLURM_JUPYTER_TOKEN");
        var jobId = Node.Current.JobId;
        if (string.IsNullOrEmpty(token) || jobId is null)
            throw new KslurmException("kjupyter _serve runs inside a job started by kjupyter", "start a server with: kjupyter [RESOURCES]");
        var (app, program, urlPath) = Choose(argv);
        var node = Environment.MachineName;
        var port = FreePort();
        Console.Error.WriteLine($"kjupyter: starting {program} on {node}:{port}");
        // Reached by the node's name (from the cluster, or through the tunnel): not a "local" host
        // to Jupyter, so remote access must be allowed; the token is what protects it.
        var appClass = app == "notebook" ? "NotebookApp" : "ServerApp";
        using var child = ChildProcess.Start([program, "--no-browser", $"--ip={node}", $"--port={port}", "--port-retries=0",
                $"--{appClass}.allow_remote_access=True"],
            new Dictionary<string, string?> { ["JUPYTER_TOKEN"] = token, ["KSLURM_JUPYTER_TOKEN"] = null });
        var recorded = false;
        try
        {
            while (child.Poll() is null)
            {
                if (!recorded && Answers(node, port, token))
                {
                    new JupyterSession(jobId, node, port, token, urlPath, app,
                        Environment.GetEnvironmentVariable("KSLURM_JUPYTER_LOGIN") ?? node, Environment.UserName, DateTime.UtcNow)
                    {
                        // under `kpy exec NAME` (kjupyter --venv): the shell command activates it too
                        Venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV") is { Length: > 0 } ? Environment.GetEnvironmentVariable("VIRTUAL_ENV_PROMPT") : null,
                    }.Write();
                    Console.Error.WriteLine($"kjupyter: Jupyter answers on {node}:{port}");
                    recorded = true;
                }
                Thread.Sleep(recorded ? 1000 : 200);
            }
            return child.Wait();
        }
        finally
        {
            JupyterSession.Forget(jobId);
        }
    }

    /// <summary>JupyterLab when installed, else Jupyter Server, else the classic Notebook.</summary>
    static (string App, string Program, string UrlPath) Choose(string[] argv)
    {
        (string, string, string)[] all = [("lab", "jupyter-lab", "/lab"), ("server", "jupyter-server", "/"), ("notebook", "jupyter-notebook", "/tree")];
        var wanted = argv.Contains("--lab") ? all[..1] : argv.Contains("--notebook") ? all[2..] : all;
        // With --venv, Jupyter must come from the venv: a system Jupyter would run kernels outside it.
        var venvBin = Environment.GetEnvironmentVariable("VIRTUAL_ENV") is { Length: > 0 } v ? Path.Combine(v, "bin") : null;
        foreach (var (app, exe, path) in wanted)
            if (ChildProcess.Which(exe, venvBin) is { } found)
                return (app, found, path);
        var venv = Environment.GetEnvironmentVariable("VIRTUAL_ENV_PROMPT");
        throw new KslurmException($"no Jupyter in this environment (looked for {string.Join(", ", wanted.Select(w => w.Item2))})",
            venv is { Length: > 0 }
                ? $"install it into the venv (compute nodes have no internet): kpy load {venv}; pip install jupyterlab; kpy save -f {venv}"
                : "load a module that provides it, or use --venv NAME with a venv that has jupyterlab");
    }

    /// <summary>A port nobody listens on: the kernel picks one for a socket bound to port 0 (Python does the asking).</summary>
    static int FreePort()
    {
        var r = ChildProcess.Capture(["python3", "-c", "import socket; s=socket.socket(); s.bind(('', 0)); print(s.getsockname()[1])"]);
        return r.Ok && int.TryParse(r.Stdout.Trim(), out var p) ? p
            : throw new KslurmException($"cannot find a free port on this node: {r.Stderr.Trim()}");
    }

    /// <summary>GET /api/status with the token in a header; curl reads its options from stdin so the token is in no argv.</summary>
    static bool Answers(string node, int port, string token)
    {
        var r = ChildProcess.Capture(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "--max-time", "2", "-K", "-"],
            stdin: $"url = \"http://{node}:{port}/api/status\"\nheader = \"Authorization: token {token}\"\n");
        return r.Stdout.Trim() == "200";
    }
}
