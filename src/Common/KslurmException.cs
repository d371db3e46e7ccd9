// The base namespace: the error types every layer of Common throws and every tool catches. It
// depends on nothing else in Common, so no folder needs Cli/ just to fail (see README.md).

namespace Kslurm;

/// <summary>
/// An error meant for the user: printed as one line (plus an optional hint), never with a stack
/// trace. <see cref="ExitCode"/> is 2 for usage errors and 1 for failures.
/// </summary>
public class KslurmException : Exception
{
    public KslurmException(string message, string? hint = null, int exitCode = 1, Exception? inner = null)
        : base(message, inner)
    {
        Hint = hint;
        ExitCode = exitCode;
    }

    public string? Hint { get; }
    public int ExitCode { get; }
}

/// <summary>The command line itself is wrong (exit code 2).</summary>
public sealed class UsageException(string message, string? hint = null)
    : KslurmException(message, hint, exitCode: 2);
