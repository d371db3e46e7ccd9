using System.Globalization;
using Kslurm.Processes;

namespace Kslurm.Slurm;

/// <summary>A Slurm account the user may charge, with its fair-share standing.</summary>
/// <param name="Name">the name to pass to --account</param>
/// <param name="LevelFS">sshare's LevelFS: above 1 means under-used (better); null if unknown</param>
public sealed record SlurmAccount(string Name, double? LevelFS)
{
    public string LevelText => LevelFS switch
    {
        null => "?",
        double.PositiveInfinity => "inf",
        var v => v.Value.ToString("0.###", CultureInfo.InvariantCulture),
    };
}

/// <summary>
/// Which accounts serve CPU and which serve GPU jobs. On Alliance (Compute Canada) clusters the
/// associations are named NAME_cpu and NAME_gpu while jobs are submitted with --account=NAME (the
/// site maps it), so the suffix is dropped as the Python kslurm did. Accounts without a suffix
/// serve both kinds of job.
/// </summary>
public sealed record AccountChoices(IReadOnlyList<SlurmAccount> Cpu, IReadOnlyList<SlurmAccount> Gpu, bool Suffixed)
{
    public static AccountChoices From(IEnumerable<SlurmAccount> associations)
    {
        var cpu = new List<SlurmAccount>();
        var gpu = new List<SlurmAccount>();
        var suffixed = false;
        foreach (var a in associations)
        {
            if (a.Name.EndsWith("_cpu", StringComparison.Ordinal) && a.Name.Length > 4)
            {
                Add(cpu, a with { Name = a.Name[..^4] });
                suffixed = true;
            }
            else if (a.Name.EndsWith("_gpu", StringComparison.Ordinal) && a.Name.Length > 4)
            {
                Add(gpu, a with { Name = a.Name[..^4] });
                suffixed = true;
            }
            else
            {
                Add(cpu, a);
                Add(gpu, a);
            }
        }
        return new AccountChoices(Ranked(cpu), Ranked(gpu), suffixed);
    }

    static void Add(List<SlurmAccount> list, SlurmAccount a)
    {
        if (!list.Any(x => x.Name == a.Name))
            list.Add(a);
    }

    // Best first: higher LevelFS means the account has used less than its share.
    static List<SlurmAccount> Ranked(List<SlurmAccount> list)
        => [.. list.OrderByDescending(a => a.LevelFS ?? double.NegativeInfinity).ThenBy(a => a.Name, StringComparer.Ordinal)];
}

/// <summary>Asks Slurm's accounting (sacctmgr, sshare) which accounts a user can use.</summary>
public static class SlurmAccounts
{
    public static IReadOnlyList<SlurmAccount> ForUser(string user)
    {
        var assoc = ChildProcess.Capture(["sacctmgr", "-n", "-P", "list", "associations", $"users={user}", "format=Account"]);
        if (!assoc.Ok)
            throw new KslurmException($"sacctmgr could not list your accounts: {FirstLine(assoc.Stderr)}",
                "this needs Slurm accounting (slurmdbd); set the account directly: kslurm config account NAME");
        var names = assoc.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Distinct(StringComparer.Ordinal).ToList();
        if (names.Count == 0)
            return [];
        var levels = LevelFS(names);
        return [.. names.Select(n => new SlurmAccount(n, levels.TryGetValue(n, out var l) ? l : null))];
    }

    /// <summary>LevelFS of each account's own row, in one sshare call.</summary>
    static Dictionary<string, double> LevelFS(List<string> accounts)
    {
        var result = new Dictionary<string, double>(StringComparer.Ordinal);
        var share = ChildProcess.Capture(["sshare", "-n", "-P", "-A", string.Join(',', accounts), "-o", "Account,User,LevelFS"]);
        if (!share.Ok)
            return result; // fair-share is a hint for choosing; its absence is not an error
        foreach (var line in share.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('|');
            if (f.Length < 3 || f[1].Trim().Length != 0)
                continue; // user rows; we want the account's
            var name = f[0].Trim();
            var text = f[2].Trim();
            if (text.Equals("inf", StringComparison.OrdinalIgnoreCase))
                result[name] = double.PositiveInfinity;
            else if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                result[name] = v;
        }
        return result;
    }

    static string FirstLine(string s) => s.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no output";
}
