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
}
