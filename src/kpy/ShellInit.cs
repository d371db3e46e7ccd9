using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Host;
using Kslurm.Shell;

namespace Kslurm.Tools;

/// <summary>
/// Shell integration. `kpy bash` prints the line for ~/.bashrc; on the first `kpy` or `pip` that
/// line runs `kpy init bash`, which prints functions for the shell to define: `kpy` (activates in the current shell),
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
        Console.Out.Write(Line(self, shell) + "\n");
        return 0;
    }

    /// <summary>
    /// The line runs no process when a shell starts (a new shell costs nothing, as with no line):
    /// it defines `kpy` and `pip` as stubs that, on first use, replace themselves by what
    /// `kpy init` prints and run again. Only a shell started to activate a venv (`kpy exec NAME
    /// bash`) loads it at once. The settings (pipdir) are read then, so they are always current.
    /// </summary>
    internal static string Line(string kpy, string shell)
    {
        var q = ShellQuote.Quote(kpy);
        return $"[ -x {q} ] && __kpy_init() {{ unset -f __kpy_init kpy pip; eval \"$({q} init {shell})\"; }} "
            + "&& kpy() { __kpy_init; kpy \"$@\"; } && pip() { __kpy_init; pip \"$@\"; } "
            + "&& { [ -z \"${KSLURM_KPY_ACTIVATE-}\" ] || __kpy_init; }";
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
            deactivate)
              # leave the venv here, then the binary unmounts it if it was mounted from its image
              local __kpy_v="${VIRTUAL_ENV-}"
              if [ -n "$__kpy_v" ] && { [ -z "${2-}" ] || [ "${__kpy_v##*/}" = "$2" ]; } && command -v deactivate >/dev/null 2>&1; then deactivate; fi
              VIRTUAL_ENV="$__kpy_v" KSLURM_KPY_SHELL={{{shell}}} "$__kpy_bin" "$@" ;;
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
          case "$__kpy_sub" in install|uninstall)
            # a venv mounted from its image is read-only: say so, not pip's OSError
            if [ -n "${VIRTUAL_ENV-}" ] && [ -L "$VIRTUAL_ENV" ] && [ ! -w "$VIRTUAL_ENV/" ]; then
              case " $* " in
                *" -t"*|*" --target"*|*" --prefix"*|*" --root"*|*" --user "*|*" --dry-run "*) ;;
                *) printf '%s\n' "kpy: error: pip cannot change ${VIRTUAL_ENV##*/}: it is mounted read-only from its image ($VIRTUAL_ENV)" \
                     "kpy: hint: for a copy you can change: kpy load --unpack ${VIRTUAL_ENV##*/}" >&2
                   return 1 ;;
              esac
            fi ;;
          esac
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
