using Kslurm.Json;
using Kslurm.Shell;

namespace Kslurm.Slurm;

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
        var resources = new JsonObject
        {
            ["time"] = Spec.Minutes is { } m ? ResourceTokens.FormatTime(m) : null,
            ["minutes"] = Spec.Minutes,
            ["cpus"] = Spec.Cpus,
            ["mem_mb"] = Spec.MemMB,
            ["gpu"] = Spec.Gpu is { } g ? new JsonObject { ["count"] = g.Count, ["type"] = g.Type } : null,
            ["x11"] = Spec.X11,
            ["template"] = Spec.Template?.Name,
            ["slurm_options"] = Spec.SlurmOptions,
        };
        var plan = new JsonObject { ["tool"] = Tool, ["argv"] = Argv };
        if (Script is not null)
            plan["script"] = Script;
        plan["command"] = Command;
        plan["resources"] = resources;
        plan["account"] = Spec.Account;
        plan["account_from"] = Spec.AccountFrom;
        plan["cwd"] = Spec.Cwd;
        return JsonText.Write(plan) + "\n";
    }
}
