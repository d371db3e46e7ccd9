namespace Kslurm.Completion;

/// <summary>What to offer for the word under the cursor: candidates, or "let the shell complete paths".</summary>
public sealed record CompletionReply(IReadOnlyList<string> Candidates, NameKind Fallback = NameKind.None);

/// <summary>
/// Completion for all six tools in one place, so the bash, zsh and fish scripts stay a few lines
/// each and agree: the shell hands over the words before the cursor and the partial word, this
/// walks <see cref="CommandTree"/> and answers. Names come from <see cref="StoreNames"/> (local
/// files only: it runs on every Tab press).
/// </summary>
public static class Completer
{
    /// <param name="words">the command line up to the cursor: the tool, the words before, the partial word last</param>
    public static CompletionReply Complete(IReadOnlyList<string> words, Func<NameKind, IEnumerable<string>> names)
    {
        if (words.Count < 2)
            return new([]);
        var spec = CommandTree.For(Path.GetFileName(words[0]));
        if (spec is null)
            return new([]);
        var cur = words[^1];
        var atStart = true;    // no word since entering this (sub)command: a subcommand may follow
        var position = 0;      // positionals seen
        var rest = false;      // after `--`
        for (var i = 1; i < words.Count - 1; i++)
        {
            var w = words[i];
            if (rest)
            {
                position++;
                continue;
            }
            if (atStart && spec.Subcommands.TryGetValue(w, out var sub))
            {
                spec = sub;
                position = 0;
                continue;
            }
            atStart = false;
            if (w == "--")
            {
                rest = true;
                continue;
            }
            if (w.Length > 1 && w[0] == '-')
            {
                if (!w.Contains('=') && spec.FindOption(w) is { Value: { } kind })
                {
                    if (i + 1 == words.Count - 1)
                        return Offer(kind, [], cur, "", names); // the value of this option is being typed
                    i++;
                }
                continue;
            }
            position++;
        }

        if (rest)
            return new([], spec.AfterDashDash);
        if (cur.StartsWith("--", StringComparison.Ordinal) && cur.IndexOf('=') is > 2 and var eq
            && spec.FindOption(cur[..eq]) is { Value: { } valueKind })
            return Offer(valueKind, [], cur[(eq + 1)..], cur[..(eq + 1)], names);
        if (cur.StartsWith('-'))
            return new([.. spec.Options.SelectMany(o => o.Names).Where(n => n.StartsWith(cur, StringComparison.Ordinal))]);
        if (atStart && spec.Subcommands.Count > 0)
            return new([.. spec.Subcommands.Keys.Where(k => k.StartsWith(cur, StringComparison.Ordinal)).Order(StringComparer.Ordinal)]);
        if (spec.Args.Count == 0)
            return new([]);
        var arg = spec.Args[Math.Min(position, spec.Args.Count - 1)];
        return Offer(arg.Kind, arg.Words, cur, "", names);
    }

    static CompletionReply Offer(NameKind kind, string[] words, string cur, string prefix, Func<NameKind, IEnumerable<string>> names)
    {
        if (kind is NameKind.Files or NameKind.Dirs)
            return new([], kind);
        IEnumerable<string> all = words;
        if (kind is not (NameKind.None or NameKind.Words))
            all = all.Concat(names(kind));
        var result = new List<string>();
        foreach (var n in all)
        {
            if (n.StartsWith(cur, StringComparison.Ordinal))
                result.Add(prefix + n);
            // an image named without its scheme: `ubu` finds docker://ubuntu:22.04 as ubuntu:22.04
            else if (kind == NameKind.Images && cur.Length > 0 && !"docker://".StartsWith(cur, StringComparison.Ordinal)
                     && n.StartsWith("docker://", StringComparison.Ordinal) && n.AsSpan(9).StartsWith(cur, StringComparison.Ordinal))
                result.Add(prefix + n[9..]);
        }
        return new([.. result.Distinct()]);
    }

    /// <summary>
    /// Splits a bash command line (COMP_LINE up to the cursor) into words as the shell would for
    /// the common cases: blanks separate, quotes and backslashes group. The last word is the
    /// partial one (empty after a blank).
    /// </summary>
    public static List<string> SplitLine(string line)
    {
        var words = new List<string>();
        var w = new System.Text.StringBuilder();
        var inWord = false;
        char quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                if (c == quote)
                    quote = '\0';
                else if (c == '\\' && quote == '"' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`')
                    w.Append(line[++i]);
                else
                    w.Append(c);
            }
            else if (c is ' ' or '\t' or '\n')
            {
                if (inWord)
                    words.Add(w.ToString());
                w.Clear();
                inWord = false;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
                inWord = true;
            }
            else if (c == '\\' && i + 1 < line.Length)
            {
                w.Append(line[++i]);
                inWord = true;
            }
            else
            {
                w.Append(c);
                inWord = true;
            }
        }
        words.Add(inWord ? w.ToString() : "");
        return words;
    }

    /// <summary>
    /// Bash replaces only the part of the word after the last COMP_WORDBREAKS character (`:` and
    /// `=` by default), so `docker://ubu` must be answered with `//ubuntu:22.04`.
    /// </summary>
    public static string BashTail(string candidate, string cur, string wordBreaks)
    {
        var cut = cur.LastIndexOfAny(wordBreaks.ToCharArray());
        return cut >= 0 && candidate.Length > cut ? candidate[(cut + 1)..] : candidate;
    }
}
