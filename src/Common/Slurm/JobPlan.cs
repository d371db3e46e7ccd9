using System.Text;
using System.Text.Json;

namespace Kslurm;

/// <summary>
/// What krun/kbatch/kjupyter are about to run: the exact argv, the generated script if any, and
/// the resolved request. `-t` prints it; `-t --json` prints it as JSON (schema:
/// docs/schema/job-plan.schema.json).
/// </summary>
public sealed record JobPlan(string Tool, IReadOnlyList<string> Argv, string? Script, JobSpec Spec, IReadOnlyList<string> Command)
{
    public string CommandLine => ShellQuote.Join(Argv);

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("tool", Tool);
            Strings(w, "argv", Argv);
            if (Script is not null)
                w.WriteString("script", Script);
            Strings(w, "command", Command);
            w.WriteStartObject("resources");
            if (Spec.Minutes is { } m) { w.WriteString("time", ResourceTokens.FormatTime(m)); w.WriteNumber("minutes", m); }
            else { w.WriteNull("time"); w.WriteNull("minutes"); }
            if (Spec.Cpus is { } c) w.WriteNumber("cpus", c); else w.WriteNull("cpus");
            if (Spec.MemMB is { } mem) w.WriteNumber("mem_mb", mem); else w.WriteNull("mem_mb");
            if (Spec.Gpu is { } g)
            {
                w.WriteStartObject("gpu");
                w.WriteNumber("count", g.Count);
                if (g.Type is null) w.WriteNull("type"); else w.WriteString("type", g.Type);
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("gpu");
            }
            w.WriteBoolean("x11", Spec.X11);
            if (Spec.Template is null) w.WriteNull("template"); else w.WriteString("template", Spec.Template.Name);
            Strings(w, "slurm_options", Spec.SlurmOptions);
            w.WriteEndObject();
            if (Spec.Account is null) w.WriteNull("account"); else w.WriteString("account", Spec.Account);
            w.WriteString("account_from", Spec.AccountFrom);
            w.WriteString("cwd", Spec.Cwd);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }

    static void Strings(Utf8JsonWriter w, string name, IEnumerable<string> values)
    {
        w.WriteStartArray(name);
        foreach (var v in values)
            w.WriteStringValue(v);
        w.WriteEndArray();
    }
}
