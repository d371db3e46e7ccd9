namespace Kslurm.Completion;

/// <summary>
/// The scripts `kslurm completions SHELL` prints. Each only hands the command line to the hidden
/// `kslurm _complete` and shows its answer; exit status 3 means "complete file names here", 4
/// "folders" (a command after the resources, `--path DIR`).
/// </summary>
public static class CompletionScripts
{
    public static string? For(string shell) => shell switch
    {
        "bash" => Bash,
        "zsh" => Zsh,
        "fish" => Fish,
        _ => null,
    };

    const string Tools = "krun kbatch kjupyter kpy kapp kslurm";

    const string Bash = $$"""
        # kslurm completions for bash. In ~/.bashrc:  source <(kslurm completions bash)
        _kslurm_complete() {
            local out cur="${COMP_WORDS[COMP_CWORD]}"
            out=$(kslurm _complete bash "$COMP_WORDBREAKS" "${COMP_LINE:0:COMP_POINT}" 2>/dev/null)
            case $? in
                0) COMPREPLY=(); [ -n "$out" ] && mapfile -t COMPREPLY <<< "$out" ;;
                3) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -f -- "$cur") ;;
                4) compopt -o filenames 2>/dev/null; mapfile -t COMPREPLY < <(compgen -d -- "$cur") ;;
                *) COMPREPLY=() ;;
            esac
        }
        complete -F _kslurm_complete {{Tools}}

        """;

    const string Zsh = $$"""
        # kslurm completions for zsh. In ~/.zshrc:  source <(kslurm completions zsh)
        (( $+functions[compdef] )) || { autoload -Uz compinit && compinit }
        _kslurm_complete() {
            local out
            out=$(kslurm _complete words -- "${(@)words[1,CURRENT-1]}" "$PREFIX" 2>/dev/null)
            case $? in
                0) [[ -n $out ]] && compadd -- "${(@f)out}" ;;
                3) _files ;;
                4) _files -/ ;;
            esac
        }
        compdef _kslurm_complete {{Tools}}

        """;

    const string Fish = $$"""
        # kslurm completions for fish:  kslurm completions fish > ~/.config/fish/conf.d/kslurm.fish
        function __kslurm_complete
            set -l out (kslurm _complete words -- (commandline -opc) (commandline -ct) 2>/dev/null)
            switch $status
                case 0
                    printf '%s\n' $out
                case 3
                    __fish_complete_path (commandline -ct)
                case 4
                    __fish_complete_directories (commandline -ct)
            end
        end
        for tool in {{Tools}}
            complete -c $tool -e
            complete -c $tool -f -a '(__kslurm_complete)'
        end

        """;
}
