using Kslurm.Cli;
using Kslurm.Config;

namespace Kslurm.Slurm;

/// <summary>What krun, kbatch and kjupyter do before anything specific: help, parse, settings, -J.</summary>
public sealed record JobTool(JobRequest Request, Settings Settings, IReadOnlyList<JobTemplate> Templates)
{
    /// <summary>Null when the request was answered already (--help, --version, -J).</summary>
    public static JobTool? Start(string tool, string[] argv, Func<string> help, IReadOnlyCollection<string>? switches = null)
    {
        if (ToolHelp.TryAnswer(tool, argv, help))
            return null;
        var req = JobRequest.Parse(argv, switches);
        if (req.Help)
        {
            Console.Write(help());
            return null;
        }
        var settings = Settings.Load(tool);
        var templates = JobTemplates.All(settings);
        if (req.ListTemplates)
        {
            Console.Write(TemplateTable.Render(templates));
            return null;
        }
        return new JobTool(req, settings, templates);
    }
}
