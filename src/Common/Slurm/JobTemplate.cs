using System.Globalization;
using Tomlyn.Model;
using Kslurm.Config;
using Kslurm.Host;

namespace Kslurm.Slurm;

/// <summary>A named set of resources for `-j NAME`: built in, or from the site/user config.</summary>
public sealed record JobTemplate(
    string Name,
    int? Cpus,
    long? MemMB,
    int? Minutes,
    GpuRequest? Gpu = null,
    string? Account = null,
    IReadOnlyList<string>? Extra = null,
    string Source = "built-in");

/// <summary>The templates a user can choose from: kslurm's 25 built-ins, then site, then user ones.</summary>
public static class JobTemplates
{
    // The Python kslurm's templates (sized for Compute Canada's Graham), same names and values.
    public static readonly IReadOnlyList<JobTemplate> Builtin =
    [
        T("16core64gb24h", 16, 64000, "24:00"), T("16core64gb3h", 16, 64000, "3:00"),
        T("2core8gb16h", 2, 8000, "16:00"), T("2core8gb", 2, 8000, "1:00"),
        T("32core128gb12h", 32, 128000, "12:00"), T("32core128gb3h", 32, 128000, "3:00"),
        T("4core16gb12h", 4, 16000, "12:00"), T("4core16gb24h", 4, 16000, "24:00"),
        T("4core16gb", 4, 16000, "3:00"), T("4core64gb12h", 4, 64000, "12:00"),
        T("5core32gb24h", 5, 32000, "24:00"), T("5core32gb72h", 5, 32000, "72:00"),
        T("8core32gb12h", 8, 32000, "12:00"), T("8core32gb28h", 8, 32000, "28:00"),
        T("8core32gb3h", 8, 32000, "3:00"), T("Fat", 32, 128000, "24:00"),
        T("LongFat", 32, 128000, "72:00"), T("Long", 8, 32000, "72:00"),
        T("LongSkinny", 1, 4000, "72:00"), T("Quick", 1, 4000, "0:10"),
        T("Regular", 8, 32000, "24:00"), T("ShortFat", 32, 128000, "3:00"),
        T("Short", 8, 32000, "3:00"), T("ShortSkinny", 1, 4000, "3:00"),
        T("Skinny", 1, 4000, "24:00"),
    ];

    static JobTemplate T(string name, int cpus, long mem, string time)
        => new(name, cpus, mem, TemplateMinutes(time));

    // Template times are H:MM with any number of hours (72:00), unlike the command-line shape.
    static int TemplateMinutes(string time)
    {
        var parts = time.Split(':');
        return int.Parse(parts[0], CultureInfo.InvariantCulture) * 60 + int.Parse(parts[1], CultureInfo.InvariantCulture);
    }

    /// <summary>Built-ins, overridden or extended by the site's and then the user's [templates.NAME].</summary>
    public static IReadOnlyList<JobTemplate> All(Settings settings)
    {
        var list = Builtin.ToList();
        foreach (var (name, table, fromSite) in settings.Tables("templates"))
        {
            var source = fromSite ? "site" : "user";
            var t = FromToml(name, table, $"{source} config ({Paths.Pretty(fromSite ? settings.Site.Path : settings.User.Path)})");
            list.RemoveAll(x => x.Name == name);
            list.Add(t with { Source = source });
        }
        return list;
    }

    public static JobTemplate Find(IReadOnlyList<JobTemplate> all, string name)
        => all.FirstOrDefault(t => t.Name == name)
           ?? throw new UsageException($"'{name}' is not a job template",
               $"choose one of: {string.Join(", ", all.Select(t => t.Name))} (list them with -J)");

    // The command-line shape, or H:MM with any number of hours as the built-ins use.
    static int? ConfigTime(string s)
    {
        try
        {
            if (ResourceTokens.Time(s) is { } m)
                return m;
        }
        catch (UsageException) { return null; }
        var parts = s.Split(':');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var h)
               && parts[1].Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var mm) && mm < 60
            ? h * 60 + mm : null;
    }

    static JobTemplate FromToml(string name, TomlTable t, string where)
    {
        string Ctx(string key) => $"template '{name}' in {where}: {key}";
        int? cpus = null; long? mem = null; int? minutes = null; GpuRequest? gpu = null; string? account = null;
        List<string>? extra = null;
        foreach (var (key, value) in t)
        {
            switch (key)
            {
                case "cpus":
                    cpus = value switch
                    {
                        long n when n is >= 1 and <= 100_000 => (int)n,
                        string s when ResourceTokens.Cpus(s) is { } c => c,
                        _ => throw new KslurmException($"{Ctx("cpus")} must be a whole number such as 4"),
                    };
                    break;
                case "mem":
                    mem = value switch
                    {
                        long n when n >= 1 => n, // plain numbers are megabytes, as in the built-ins
                        string s when long.TryParse(s, out var n) && n >= 1 => n,
                        string s when ResourceTokens.MemoryMB(s) is { } m => m,
                        _ => throw new KslurmException($"{Ctx("mem")} must be like \"16G\" or a number of megabytes"),
                    };
                    break;
                case "time":
                    minutes = value is string ts ? ConfigTime(ts) : null;
                    if (minutes is null or < 1)
                        throw new KslurmException($"{Ctx("time")} must be like \"3:00\", \"72:00\" or \"1-12:00\"");
                    break;
                case "gpu":
                    gpu = value switch
                    {
                        bool b => b ? new GpuRequest(1) : null,
                        long n when n >= 1 => new GpuRequest((int)n),
                        0L => null,
                        string s when ResourceTokens.Gpu(s) is { } g => g,
                        _ => throw new KslurmException($"{Ctx("gpu")} must be true, a count, or \"gpu:TYPE:N\""),
                    };
                    break;
                case "account":
                    account = value as string ?? throw new KslurmException($"{Ctx("account")} must be a string");
                    break;
                case "extra":
                    extra = value is TomlArray a && a.All(x => x is string s && s.StartsWith('-'))
                        ? a.Cast<string>().ToList()
                        : throw new KslurmException($"{Ctx("extra")} must be a list of Slurm options such as [\"--partition=gpu\"]");
                    break;
                default:
                    throw new KslurmException($"{Ctx(key)} is not a template setting", "templates take cpus, mem, time, gpu, account and extra");
            }
        }
        return new JobTemplate(name, cpus, mem, minutes, gpu, account, extra);
    }
}
