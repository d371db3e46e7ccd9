using System.Globalization;

namespace Kslurm.Cli;

/// <summary>Numbers and times as people read them in listings.</summary>
public static class Format
{
    public static string Bytes(long n)
    {
        string[] units = ["B", "KB", "MB", "GB", "TB"];
        double v = n;
        var u = 0;
        while (v >= 1000 && u < units.Length - 1)
        {
            v /= 1000;
            u++;
        }
        return u == 0 ? $"{n} B" : v.ToString(v >= 100 ? "0" : "0.0", CultureInfo.InvariantCulture) + " " + units[u];
    }

    /// <summary>Local time as yyyy-MM-dd HH:mm (formatted by hand: see VenvMeta.Stamp).</summary>
    public static string Date(DateTime t)
    {
        var l = t.ToLocalTime();
        return $"{l.Year:D4}-{l.Month:D2}-{l.Day:D2} {l.Hour:D2}:{l.Minute:D2}";
    }

    /// <summary>Left-aligned columns separated by two spaces; the first row is the header.
    /// Cells are data (names on disk, archive records): shown through <see cref="Output.Safe"/>.</summary>
    public static string Table(IReadOnlyList<string[]> rows)
    {
        rows = [.. rows.Select(r => r.Select(Output.Safe).ToArray())];
        var widths = Enumerable.Range(0, rows[0].Length).Select(i => rows.Max(r => r[i].Length)).ToArray();
        return string.Concat(rows.Select(r =>
            string.Join("  ", r.Select((c, i) => i == r.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd() + "\n"));
    }
}
