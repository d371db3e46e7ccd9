namespace Kslurm.Completion;

/// <summary>What a word in some position can be, for completion.</summary>
public enum NameKind
{
    None,       // free text: nothing to offer
    Files,      // let the shell complete file names (a command, a script, a path)
    Dirs,       // let the shell complete folders
    Templates,  // job templates (-j)
    Venvs,      // saved venvs
    LiveVenvs,  // venvs already on this node's scratch (kpy activate)
    Images,     // pulled image URIs and aliases
    Aliases,    // image aliases
    Jobs,       // kjupyter session job ids
    Keys,       // kslurm config keys
    Words,      // the fixed words of the position
}

/// <summary>An option: its spellings and the kind of its value (null: a flag).</summary>
public sealed record OptionSpec(string[] Names, NameKind? Value = null);

/// <summary>A positional: what it can be, plus fixed words offered with it.</summary>
public sealed record ArgSpec(NameKind Kind, params string[] Words);

/// <summary>
/// One command of a tool: its options, subcommands (only as the first word after it), and
/// positionals in order (the last repeats). <see cref="AfterDashDash"/> is what follows `--`.
/// </summary>
public sealed class CommandSpec
{
    public List<OptionSpec> Options { get; } = [new(["-h", "--help"])];
    public Dictionary<string, CommandSpec> Subcommands { get; } = new(StringComparer.Ordinal);
    public List<ArgSpec> Args { get; } = [];
    public NameKind AfterDashDash { get; init; } = NameKind.Files;

    public CommandSpec Opt(params string[] names) { Options.Add(new(names)); return this; }
    public CommandSpec Opt(NameKind value, params string[] names) { Options.Add(new(names, value)); return this; }
    public CommandSpec Arg(NameKind kind, params string[] words) { Args.Add(new(kind, words)); return this; }
    public CommandSpec Sub(string name, CommandSpec spec) { Subcommands[name] = spec; return this; }

    public OptionSpec? FindOption(string name) => Options.FirstOrDefault(o => o.Names.Contains(name));
}

/// <summary>The command lines of the six tools, as completion sees them (kept beside each tool's --help).</summary>
public static class CommandTree
{
    public static readonly string[] Tools = ["krun", "kbatch", "kjupyter", "kpy", "kapp", "kslurm"];

    public static CommandSpec? For(string tool) => tool switch
    {
        "krun" => JobTool(),
        "kbatch" => JobTool().Opt("--wait"),
        "kjupyter" => Kjupyter(),
        "kpy" => Kpy(),
        "kapp" => Kapp(),
        "kslurm" => Kslurm(),
        _ => null,
    };

    static CommandSpec Root(CommandSpec s) => s.Opt("-V", "--version");

    // Resource words and the command: the command and its arguments are files as far as we know.
    static CommandSpec JobTool() => Root(new CommandSpec())
        .Opt(NameKind.Templates, "-j", "--job-template")
        .Opt(NameKind.None, "-a", "-A", "--account")
        .Opt(NameKind.Venvs, "--venv")
        .Opt("--no-modules").Opt("-J", "-l", "--list").Opt("-t", "--test").Opt("--json").Opt("--x11")
        .Arg(NameKind.Files);

    static CommandSpec Kjupyter()
    {
        var session = () => new CommandSpec().Arg(NameKind.Jobs).Arg(NameKind.None);
        var kernelSource = (CommandSpec s) => s
            .Opt(NameKind.Venvs, "--venv").Opt(NameKind.Dirs, "--conda").Opt(NameKind.None, "--module").Opt("--purge")
            .Opt(NameKind.Images, "--image").Opt(NameKind.None, "--bind").Opt(NameKind.Files, "--python");
        var kernel = new CommandSpec()
            .Sub("install", kernelSource(new CommandSpec()).Opt(NameKind.None, "--display-name").Opt(NameKind.None, "--env")
                .Opt("--user").Opt(NameKind.Dirs, "--prefix").Opt("--force").Opt("--no-check").Arg(NameKind.None))
            .Sub("list", new CommandSpec().Opt(NameKind.Dirs, "--prefix").Opt("--json").Arg(NameKind.None))
            .Sub("rm", new CommandSpec().Opt("--user").Opt(NameKind.Dirs, "--prefix").Arg(NameKind.None));
        return JobTool().Opt("--lab").Opt("--notebook").Opt("-d", "--detach").Opt("--debug")
            .Sub("list", new CommandSpec().Arg(NameKind.None))
            .Sub("url", new CommandSpec().Arg(NameKind.Jobs, "browser", "server").Arg(NameKind.Jobs).Arg(NameKind.None))
            .Sub("tunnel", session())
            .Sub("log", session().Opt(NameKind.None, "-n", "--lines"))
            .Sub("stop", session())
            .Sub("shell", new CommandSpec { AfterDashDash = NameKind.Files }.Arg(NameKind.Jobs).Arg(NameKind.None))
            .Sub("kernel", kernel);
    }

