using Kslurm.Config;
using Kslurm.Slurm;

namespace Kslurm.Tools;

/// <summary>`kslurm config account -i`: choose accounts among the user's associations.</summary>
static class AccountPicker
{
    public static int Run(ConfigFile file)
    {
        var user = Environment.UserName;
        var accounts = SlurmAccounts.ForUser(user);
        if (accounts.Count == 0)
            throw new KslurmException($"Slurm lists no accounts for user {user}",
                "ask your cluster's support which account to use, then: kslurm config account NAME");
        var choices = AccountChoices.From(accounts);
        if (!choices.Suffixed)
        {
            // One kind of account: one question.
            var pick = Pick("jobs", choices.Cpu);
            file.Update(edit => edit.Set("account", pick.Name));
            Console.Error.WriteLine($"account = {pick.Name}");
            return 0;
        }
        var cpu = choices.Cpu.Count > 0 ? Pick("CPU jobs", choices.Cpu) : null;
        var gpu = choices.Gpu.Count > 0 ? Pick("GPU jobs", choices.Gpu) : null;
        file.Update(edit =>
        {
            // No account of a kind: leave the key unset so `account` stays the fallback
            // (an empty value here would block it).
            if (cpu is null) edit.Unset("account.cpu"); else edit.Set("account.cpu", cpu.Name);
            if (gpu is null) edit.Unset("account.gpu"); else edit.Set("account.gpu", gpu.Name);
        });
        Console.Error.WriteLine(cpu is null ? "account.cpu: none available (CPU jobs use `account`)" : $"account.cpu = {cpu.Name}");
        Console.Error.WriteLine(gpu is null ? "account.gpu: none available (GPU jobs use `account`)" : $"account.gpu = {gpu.Name}");
        return 0;
    }

    static SlurmAccount Pick(string label, IReadOnlyList<SlurmAccount> options)
    {
        if (options.Count == 1)
        {
            Console.Error.WriteLine($"One account for {label}: {options[0].Name} (LevelFS {options[0].LevelText})");
            return options[0];
        }
        var names = string.Join(", ", options.Select(o => o.Name));
        if (Console.IsInputRedirected)
            throw new KslurmException($"several accounts can run {label} ({names}) and there is no terminal to ask on",
                "set one directly, e.g. kslurm config account.cpu NAME (or account.gpu / account)");
        Console.Error.WriteLine($"Select an account for {label} (a higher LevelFS means the account is less used):");
        for (var i = 0; i < options.Count; i++)
            Console.Error.WriteLine($"  {i + 1}) {options[i].Name,-24} LevelFS {options[i].LevelText}");
        while (true)
        {
            Console.Error.Write($"Choice [1-{options.Count}, Enter = 1]: ");
            var line = Console.ReadLine();
            if (line is null)
                throw new KslurmException("no choice made (end of input)", "run `kslurm config account -i` again");
            line = line.Trim();
            if (line.Length == 0)
                return options[0];
            if (int.TryParse(line, out var n) && n >= 1 && n <= options.Count)
                return options[n - 1];
            var byName = options.FirstOrDefault(o => o.Name == line);
            if (byName is not null)
                return byName;
            Console.Error.WriteLine($"'{line}' is not one of 1-{options.Count}");
        }
    }
}
