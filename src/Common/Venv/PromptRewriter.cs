using System.Text.RegularExpressions;

namespace Kslurm.Venv;

/// <summary>Which activation script a file is; decides the prompt rules and the quoting of bare paths.</summary>
internal enum ActivatorKind { None, Bash, Csh, Fish, Nu, PowerShell, Python }

/// <summary>
/// Sets the prompt name of a venv (kpy load X --as Y): the "prompt" key of pyvenv.cfg and the
/// places where each known activation template bakes the prompt in. The templates covered are
/// CPython venv 3.8-3.14 (bash, csh, fish; Activate.ps1 reads pyvenv.cfg) and virtualenv 20.x
/// (bash, csh, fish, nushell, PowerShell), with and without an explicit prompt. Each rule
/// matches one line shape and replaces the whole prompt literal, whatever its old value, so the
/// result does not depend on knowing the old name; the old name is only a fallback for unknown
/// templates ("(old) " becomes "(new) ").
/// </summary>
internal static partial class PromptRewriter
{
    // A quoted literal without expansions, or (for shells) a bare word.
    const string Quoted = @"""[^""$`\n]*""|'[^'\n]*'";
    const string QuotedOrBare = @"""[^""$`\n]*""|'[^'\n]*'|[^\s""'$`();|&<>]+";

    // --- bash/zsh -------------------------------------------------------------------------
    // venv <= 3.12, virtualenv < 20.21:  PS1='(P) '"${PS1:-}"   PS1="(P) ${PS1:-}"   PS1="() ${PS1-}"
    [GeneratedRegex("""^(?<a>[ \t]*PS1=(?<q>['"])\()(?<p>[^'"$`\n]*)(?<b>\) )""", RegexOptions.Multiline)]
    private static partial Regex BashPs1Paren();
    // venv >= 3.13:  PS1="("'P'") ${PS1:-}"  or  PS1="("P") ${PS1:-}"
    [GeneratedRegex("""^(?<a>[ \t]*PS1="\(")(?<v>""" + QuotedOrBare + """)(?<b>"\) )""", RegexOptions.Multiline)]
    private static partial Regex BashPs1Split();
    // VIRTUAL_ENV_PROMPT='(P) '  /  VIRTUAL_ENV_PROMPT=P  (not $(basename ...))
    [GeneratedRegex("""^(?<a>[ \t]*(?:export[ \t]+)?VIRTUAL_ENV_PROMPT=)(?<v>""" + QuotedOrBare + """)(?<b>[ \t]*;?[ \t]*)$""", RegexOptions.Multiline)]
    private static partial Regex BashPromptVar();
    // virtualenv:  if [ "xP" != x ]   /   if [ "x"'P' != x ]
    [GeneratedRegex("""(?<a>\[[ \t]*"x)(?<p>[^"$`\n]*)(?<b>"[ \t]*!=[ \t]*x[ \t]*\])""")]
    private static partial Regex BashTestInline();
    [GeneratedRegex("""(?<a>\[[ \t]*"x")(?<v>""" + QuotedOrBare + """)(?<b>[ \t]*!=[ \t]*x[ \t]*\])""")]
    private static partial Regex BashTestSplit();

    // --- csh --------------------------------------------------------------------------------
    // venv:  set prompt = '(P) '"$prompt"   /   set prompt = "(P) $prompt:q"
    [GeneratedRegex("""^(?<a>[ \t]*set prompt = (?<q>['"])\()(?<p>[^'"$`\n]*)(?<b>\) )""", RegexOptions.Multiline)]
    private static partial Regex CshPrompt();
    [GeneratedRegex("""^(?<a>[ \t]*setenv VIRTUAL_ENV_PROMPT[ \t]+)(?<v>""" + QuotedOrBare + """)(?<b>[ \t]*)$""", RegexOptions.Multiline)]
    private static partial Regex CshPromptVar();
    // virtualenv:  if ('P' != "") then   /   set env_name = '(P) '
    [GeneratedRegex("""^(?<a>[ \t]*if[ \t]*\()(?<v>""" + Quoted + """)(?<b>[ \t]*!=[ \t]*""[ \t]*\)[ \t]*then)""", RegexOptions.Multiline)]
    private static partial Regex CshIf();
    [GeneratedRegex("""^(?<a>[ \t]*set env_name = (?<q>['"])\()(?<p>[^'"$`\n]*)(?<b>\) \k<q>)""", RegexOptions.Multiline)]
    private static partial Regex CshEnvName();

