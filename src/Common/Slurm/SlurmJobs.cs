using System.Globalization;
using System.Text.RegularExpressions;
using Kslurm.Processes;

namespace Kslurm.Slurm;

/// <summary>Questions about a submitted job, asked with squeue/scontrol/sacct.</summary>
public static partial class SlurmJobs
{
    [GeneratedRegex(@"(?:^| )([A-Za-z][A-Za-z0-9_:/]*)=")]
    private static partial Regex FieldStart();

    /// <summary>`scontrol -o show job ID` as fields, or null once Slurm has forgotten the job.</summary>
    public static Dictionary<string, string>? Show(string jobId)
    {
        var r = ChildProcess.Capture(["scontrol", "-o", "show", "job", jobId]);
        if (!r.Ok)
            return null;
        var line = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        var starts = FieldStart().Matches(line);
        for (var i = 0; i < starts.Count; i++)
        {
            var m = starts[i];
            var valueStart = m.Index + m.Length;
            var valueEnd = i + 1 < starts.Count ? starts[i + 1].Index : line.Length;
            fields[m.Groups[1].Value] = line[valueStart..valueEnd].Trim();
        }
        return fields;
    }

    /// <summary>Slurm's estimate of the start time (pending jobs), or null when it has none.</summary>
    public static DateTime? EstimatedStart(string jobId)
    {
        var r = ChildProcess.Capture(["squeue", "-h", "-j", jobId, "-o", "%S"]);
        var text = r.Stdout.Trim();
        return r.Ok && DateTime.TryParseExact(text, "yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var t)
            ? t : null;
    }

    static readonly HashSet<string> Finished = new(StringComparer.Ordinal)
    {
        "COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE",
    };

    /// <summary>Waits until the job ends; returns its state and an exit code as a shell reports it.</summary>
    public static (string State, int ExitCode) Wait(string jobId, CancellationToken cancel)
    {
        var delay = TimeSpan.FromMilliseconds(500);
        while (true)
        {
            cancel.ThrowIfCancellationRequested();
            var info = Show(jobId);
            // Ctrl-C reaches scontrol too (same process group): its failure is then no news of the job
            cancel.ThrowIfCancellationRequested();
            if (info is null)
            {
                // purged from slurmctld's memory, or scontrol failed once: accounting decides
                var (ended, code) = FromAccounting(jobId);
                if (Finished.Contains(ended))
                    return (ended, code);
            }
            else if (info.GetValueOrDefault("JobState", "UNKNOWN") is var state && Finished.Contains(state))
                return (state, ExitCode(info.GetValueOrDefault("ExitCode", "0:0"), state));
            cancel.WaitHandle.WaitOne(delay);
            delay = TimeSpan.FromMilliseconds(Math.Min(delay.TotalMilliseconds * 1.5, 10_000));
        }
    }

    static (string, int) FromAccounting(string jobId)
    {
        var r = ChildProcess.Capture(["sacct", "-n", "-X", "-P", "-j", jobId, "-o", "State,ExitCode"]);
        var f = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault()?.Split('|');
        if (!r.Ok || f is not { Length: 2 })
            throw new KslurmException($"Slurm no longer knows job {jobId}, and accounting has no record of it");
        var state = f[0].Split(' ')[0];
        return (state, ExitCode(f[1], state));
    }

    // Slurm's ExitCode is "code:signal". A signal becomes 128+N as in a shell; a job that did not
    // complete never reports success.
    static int ExitCode(string text, string state)
    {
        var parts = text.Split(':');
        var code = int.TryParse(parts[0], out var c) ? c : 1;
        var signal = parts.Length > 1 && int.TryParse(parts[1], out var s) ? s : 0;
        var result = signal > 0 ? 128 + signal : code;
        return state == "COMPLETED" || result != 0 ? result : 1;
    }
}
