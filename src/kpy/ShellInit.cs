using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Host;
using Kslurm.Shell;

namespace Kslurm.Tools;

/// <summary>
/// Shell integration. `kpy bash` prints the line for ~/.bashrc; that line runs `kpy init bash`,
/// which prints functions for the shell to define: `kpy` (activates in the current shell),
/// `pip` (wheelhouse, --no-index in jobs) and the prompt refresh. Nothing here calls Slurm:
/// "in a job" is SLURM_JOB_ID, and pipdir is read once, now, from the settings files.
/// </summary>
static class ShellInit
{
    public static int PrintLine(string shell, string[] rest)
    {
        if (rest.Length > 0)
            throw new UsageException($"unexpected argument '{rest[0]}'", $"usage: kpy {shell}");
        var self = Paths.Sibling("kpy", "kpy");
        var rc = shell == "zsh" ? "~/.zshrc" : "~/.bashrc";
        Output.Note("kpy", $"add this line to {rc}:");
        Console.Out.Write($"[ -x {ShellQuote.Quote(self)} ] && eval \"$({ShellQuote.Quote(self)} init {shell})\"\n");
        return 0;
    }

    public static int Print(string[] rest)
    {
        var shell = rest.Length == 1 ? rest[0] : throw new UsageException("usage: kpy init bash|zsh");
        if (shell is not ("bash" or "zsh"))
            throw new UsageException($"unsupported shell '{shell}'", "kpy integrates with bash and zsh");
        string wheels = "";
        try
        {
            if (Settings.Load("kpy").Get("pipdir") is { } pipdir)
                wheels = Path.Combine(pipdir, "wheels");
        }
        catch (KslurmException e)
        {
            // A broken settings file must not break every new shell: say it, define the functions anyway.
            Console.Error.WriteLine($"kpy: warning: {e.Message}");
        }
        Console.Out.Write(Snippet(Paths.Sibling("kpy", "kpy"), wheels, shell));
        return 0;
    }

    static string Snippet(string kpy, string wheels, string shell) => $$$"""
        # kpy shell integration (kslurm {{{BuildInfo.Version}}}), from: kpy init
        __kpy_bin={{{ShellQuote.Quote(kpy)}}}
        __kpy_wheels={{{ShellQuote.Quote(wheels)}}}

        kpy() {
          case "${1-}" in
            load|activate|create|save)
              # These print a folder to activate (save: when it renamed the active venv), then
              # (load/activate) Lmod's own shell code for the modules it was saved with.
              local __kpy_out __kpy_dir
              __kpy_out="$(KSLURM_KPY_SHELL={{{shell}}} "$__kpy_bin" "$@")" || return $?
              __kpy_dir="${__kpy_out%%
        *}"
              if [ -n "$__kpy_dir" ]; then
                if [ -n "${VIRTUAL_ENV-}" ] && command -v deactivate >/dev/null 2>&1; then deactivate; fi
                if [ "$__kpy_out" != "$__kpy_dir" ]; then eval "${__kpy_out#*
        }" || return $?; fi
                . "$__kpy_dir/bin/activate" || return $?
              fi
              __kpy_prompt ;;
            *)
              "$__kpy_bin" "$@" ;;
          esac
        }

        # pip: inside a job add --no-index (compute nodes have no internet); with a pipdir, look in
        # its wheelhouse too, and let `pip wheel` / `pip download` write there by default.
        pip() {
          local __kpy_sub="${1-}" __kpy_rc __kpy_a __kpy_dir_given=0
          local -a __kpy_extra
          __kpy_extra=()
          case "$__kpy_sub" in
            install|download|wheel)
              if [ -n "${SLURM_JOB_ID:-${SLURM_JOBID-}}" ]; then __kpy_extra+=(--no-index); fi
              if [ -n "$__kpy_wheels" ]; then
                mkdir -p "$__kpy_wheels" 2>/dev/null
                __kpy_extra+=(--find-links "$__kpy_wheels")
                for __kpy_a in "$@"; do
                  case "$__kpy_a" in -w|--wheel-dir|--wheel-dir=*|-w?*|-d|--dest|--dest=*|-d?*) __kpy_dir_given=1 ;; esac
                done
                if [ "$__kpy_dir_given" = 0 ]; then
                  case "$__kpy_sub" in
                    wheel) __kpy_extra+=(--wheel-dir "$__kpy_wheels") ;;
                    download) __kpy_extra+=(--dest "$__kpy_wheels") ;;
                  esac
                fi
              fi
              shift
              command pip "$__kpy_sub" ${__kpy_extra[@]+"${__kpy_extra[@]}"} "$@" ;;
            *)
              command pip "$@" ;;
          esac
          __kpy_rc=$?
          case "$__kpy_sub" in install|uninstall) __kpy_prompt ;; esac
          return $__kpy_rc
        }

        # The prompt shows *NAME once the venv differs from its saved copy.
        __kpy_prompt() {
          [ -n "${VIRTUAL_ENV-}" ] && [ -z "${VIRTUAL_ENV_DISABLE_PROMPT-}" ] || return 0
          local __kpy_p
          __kpy_p="$("$__kpy_bin" _prompt 2>/dev/null)" || return 0
          [ -n "$__kpy_p" ] && PS1="($__kpy_p) ${_OLD_VIRTUAL_PS1-}"
          return 0
        }

        # A shell started by `kpy exec NAME bash` (krun --venv) activates the venv it was given.
        if [ -n "${KSLURM_KPY_ACTIVATE-}" ] && [ -f "$KSLURM_KPY_ACTIVATE/bin/activate" ]; then
          . "$KSLURM_KPY_ACTIVATE/bin/activate" && __kpy_prompt
        fi
        unset KSLURM_KPY_ACTIVATE

        """;
}
