using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Processes;
using Kslurm.Registry;
using Kslurm.Shell;
using Kslurm.Slurm;

namespace Kslurm.Tools;

/// <summary>
/// `kapp pull URI [-a ALIAS] [-f] [--mem M] [--time T]`: the image store pulls; this command
/// says where the image is built: here when small, in a Slurm job (through krun) when large or
/// when --mem/--time ask for one, since a login node lacks the memory.
/// </summary>
static class PullCommand
{
    const string Usage = "usage: kapp pull URI [-a ALIAS] [-f] [--mem M] [--time T]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-f|--force"], options: ["-a|--alias", "--mem", "--time"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n");
            return 0;
        }
        if (a.Positionals.Count != 1)
            throw new UsageException(a.Positionals.Count == 0 ? "missing URI" : $"unexpected argument '{a.Positionals[1]}'", Usage);
        long? memMB = a.Value("--mem") is { } m ? ResourceTokens.MemoryMB(m) ?? Number(m, "--mem", "a memory size such as 16G") : null;
        int? minutes = a.Value("--time") is { } t ? ResourceTokens.Time(t) ?? (int?)Number(t, "--time", "hours, or [D-]H:MM") * 60 : null;
        var image = ImageStore.Open("kapp").Pull(a.Positionals[0], a.Value("--alias"), a.Has("--force"),
            (build, size) => Build(build, size, memMB, minutes));
        Console.Out.Write(image + "\n");
        return 0;
    }

    static long Number(string text, string option, string forms)
        => long.TryParse(text, out var n) && n > 0 ? n : throw new UsageException($"invalid {option} '{text}'", $"{option} takes {forms}");

    static int Build(IReadOnlyList<string> build, long size, long? memMB, int? minutes)
    {
        if (size < ImageStore.SmallImage && memMB is null && minutes is null)
        {
            Output.Note("kapp", "building the image here ...");
            return ChildProcess.Run(build, stdoutToStderr: true);
        }
        var mem = memMB ?? Math.Min(64_000, Math.Max(1, size / 1_000_000) * 20);
        var time = minutes ?? 60;
        string[] job = [Paths.Sibling("krun", "kapp"), ResourceTokens.FormatTime(time)[..^3], $"{mem}M", "--job-name=kapp-build", "--", .. build];
        Output.Note("kapp", $"building in a Slurm job ({mem} MB, {ResourceTokens.FormatTime(time)}): {ShellQuote.Join(job)}");
        return ChildProcess.Run(job, stdoutToStderr: true);
    }
}