    // --- fish -------------------------------------------------------------------------------
    [GeneratedRegex("""^(?<a>[ \t]*set -gx VIRTUAL_ENV_PROMPT[ \t]+)(?<v>""" + QuotedOrBare + """)(?<b>[ \t]*)$""", RegexOptions.Multiline)]
    private static partial Regex FishPromptVar();
    // venv <= 3.12:  printf "%s%s%s" (set_color 4B8BBE) '(P) ' (set_color normal)
    // venv >= 3.13:  builtin printf "%s(%s)%s " (builtin set_color 4B8BBE) P (builtin set_color normal)
    [GeneratedRegex("""(?<a>printf "%s(?:%s|\(%s\))%s ?" \((?:builtin )?set_color [^)\n]*\) )(?<v>""" + QuotedOrBare + """)(?<b> \()""")]
    private static partial Regex FishPrintfColor();
    // virtualenv:  if test -n 'P'   /   printf '(%s) ' 'P'
    [GeneratedRegex("""^(?<a>[ \t]*if test -n[ \t]+)(?<v>""" + Quoted + """)(?<b>[ \t]*)$""", RegexOptions.Multiline)]
    private static partial Regex FishIf();
    [GeneratedRegex("""^(?<a>[ \t]*(?:builtin )?printf '\(%s\) '[ \t]+)(?<v>""" + Quoted + """)(?<b>[ \t]*)$""", RegexOptions.Multiline)]
    private static partial Regex FishPrintfArg();

    // --- nushell (virtualenv) -----------------------------------------------------------------
    [GeneratedRegex("""(?<a>if \()(?<v>""" + Quoted + """)(?<b> == ''\))""")]
    private static partial Regex NuIfEmpty();
    [GeneratedRegex("""(?<a>if \()(?<v>""" + Quoted + """)(?<b> \| is-empty\))""")]
    private static partial Regex NuIsEmpty();
    [GeneratedRegex("""^(?<a>[ \t]*)(?<v>'\([^'\n]*\) ')(?<b>[ \t]*)$""", RegexOptions.Multiline)]
    private static partial Regex NuParenLine();

    // --- PowerShell (virtualenv) ---------------------------------------------------------------
    [GeneratedRegex("""(?<a>if \()(?<v>""" + Quoted + """)(?<b> -ne ""\))""")]
    private static partial Regex PsIf();
    [GeneratedRegex("""(?<a>\()(?<v>"\([^"$`\n]*\) "|'\([^'\n]*\) ')(?<b> \+ \$previous_prompt_value\))""")]
    private static partial Regex PsPrefix();
    [GeneratedRegex("""^(?<a>[ \t]*\$env:VIRTUAL_ENV_PROMPT = )(?<v>""" + Quoted + """)(?<b>[ \t]*)$""", RegexOptions.Multiline)]
    private static partial Regex PsPromptVar();

    // --- pyvenv.cfg -----------------------------------------------------------------------------
    [GeneratedRegex("""^(?<a>[ \t]*prompt[ \t]*=[ \t]*)(?<v>[^\r\n]*?)(?<b>[ \t]*\r?)$""", RegexOptions.Multiline)]
    private static partial Regex CfgPrompt();