    static CommandSpec Kpy()
    {
        var one = (NameKind k) => new CommandSpec().Arg(k).Arg(NameKind.None);
        return Root(new CommandSpec())
            .Sub("create", new CommandSpec().Arg(NameKind.None).Arg(NameKind.None).Opt(NameKind.Files, "-r", "--requirements").Opt("--save"))
            .Sub("save", one(NameKind.Venvs).Opt("-f", "--force").Opt("--image"))
            .Sub("load", one(NameKind.Venvs).Opt(NameKind.None, "--as").Opt("--no-modules").Opt("--all-nodes").Opt("--unpack"))
            .Sub("activate", one(NameKind.LiveVenvs).Opt("--no-modules"))
            .Sub("deactivate", one(NameKind.LiveVenvs))
            .Sub("list", one(NameKind.None))
            .Sub("info", one(NameKind.Venvs))
            .Sub("rm", one(NameKind.Venvs))
            .Sub("export", one(NameKind.Venvs).Opt(NameKind.Dirs, "-p", "--path"))
            .Sub("exec", new CommandSpec().Opt("--no-modules").Opt("--all-nodes").Arg(NameKind.Venvs).Arg(NameKind.Files))
            .Sub("freeze", one(NameKind.Venvs).Opt("--exact"))
            .Sub("wheels", one(NameKind.None).Opt("--json"))
            .Sub("bash", one(NameKind.None))
            .Sub("zsh", one(NameKind.None));
    }

    static CommandSpec Kapp()
    {
        var one = (NameKind k) => new CommandSpec().Arg(k).Arg(NameKind.None);
        var run = () => new CommandSpec().Arg(NameKind.Images).Arg(NameKind.Files);
        return Root(new CommandSpec())
            .Sub("pull", one(NameKind.None).Opt(NameKind.None, "-a", "--alias").Opt("-f", "--force").Opt(NameKind.None, "--mem").Opt(NameKind.None, "--time"))
            .Sub("path", one(NameKind.Images).Opt("-q", "--quiet"))
            .Sub("image", new CommandSpec().Sub("list", one(NameKind.None)).Sub("rm", one(NameKind.Images)))
            .Sub("alias", new CommandSpec().Sub("list", one(NameKind.None)).Sub("rm", one(NameKind.Aliases)))
            .Sub("purge", new CommandSpec().Sub("dangling", one(NameKind.None).Opt("-d", "--dry")))
            .Sub("run", run()).Sub("shell", run()).Sub("exec", run())
            .Sub("snakemake", one(NameKind.None));
    }

    static CommandSpec Kslurm()
    {
        var update = () => new CommandSpec().Opt(NameKind.None, "--version").Opt("--check").Arg(NameKind.None);
        var root = Root(new CommandSpec())
            .Sub("config", new CommandSpec().Opt("-l", "--list").Opt("-i", "--interactive").Opt("--site").Opt(NameKind.Keys, "--unset")
                .Arg(NameKind.Keys).Arg(NameKind.None))
            .Sub("self", new CommandSpec().Sub("update", update()).Sub("uninstall", new CommandSpec().Arg(NameKind.None)))
            .Sub("update", update())
            .Sub("completions", new CommandSpec().Arg(NameKind.Words, "bash", "zsh", "fish").Arg(NameKind.None));
        foreach (var t in Tools[..^1])
            root.Sub(t, For(t)!);
        return root;
    }
}
