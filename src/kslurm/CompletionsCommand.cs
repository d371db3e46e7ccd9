using Kslurm.Cli;
using Kslurm.Completion;
using Kslurm.Config;

namespace Kslurm.Tools;

/// <summary>`kslurm completions bash|zsh|fish`, and the hidden `kslurm _complete` the scripts call.</summary>
static class CompletionsCommand
{
    const string Usage = "usage: kslurm completions bash|zsh|fish";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        if (a.Help)
        {
            Console.Write(Help);
            return 0;
        }
        if (a.Positionals.Count == 0)
            throw new UsageException("missing shell (bash, zsh or fish)", Usage);
        a.NoMorePositionals(1, Usage);
        var script = CompletionScripts.For(a.Positionals[0])
            ?? throw new UsageException($"no completions for '{a.Positionals[0]}' (bash, zsh or fish)", Usage);
        Console.Write(script);
        return 0;
    }

    /// <summary>
    /// `_complete bash BREAKS LINE` (COMP_WORDBREAKS, COMP_LINE up to the cursor),
    /// `_complete words -- TOOL WORD... PARTIAL` (zsh, fish), `_complete templates|venvs|live-venvs|images|aliases|jobs|keys` (the names alone).
    /// Exit 3/4: complete file/folder names; never an error message (it would land in the prompt).
    /// </summary>
    public static int Complete(string[] argv)
    {
        try
        {
            CompletionReply c;
            string? breaks = null, partial = null;
            if (argv is ["bash", var wb, var line])
            {
                var words = Completer.SplitLine(line);
                (breaks, partial) = (wb, words[^1]);
                c = Completer.Complete(words, Names);
            }
            else if (argv is ["words", "--", .. var words])
                c = Completer.Complete(words, Names);
            else if (argv is [var kind] && Kind(kind) is { } k)
                c = new([.. Names(k)]);
            else
                return 2;
            foreach (var n in c.Candidates)
                Console.WriteLine(breaks is null ? n : Completer.BashTail(n, partial!, breaks));
            return c.Fallback switch { NameKind.Files => 3, NameKind.Dirs => 4, _ => 0 };
        }
        catch (Exception)
        {
            return 1; // completion must never print errors into the user's prompt
        }
    }

    static NameKind? Kind(string what) => what switch
    {
        "templates" => NameKind.Templates,
        "venvs" => NameKind.Venvs,
        "live-venvs" => NameKind.LiveVenvs,
        "images" => NameKind.Images,
        "aliases" => NameKind.Aliases,
        "jobs" => NameKind.Jobs,
        "keys" => NameKind.Keys,
        _ => null,
    };

    static IEnumerable<string> Names(NameKind kind) => StoreNames.List(kind, Settings.Known);

    static string Help => $"""
        {Usage}

        Prints a script that completes the subcommands and options of all six programs, and the
        names you would otherwise look up: templates after -j, saved venvs (kpy load|rm|info|exec|
        export, --venv), images and aliases (kapp run|exec|shell|path|image rm), Jupyter session
        job ids (kjupyter url|tunnel|log|stop|shell), setting keys (kslurm config). Names come from
        local files only: no Slurm command, no network.

          bash   in ~/.bashrc:   source <(kslurm completions bash)
          zsh    in ~/.zshrc:    source <(kslurm completions zsh)
          fish:                  kslurm completions fish > ~/.config/fish/conf.d/kslurm.fish

        """;
}
