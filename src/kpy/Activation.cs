using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Lmod;
using Kslurm.Processes;
using Kslurm.Shell;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>
/// A child process cannot change its parent shell. With kpy's shell function installed
/// (KSLURM_KPY_SHELL set), we print the venv folder and the function sources its activate
/// script. Without it we open a subshell on a terminal, or say how to activate otherwise.
/// </summary>
static class Activation
{
    /// <param name="modules">load the Lmod modules the venv was saved with (unless loaded already) first</param>
    public static int Finish(string venvDir, string name, bool modules = true)
    {
        var missing = modules ? ModuleRestore.Missing(VenvMeta.ReadFrom(venvDir)?.Modules ?? []) : [];
        if (Environment.GetEnvironmentVariable("KSLURM_KPY_SHELL") is { Length: > 0 } shell)
        {
            // The folder on the first line, then Lmod's code for the function to eval before activating.
            var code = ModuleRestore.ShellCode("kpy", name, missing, shell == "zsh" ? "zsh" : "bash");
            Console.Out.Write(venvDir + "\n" + code);
            return 0;
        }
        var activate = Path.Combine(venvDir, "bin", "activate");
        if (Console.IsInputRedirected || Console.IsOutputRedirected)
        {
            if (missing.Count > 0)
                Output.Note("kpy", $"load its modules first: module load {string.Join(' ', missing)}");
            Output.Note("kpy", $"activate {name} with: source {ShellQuote.Quote(activate)}");
            Output.Note("kpy", "(or add the line from `kpy bash` to ~/.bashrc, and kpy activates in your shell)");
            return 0;
        }
        var rc = Path.Combine(Path.GetDirectoryName(venvDir)!, $".rc-{Environment.ProcessId}");
        var lmod = ModuleRestore.ShellCode("kpy", name, missing, "bash") ?? "";
        File.WriteAllText(rc, $"""
            [ -f ~/.bashrc ] && . ~/.bashrc
            {lmod}
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
