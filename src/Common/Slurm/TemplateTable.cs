using System.Text;

namespace Kslurm.Slurm;

/// <summary>The `-J` listing of job templates.</summary>
public static class TemplateTable
{
    public static string Render(IReadOnlyList<JobTemplate> templates)
    {
        var rows = new List<string[]> { new[] { "name", "cpus", "mem", "time", "gpu", "from" } };
        foreach (var t in templates)
        {
            rows.Add([
                t.Name,
                t.Cpus?.ToString() ?? "-",
                t.MemMB is { } m ? $"{m}M" : "-",
                t.Minutes is { } min ? $"{min / 60}:{min % 60:00}" : "-",
                t.Gpu?.Gres ?? "",
                t.Source + (t.Extra is { Count: > 0 } e ? " " + string.Join(' ', e) : ""),
            ]);
        }
        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var sb = new StringBuilder();
        foreach (var r in rows)
        {
            sb.Append(r[0].PadRight(widths[0])).Append("  ")
              .Append(r[1].PadLeft(widths[1])).Append("  ")
              .Append(r[2].PadLeft(widths[2])).Append("  ")
              .Append(r[3].PadLeft(widths[3])).Append("  ")
              .Append(r[4].PadRight(widths[4])).Append("  ")
              .Append(r[5]).Append('\n');
        }
        return sb.ToString();
    }
}
