using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Host;

namespace Kslurm.Tools;

/// <summary>`kslurm config`: read and write settings in the user file (or the site file with --site).</summary>
static class ConfigCommand
{
    const string Usage = "usage: kslurm config KEY [VALUE] | --list | --unset KEY | account -i   [--site]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["-l|--list", "-i|--interactive", "--site"], options: ["--unset"]);
        if (a.Help)
        {
            Console.Write(Help);
            return 0;
        }
        var settings = Settings.Load();
        var site = a.Has("--site");
        var file = site ? settings.Site : settings.User;

        if (a.Has("--list"))
        {
            a.NoMorePositionals(0, Usage);
            return List(settings, site);
        }
        if (a.Value("--unset") is { } unsetKey)
        {
            a.NoMorePositionals(0, Usage);
            var removed = false;
            file.Update(edit => removed = edit.Unset(unsetKey));
            if (!removed)
                throw new KslurmException($"{unsetKey} is not set in {Paths.Pretty(file.Path)}");
            return 0;
        }
        if (a.Positionals.Count == 0)
            throw new UsageException("missing KEY", "run `kslurm config --list` to see your settings");
        a.NoMorePositionals(2, Usage);
        var key = a.Positionals[0];
        ConfigTree.Split(key); // validates

        if (a.Has("--interactive"))
        {
            if (key != "account" || a.Positionals.Count > 1)
                throw new UsageException($"{key} cannot be set interactively", "only `kslurm config account -i` is interactive");
            return AccountPicker.Run(file);
        }
        if (a.Positionals.Count == 2)
            return Set(settings, file, key, a.Positionals[1]);
        return Get(settings, key, site);
    }

    static int Get(Settings settings, string key, bool siteOnly)
    {
        var root = siteOnly ? settings.Site.Root : null;
        var value = siteOnly ? settings.GetSite(key) : settings.Get(key);
        var children = root is null
            ? settings.List().Where(e => e.Key.StartsWith(key + ".", StringComparison.Ordinal)).Select(e => (e.Key, e.Value))
            : ConfigTree.Children(root, key);
        var found = false;
        if (value is not null)
        {
            Console.WriteLine(value);
            found = true;
        }
        foreach (var (k, v) in children)
        {
            Console.WriteLine($"{k}: {v}");
            found = true;
        }
        if (!found)
            throw new KslurmException($"{key} is not set", $"set it with: kslurm config {key} VALUE");
        return 0;
    }

    static int Set(Settings settings, ConfigFile file, string key, string value)
    {
        if (value.Length == 0)
            throw new UsageException($"empty value for {key}", $"to remove it, run: kslurm config --unset {key}");
        if (key == "pipdir")
            value = CheckPipdir(value);
        if (!Settings.Known.Contains(key) && !key.StartsWith("templates.", StringComparison.Ordinal))
            Output.Warn("kslurm", $"'{key}' is not a key kslurm uses (known: {string.Join(", ", Settings.Known)}, templates.NAME.*); stored anyway");
        file.Update(edit => edit.Set(key, value));
        if (key == "account")
        {
            // account.cpu/account.gpu win over account; say so instead of silently having no effect.
            foreach (var sub in new[] { "account.cpu", "account.gpu" })
                if (settings.Get(sub) is { } v)
                    Output.Note("kslurm", $"note: {sub} = {v} still applies to {sub[^3..].ToUpperInvariant()} jobs; remove it with `kslurm config --unset {sub}`");
        }
        return 0;
    }

    /// <summary>pipdir is permanent storage shared by jobs: store it absolute, and create it if missing.</summary>
    static string CheckPipdir(string value)
    {
        if (value.StartsWith("~/", StringComparison.Ordinal))
            value = Path.Combine(Paths.Home, value[2..]);
        var full = Path.GetFullPath(value);
        if (File.Exists(full))
            throw new KslurmException($"pipdir {full} is a file, not a folder", "choose a folder in project or permanent storage");
        try
        {
            Directory.CreateDirectory(full);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot create pipdir {full}: {e.Message}", "choose a folder you can write to, in project or permanent storage");
        }
        return full;
    }

    static int List(Settings settings, bool siteOnly)
    {
        if (siteOnly)
        {
            foreach (var (k, v) in ConfigTree.Flatten(settings.Site.Root))
                Console.WriteLine($"{k}: {v}");
            return 0;
        }
        foreach (var (k, v, fromSite) in settings.List())
            Console.WriteLine(fromSite ? $"{k}: {v}  (site)" : $"{k}: {v}");
        return 0;
    }

    static string Help => $"""
        {Usage}

          kslurm config KEY            print KEY's value, then its children as `KEY.child: value`
          kslurm config KEY VALUE      set KEY
          kslurm config --unset KEY    remove KEY's value
          kslurm config --list         every setting in effect; `(site)` marks values from the site file
          kslurm config account -i     choose CPU and GPU accounts among yours (sacctmgr + sshare)
          --site                       read or write the site file instead of yours

        Keys:
          account                      account for jobs (used when account.cpu / account.gpu are unset)
          account.cpu, account.gpu     accounts for CPU-only and GPU jobs
          pipdir                       permanent folder for saved venvs, wheels and container images
          jupyter.login_host           the login node's name in kjupyter's ssh line (as users reach it)
          jupyter.login_user           the user name in that line, when it is not the cluster's
          templates.NAME.{"{cpus,mem,time,gpu,account,extra}"}   your own job templates (-j NAME)

        Files:
          user   {Paths.Pretty(Paths.UserConfigFile)}
          site   {Paths.Pretty(Paths.SiteConfigFile)}  (KSLURM_SITE_CONFIG overrides)

        """;
}
