namespace Kslurm.Cli;

/// <summary>The --help / --version answers every binary gives before anything else.</summary>
public static class ToolHelp
{
    /// <summary>Handles a leading -h/--help/-V/--version; returns true when it answered.</summary>
    public static bool TryAnswer(string tool, string[] args, Func<string> help)
    {
        if (args.Length == 0)
            return false;
        switch (args[0])
        {
            case "-h" or "--help":
                Console.Write(help());
                return true;
            case "-V" or "--version":
                Console.WriteLine($"{tool} {BuildInfo.Version}");
                return true;
            default:
                return false;
        }
    }
}
