using Kslurm.Host;
using Kslurm.Jupyter;
using Kslurm.Processes;

namespace Kslurm.Tools;

/// <summary>
/// `kjupyter _serve [--lab|--notebook|--server]`, inside the job: choose Jupyter, a free port on this node,
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
        // With --venv, Jupyter must come from the venv: a system Jupyter would run kernels outside it.
        var venvBin = Environment.GetEnvironmentVariable("VIRTUAL_ENV") is { Length: > 0 } v ? Path.Combine(v, "bin") : null;
        var frontend = JupyterFrontend.Choose(argv.FirstOrDefault(a => a is "--lab" or "--notebook" or "--server"), venvBin,
            Environment.GetEnvironmentVariable("VIRTUAL_ENV_PROMPT"));
        var node = Environment.MachineName;
        var port = FreePort();
        Console.Error.WriteLine($"kjupyter: starting {frontend.Name}: {frontend.Path} on {node}:{port}");
        // Reached by the node's name (from the cluster, or through the tunnel): not a "local" host
        // to Jupyter, so remote access must be allowed; the token is what protects it.
        using var child = ChildProcess.Start([frontend.Path, "--no-browser", $"--ip={node}", $"--port={port}", "--port-retries=0",
                $"--{frontend.AppClass}.allow_remote_access=True"],
            new Dictionary<string, string?> { ["JUPYTER_TOKEN"] = token, ["KSLURM_JUPYTER_TOKEN"] = null });
        var recorded = false;
        try
        {
            while (child.Poll() is null)
            {
                if (!recorded && Answers(node, port, token))
                {
                    new JupyterSession(jobId, node, port, token, frontend.UrlPath, frontend.App,
                        Environment.GetEnvironmentVariable("KSLURM_JUPYTER_LOGIN") ?? node,
                        Environment.GetEnvironmentVariable("KSLURM_JUPYTER_LOGIN_USER") ?? Environment.UserName, DateTime.UtcNow)
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