    /// <summary>The activator text with its prompt set to <paramref name="name"/>.</summary>
    public static string RewriteActivator(string text, ActivatorKind kind, string name, string? oldName)
    {
        switch (kind)
        {
            case ActivatorKind.Bash:
                text = ReplaceInner(BashPs1Paren(), text, name);
                text = ReplaceLiteral(BashPs1Split(), text, name, ShellSyntax.Sh);
                text = ReplaceLiteral(BashPromptVar(), text, name, ShellSyntax.Sh);
                text = ReplaceInner(BashTestInline(), text, name);
                text = ReplaceLiteral(BashTestSplit(), text, name, ShellSyntax.Sh);
                break;
            case ActivatorKind.Csh:
                text = ReplaceInner(CshPrompt(), text, name);
                text = ReplaceLiteral(CshPromptVar(), text, name, ShellSyntax.Csh);
                text = ReplaceLiteral(CshIf(), text, name, ShellSyntax.Csh);
                text = ReplaceInner(CshEnvName(), text, name);
                break;
            case ActivatorKind.Fish:
                text = ReplaceLiteral(FishPromptVar(), text, name, ShellSyntax.Fish);
                text = ReplaceLiteral(FishPrintfColor(), text, name, ShellSyntax.Fish);
                text = ReplaceLiteral(FishIf(), text, name, ShellSyntax.Fish);
                text = ReplaceLiteral(FishPrintfArg(), text, name, ShellSyntax.Fish);
                break;
            case ActivatorKind.Nu:
                text = ReplaceLiteral(NuIfEmpty(), text, name, ShellSyntax.None);
                text = ReplaceLiteral(NuParenLine(), text, name, ShellSyntax.None);
                text = RewriteNuIsEmpty(text, name);
                break;
            case ActivatorKind.PowerShell:
                text = ReplaceLiteral(PsIf(), text, name, ShellSyntax.None);
                text = ReplaceLiteral(PsPrefix(), text, name, ShellSyntax.None);
                text = ReplaceLiteral(PsPromptVar(), text, name, ShellSyntax.None);
                break;
            default:
                return text;
        }
        if (!string.IsNullOrEmpty(oldName) && oldName != name)
            text = text.Replace("(" + oldName + ") ", "(" + name + ") ", StringComparison.Ordinal);
        return text;
    }

    /// <summary>pyvenv.cfg with "prompt = name" (quoted like the old value: venv writes 'name', virtualenv bare), added if absent.</summary>
    public static string RewriteConfig(string text, string name)
    {
        var found = false;
        text = CfgPrompt().Replace(text, m =>
        {
            found = true;
            var old = m.Groups["v"].Value;
            var value = old.Length >= 2 && (old[0] is '\'' or '"') && old[^1] == old[0] ? old[0] + name + old[0] : name;
            return m.Groups["a"].Value + value + m.Groups["b"].Value;
        }, 1);
        if (found)
            return text;
        var newline = text.Contains("\r\n", StringComparison.Ordinal) ? "\r\n" : "\n";
        if (text.Length > 0 && !text.EndsWith('\n'))
            text += newline;
        return text + "prompt = " + name + newline;
    }

    /// <summary>Rules whose group p is the bare prompt inside a literal that keeps its own quotes.</summary>
    static string ReplaceInner(Regex rule, string text, string name)
        => rule.Replace(text, m => m.Groups["a"].Value + name + m.Groups["b"].Value);

    /// <summary>Rules whose group v is a whole literal: requoted in the same style; "(P) " keeps its parentheses.</summary>
    static string ReplaceLiteral(Regex rule, string text, string name, ShellSyntax shell)
        => rule.Replace(text, m => m.Groups["a"].Value + Requote(m.Groups["v"].Value, name, shell) + m.Groups["b"].Value);

    static string Requote(string literal, string name, ShellSyntax shell)
    {
        var quote = literal.Length >= 2 && (literal[0] is '\'' or '"') && literal[^1] == literal[0] ? literal[0] : '\0';
        var inner = quote == '\0' ? literal : literal[1..^1];
        var value = inner.StartsWith('(') && inner.EndsWith(") ", StringComparison.Ordinal) ? "(" + name + ") " : name;
        if (quote != '\0')
            return quote + value + quote;
        return shell != ShellSyntax.None && PathRewriter.NeedsShellQuoting(value) ? "'" + value + "'" : value;
    }

    /// <summary>
    /// virtualenv's newer nushell template names the prompt twice: in "if (P | is-empty) {" and
    /// alone on the line of the else branch that follows; both become the new literal.
    /// </summary>
    static string RewriteNuIsEmpty(string text, string name)
    {
        var m = NuIsEmpty().Match(text);
        if (!m.Success)
            return text;
        var literal = m.Groups["v"].Value;
        var replacement = Requote(literal, name, ShellSyntax.None);
        var head = text[..m.Groups["v"].Index] + replacement + text[(m.Groups["v"].Index + literal.Length)..(m.Index + m.Length)];
        var rest = text[(m.Index + m.Length)..];
        var lines = rest.Split('\n');
        for (var i = 0; i < lines.Length; i++)
            if (lines[i].Trim() == literal)
            {
                lines[i] = lines[i].Replace(literal, replacement, StringComparison.Ordinal);
                break;
            }
        return head + string.Join('\n', lines);
    }
}
