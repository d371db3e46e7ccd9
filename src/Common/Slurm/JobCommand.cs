namespace Kslurm;

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
        if (req.Command.Count != 1)
            return;
        var c = req.Command[0];
        if (c.Any(char.IsWhiteSpace) && !File.Exists(c) && ChildProcess.Which(c) is null)
            throw new UsageException($"no program named '{c}' (the command is one word with spaces in it)",
                $"commands are not run through a shell; for shell syntax use: {tool} ... bash -c {ShellQuote.Quote(c)}");
    }

    /// <summary>
    /// `--venv NAME`: the job runs `kpy exec NAME -- COMMAND...`, which loads the saved venv onto
    /// the node's scratch (once per node) and runs the command inside it. Checked before submitting,
    /// so a typo fails now rather than in the queue.
    /// </summary>
    public static List<string> InVenv(string tool, string venv, Settings settings, IReadOnlyList<string> command)
    {
        VenvName.Check(venv);
        var store = new VenvStore(settings, Node.Current);
        if (store.Find(venv) is null)
            throw new KslurmException($"no saved venv called {venv}", LoadCommandHint(store));
        var kpy = Path.Combine(Paths.BinDir, "kpy");
        if (!File.Exists(kpy))
            throw new KslurmException($"--venv needs kpy next to {tool} (looked for {kpy})", "reinstall kslurm so all its programs sit in one folder");
        return [kpy, "exec", venv, "--", .. command];
    }

    static string LoadCommandHint(VenvStore store)
    {
        var saved = store.Saved();
        return saved.Count == 0 ? "save one first: kpy save NAME" : "saved venvs: " + string.Join(", ", saved.Select(s => s.Name));
    }
}
