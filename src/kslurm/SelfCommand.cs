using Kslurm.Cli;
using Kslurm.Host;
using Kslurm.Install;

namespace Kslurm.Tools;

/// <summary>`kslurm self update|uninstall` (and the old tool's `kslurm update`).</summary>
static class SelfCommand
{
    const string Usage = "usage: kslurm self update [--version V] [--check] | kslurm self uninstall";

    /// <summary>`--check` exit code when a newer release exists (as `dnf check-update`); 0 = up to date, 1 = could not tell.</summary>
    const int NewerExists = 100;

    public static int Run(string[] argv)
    {
        if (argv.Length == 0 || argv[0] is "-h" or "--help")
        {
            if (argv.Length == 0)
                throw new UsageException("missing command (update or uninstall)", Usage);
            Console.Write(Help);
            return 0;
        }
        return argv[0] switch
        {
            "update" => Update(argv[1..]),
            "uninstall" => Uninstall(argv[1..]),
            var other => throw new UsageException($"unknown command 'self {other}'", Usage),
        };
    }

    public static int Update(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--check"], options: ["--version"]);
        if (a.Help)
        {
            Console.Write(Help);
            return 0;
        }
        a.NoMorePositionals(0, Usage);
        var wanted = a.Value("--version");
        if (wanted is not null && !ReleaseVersion.IsValid(wanted))
            throw new UsageException($"invalid version '{wanted}'", "a version looks like 0.7.1");
        if (wanted is not null && a.Has("--check"))
            throw new UsageException("--check compares with the latest release; it takes no --version", Usage);

        var inst = Installation.Current();
        var installed = inst.Version;
        var target = wanted ?? SelfUpdate.Latest(inst);
        var newer = ReleaseVersion.Compare(target, installed) > 0;
        if (a.Has("--check"))
        {
            Console.WriteLine(newer
                ? $"kslurm {target} is available (installed: {installed}); run `kslurm self update`"
                : $"kslurm {installed} is up to date (latest release: {target})");
            return newer ? NewerExists : 0;
        }
        // Without --version only a newer release installs; an explicit one always does (downgrade, repair).
        if (wanted is null && !newer)
        {
            Console.WriteLine($"kslurm {installed} is up to date (latest release: {target})");
            return 0;
        }
        SelfUpdate.Install(inst, target, m => Output.Note("kslurm", m));
        Console.WriteLine($"kslurm {installed} -> {target} in {Paths.Pretty(inst.BinDir)}");
        return 0;
    }

    static int Uninstall(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        if (a.Help)
        {
            Console.Write(Help);
            return 0;
        }
        a.NoMorePositionals(0, Usage);
        var inst = Installation.Current();
        var version = inst.Version;
        var outcome = SelfUninstall.Run(inst);
        foreach (var r in outcome.Removed)
            Console.WriteLine($"removed {Paths.Pretty(r)}");
        foreach (var l in outcome.Left)
            Console.WriteLine($"left    {l}");
        Output.Note("kslurm", $"kslurm {version} is uninstalled; remove the PATH line (or `module load kslurm`) from your ~/.bashrc");
        return 0;
    }

    static string Help => $"""
        {Usage}

          self update              install the latest release over this one, if it is newer
          self update --version V  install release V (also an older one, or the same to repair)
          self update --check      only say whether a newer release exists: exit 0 no, 100 yes, 1 could not tell
          self uninstall           remove the programs (and a shared install's modulefiles); settings,
                                   saved venvs and images stay
          update                   the same as `self update`

        Releases come from the URL the installer used (recorded in BINDIR/{InstallRecord.FileName});
        KSLURM_INSTALL_URL overrides it. The download is checked against its sha256 and the six
        programs are replaced together; the site settings file is never touched.

        """;
}
