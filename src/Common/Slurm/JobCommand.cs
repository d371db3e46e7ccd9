using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Host;
using Kslurm.Processes;
using Kslurm.Shell;
using Kslurm.Venv;

namespace Kslurm.Slurm;

/// <summary>Checks on the user's command shared by krun, kbatch and kjupyter.</summary>
public static class JobCommand
{
    /// <summary>
    /// The Python kslurm joined the command and ran it through a shell, so `kbatch "a && b"`
    /// worked. Here argv is passed as is; catch that old habit with advice instead of a
    /// "command not found" from the node.
    /// </summary>
    public static void CheckCommand(string tool, JobRequest req)
    {
        var c = req.Command.Count == 1 ? req.Command[0] : "";
        if (c.Any(char.IsWhiteSpace) && !File.Exists(c) && ChildProcess.Which(c) is null)
            throw new UsageException($"no program named '{c}' (the command is one word with spaces in it)",
                $"commands are not run through a shell; for shell syntax use: {tool} ... bash -c {ShellQuote.Quote(c)}");
        if (ShellSyntaxWarning(tool, req.Command) is { } warning)
            Output.Warn(tool, warning);
    }

    static readonly string[] Operators = ["&&", "||", "|", ";", ">", ">>", "<"];
    static readonly string[] Shells = ["sh", "bash", "dash", "zsh", "ksh", "csh", "tcsh", "fish"];

    /// <summary>
    /// The other side of that habit: `kbatch cd dir \&\& make` or `kbatch echo '$SLURM_TMPDIR'`
    /// (the Python kslurm's help taught the latter) run with `&&` or `$SLURM_TMPDIR` as plain
    /// arguments. They still run as typed, since a program may want exactly those words, but one
    /// line on stderr names the word and gives the `bash -c` form that does what the shell did.
    /// Null when nothing looks like shell syntax, or when the command is a shell already.
    /// </summary>
    public static string? ShellSyntaxWarning(string tool, IReadOnlyList<string> command)
    {
        if (command.Count == 0 || Shells.Contains(Path.GetFileName(command[0])))
            return null;
        var word = command.FirstOrDefault(w => Operators.Contains(w) || Expands(w));
        if (word is null)
            return null;
        var script = string.Join(' ', command.Select(w => Operators.Contains(w) ? w : Expands(w) ? Expanding(w) : ShellQuote.Quote(w)));
        var what = Operators.Contains(word) ? $"'{word}' is passed to {command[0]} as an argument" : $"{command[0]} gets '{word}' unexpanded";
        return $"{what}: commands are not run through a shell; for shell syntax use: {tool} ... bash -c {ShellQuote.Quote(script)}";
    }

    /// <summary>$NAME, ${...} or $(...): what a shell on the node would have expanded.</summary>
    static bool Expands(string word)
    {
        for (var i = word.IndexOf('$'); i >= 0 && i + 1 < word.Length; i = word.IndexOf('$', i + 1))
            if (word[i + 1] is '{' or '(' or '_' || char.IsAsciiLetter(word[i + 1]))
                return true;
        return false;
    }

    // A word with an expansion goes to the shell as it is, in double quotes when it has spaces etc.
    static string Expanding(string word)
        => word.All(c => char.IsAsciiLetterOrDigit(c) || c is '$' or '{' or '}' or '(' or ')' or '_' or '-' or '.' or '/' or ':' or '=' or ',')
            ? word
            : "\"" + word.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("`", "\\`") + "\"";

    /// <summary>
    /// `--venv NAME`: the job runs `kpy exec NAME -- COMMAND...`, which loads the saved venv onto
    /// the node's scratch (once per node) and runs the command inside it. Checked before submitting,
    /// so a typo fails now rather than in the queue. <paramref name="modules"/> false: `kpy exec
    /// --no-modules`, the venv without the Lmod modules it was saved with. <paramref name="allNodes"/>:
    /// `kpy exec --all-nodes`, for a batch script or a shell whose srun tasks may run on the job's
    /// other nodes; a krun command needs none, as each of its tasks loads onto its own node.
    /// </summary>
    public static List<string> InVenv(string tool, string venv, Settings settings, IReadOnlyList<string> command, bool modules = true, bool allNodes = false)
    {
        VenvName.Check(venv);
        var store = new VenvStore(settings, Node.Current);
        if (store.Find(venv) is null)
            throw new KslurmException($"no saved venv called {venv}", LoadCommandHint(store));
        var kpy = Paths.Sibling("kpy", tool);
        return [kpy, "exec", .. (modules ? Array.Empty<string>() : ["--no-modules"]), .. (allNodes ? ["--all-nodes"] : Array.Empty<string>()),
            venv, "--", .. command];
    }

    static string LoadCommandHint(VenvStore store)
    {
        var saved = store.Saved();
        return saved.Count == 0 ? "save one first: kpy save NAME" : "saved venvs: " + string.Join(", ", saved.Select(s => s.Name));
    }
}
