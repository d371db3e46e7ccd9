namespace Kslurm.Tools;

/// <summary>
/// A child process cannot change its parent shell. With kpy's shell function installed
/// (KSLURM_KPY_SHELL set), we print the venv folder and the function sources its activate
/// script. Without it we open a subshell on a terminal, or say how to activate otherwise.
/// </summary>
static class Activation
{
    public static int Finish(string venvDir, string name)
    {
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KSLURM_KPY_SHELL")))
        {
            Console.Out.Write(venvDir + "\n");
            return 0;
        }
        var activate = Path.Combine(venvDir, "bin", "activate");
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
        {
            Output.Note("kpy", $"activate {name} with: source {ShellQuote.Quote(activate)}");
            Output.Note("kpy", "(or add the line from `kpy bash` to ~/.bashrc, and kpy activates in your shell)");
            return 0;
        }
        var rc = Path.Combine(Path.GetDirectoryName(venvDir)!, $".rc-{Environment.ProcessId}");
        File.WriteAllText(rc, $"""
            [ -f ~/.bashrc ] && . ~/.bashrc
            . {ShellQuote.Quote(activate)}
            export KSLURM_KPY_SUBSHELL=1
            deactivate() {"{"} exit 0; {"}"}
            """ + "\n");
        Output.Note("kpy", $"entering a subshell with {name} active; `deactivate` or `exit` leaves it");
        try
        {
            return ChildProcess.Run(["bash", "--rcfile", rc, "-i"]);
        }
        finally
        {
            AtomicFile.TryDelete(rc);
        }
    }
}
