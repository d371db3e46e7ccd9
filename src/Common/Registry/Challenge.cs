using System.Text;

namespace Kslurm.Registry;

/// <summary>One WWW-Authenticate challenge: its scheme (Bearer, Basic) and parameters.</summary>
public sealed record Challenge(string Scheme, IReadOnlyDictionary<string, string> Parameters)
{
    public string? this[string name] => Parameters.TryGetValue(name, out var v) ? v : null;

    /// <summary>
    /// Every challenge in a header value (RFC 7235): <c>Bearer realm="...",service="...",scope="..."</c>,
    /// possibly several, comma-separated. Unparseable text ends the list rather than failing.
    /// </summary>
    public static List<Challenge> Parse(string header)
    {
        var result = new List<Challenge>();
        var i = 0;
        string? scheme = null;
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        while (true)
        {
            SkipSeparators(header, ref i);
            if (i >= header.Length)
                break;
            var token = Token(header, ref i);
            if (token.Length == 0)
                break;
            var j = i;
            while (j < header.Length && header[j] == ' ') j++;
            if (j < header.Length && header[j] == '=' && scheme is not null)
            {
                i = j + 1;
                while (i < header.Length && header[i] == ' ') i++;
                parameters[token] = i < header.Length && header[i] == '"' ? Quoted(header, ref i) : Token(header, ref i);
                continue;
            }
            // A new scheme (token68 credentials-style values are not used by registries).
            if (scheme is not null)
                result.Add(new Challenge(scheme, parameters));
            scheme = token;
            parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        }
        if (scheme is not null)
            result.Add(new Challenge(scheme, parameters));
        return result;
    }

    static void SkipSeparators(string s, ref int i)
    {
        while (i < s.Length && s[i] is ' ' or ',' or '\t') i++;
    }

    static string Token(string s, ref int i)
    {
        var start = i;
        while (i < s.Length && s[i] is not (' ' or ',' or '=' or '"' or '\t')) i++;
        return s[start..i];
    }

    static string Quoted(string s, ref int i)
    {
        var sb = new StringBuilder();
        i++; // opening quote
        while (i < s.Length && s[i] != '"')
        {
            if (s[i] == '\\' && i + 1 < s.Length) i++;
            sb.Append(s[i++]);
        }
        i++; // closing quote
        return sb.ToString();
    }
}
