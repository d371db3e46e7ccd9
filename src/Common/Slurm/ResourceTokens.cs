using System.Globalization;
using System.Text.RegularExpressions;

namespace Kslurm.Slurm;

/// <summary>A GPU request: `gpu` (one), `gpu:N`, or `gpu:TYPE:N`.</summary>
public sealed record GpuRequest(int Count, string? Type = null)
{
    /// <summary>The --gres value: gpu:N or gpu:TYPE:N.</summary>
    public string Gres => Type is null ? $"gpu:{Count}" : $"gpu:{Type}:{Count}";
}

/// <summary>
/// The resource words of the kslurm grammar (`krun 4 3:00 15G gpu ...`). Each method answers
/// "is this token of my shape?" and, if so, parses it or throws a usage error that names it.
/// </summary>
public static partial class ResourceTokens
{
    // [D-]H[H]:MM — the Python kslurm's time shape, kept as users typed it for years.
    [GeneratedRegex(@"^(?:(\d{1,2})-)?(\d{1,2}):(\d\d)$")]
    private static partial Regex TimeShape();

    [GeneratedRegex(@"^\d+$")]
    private static partial Regex CpuShape();

    [GeneratedRegex(@"^(\d+)([KMGTkmgt])([iI]?)([bB]?)$")]
    private static partial Regex MemShape();

    [GeneratedRegex(@"^gpu(?::(?:([A-Za-z0-9_.-]+):)?(\d+))?$")]
    private static partial Regex GpuShape();

    public const string TimeForms = "[D-]H:MM, e.g. 3:00, 0:30 or 2-12:00";
    public const string MemForms = "a number with a unit K, M, G or T (optionally KiB/MiB/GiB/TiB or KB/MB/GB), e.g. 16G or 500M";
    public const string GpuForms = "gpu, gpu:N or gpu:TYPE:N";

    /// <summary>Minutes, or null when the token is not time-shaped.</summary>
    public static int? Time(string token)
    {
        var m = TimeShape().Match(token);
        if (!m.Success)
            return null;
        var days = m.Groups[1].Success ? int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
        var hours = int.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        var minutes = int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
        if (minutes > 59)
            throw new UsageException($"invalid time '{token}': minutes must be 00-59", $"time is {TimeForms}");
        var total = days * 1440 + hours * 60 + minutes;
        if (total == 0)
            throw new UsageException($"invalid time '{token}': a job needs at least one minute", $"time is {TimeForms}");
        return total;
    }

    public static int? Cpus(string token)
    {
        if (!CpuShape().IsMatch(token))
            return null;
        if (!int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1 || n > 100_000)
            throw new UsageException($"invalid CPU count '{token}'", "CPUs are a whole number from 1, e.g. 4");
        return n;
    }

    /// <summary>Whole megabytes (SI: 16G = 16000, 16GiB = 17179), as the Python kslurm computed.</summary>
    public static long? MemoryMB(string token)
    {
        var m = MemShape().Match(token);
        if (!m.Success)
            return null;
        if (!decimal.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            throw new UsageException($"invalid memory '{token}'", $"memory is {MemForms}");
        var binary = m.Groups[3].Length > 0;
        var power = char.ToUpperInvariant(m.Groups[2].Value[0]) switch { 'K' => 1, 'M' => 2, 'G' => 3, _ => 4 };
        var unit = 1m;
        for (var i = 0; i < power; i++)
            unit *= binary ? 1024m : 1000m;
        decimal mb;
        try { mb = Math.Floor(n * unit / 1_000_000m); }
        catch (OverflowException) { throw new UsageException($"memory '{token}' is too large", $"memory is {MemForms}"); }
        if (mb < 1)
            throw new UsageException($"memory '{token}' is less than one megabyte", $"memory is {MemForms}");
        if (mb > long.MaxValue / 2)
            throw new UsageException($"memory '{token}' is too large", $"memory is {MemForms}");
        return (long)mb;
    }

    public static GpuRequest? Gpu(string token)
    {
        if (!token.StartsWith("gpu", StringComparison.Ordinal))
            return null;
        var m = GpuShape().Match(token);
        if (!m.Success)
        {
            if (token.StartsWith("gpu:", StringComparison.Ordinal))
                throw new UsageException($"invalid GPU request '{token}'", $"GPUs are {GpuForms}");
            return null; // e.g. a command called gpustat
        }
        var count = 1;
        if (m.Groups[2].Success && (!int.TryParse(m.Groups[2].Value, CultureInfo.InvariantCulture, out count) || count < 1))
            throw new UsageException($"invalid GPU count in '{token}'", $"GPUs are {GpuForms}");
        return new GpuRequest(count, m.Groups[1].Success ? m.Groups[1].Value : null);
    }

    /// <summary>Slurm's time format: D-HH:MM:00 with days, else HH:MM:00.</summary>
    public static string FormatTime(int minutes)
    {
        var d = minutes / 1440;
        var h = minutes % 1440 / 60;
        var m = minutes % 60;
        return d > 0 ? $"{d}-{h:00}:{m:00}:00" : $"{h:00}:{m:00}:00";
    }
}
