using System.Diagnostics.CodeAnalysis;
using Kslurm.Processes;

namespace Kslurm.Cli;

/// <summary>
/// The body every Program.cs delegates to: runs the tool and maps every exception to a one-line
/// message and an exit code. A stack trace is shown only with KSLURM_DEBUG=1.
/// </summary>
public static class Entry
{
    public static bool Debug => Environment.GetEnvironmentVariable("KSLURM_DEBUG") is "1" or "true" or "yes";

    public static int Run(string tool, string[] args, Func<string[], int> body)
    {
        StandardStreams.Install();
        try
        {
            return body(args);
        }
        catch (Exception e)
        {
            return Report(tool, e);
        }
        finally
        {
            Console.Out.Flush();
        }
    }

    public static int Report(string tool, Exception e)
    {
        if (Debug)
            Console.Error.WriteLine(e.ToString());
        switch (e)
        {
            case KslurmException k:
                Output.Error(tool, k.Message, k.Hint);
                return k.ExitCode;
            case UnauthorizedAccessException or IOException:
                Output.Error(tool, e.Message);
                return 1;
            case StoppedBySignalException s:
                if (s.Signal != 2) // after Ctrl-C the terminal shows ^C; a job log should say why it ended
                    Output.Note(tool, s.Signal == 15 ? "stopped by SIGTERM" : $"stopped by signal {s.Signal}");
                return 128 + s.Signal;
            case OperationCanceledException:
                return 130;
            default:
                Output.Error(tool, $"unexpected internal error: {e.Message}",
                    Debug ? null : "run again with KSLURM_DEBUG=1 for details and report it");
                return 1;
        }
    }

    [DoesNotReturn]
    public static void Usage(string message, string? hint = null) => throw new UsageException(message, hint);
}
