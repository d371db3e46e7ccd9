using System.Text;

namespace Kslurm.Shell;

/// <summary>POSIX shell quoting, for showing commands users can copy and for generated job scripts.</summary>
public static class ShellQuote
{
    public static string Quote(string s)
    {
        if (s.Length > 0 && s.All(IsSafe))
            return s;
        // Inside single quotes nothing is special except the quote itself: close, escape, reopen.
        return "'" + s.Replace("'", "'\\''") + "'";
    }

    public static string Join(IEnumerable<string> argv)
    {
        var sb = new StringBuilder();
        foreach (var a in argv)
        {
            if (sb.Length > 0)
                sb.Append(' ');
            sb.Append(Quote(a));
        }
        return sb.ToString();
    }

    static bool IsSafe(char c) => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '/' or ':' or '=' or ',' or '+' or '@' or '%';
}
