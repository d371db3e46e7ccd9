using System.Globalization;

namespace Kslurm.Install;

/// <summary>Release labels as in VERSION: 0.7.0, 0.8.0-rc1, 1.0.0+build. Compared part by part.</summary>
public static class ReleaseVersion
{
    /// <summary>Characters install.sh accepts in a version; anything else never reaches a URL or file name.</summary>
    public static bool IsValid(string v)
        => v.Length is > 0 and <= 64 && v.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '+' or '-');

    /// <summary>
    /// Numeric parts compare as numbers; a pre-release (after '-') comes before its release;
    /// build metadata (after '+') is ignored.
    /// </summary>
    public static int Compare(string a, string b)
    {
        var (coreA, preA) = Split(a);
        var (coreB, preB) = Split(b);
        var pa = coreA.Split('.');
        var pb = coreB.Split('.');
        for (var i = 0; i < Math.Max(pa.Length, pb.Length); i++)
        {
            var x = i < pa.Length ? pa[i] : "0";
            var y = i < pb.Length ? pb[i] : "0";
            var c = long.TryParse(x, NumberStyles.None, CultureInfo.InvariantCulture, out var nx)
                    && long.TryParse(y, NumberStyles.None, CultureInfo.InvariantCulture, out var ny)
                ? nx.CompareTo(ny)
                : string.CompareOrdinal(x, y);
            if (c != 0)
                return Math.Sign(c);
        }
        if (preA.Length == 0 || preB.Length == 0)
            return preA.Length == preB.Length ? 0 : preA.Length == 0 ? 1 : -1;
        return Math.Sign(string.CompareOrdinal(preA, preB));
    }

    static (string Core, string Pre) Split(string v)
    {
        var plus = v.IndexOf('+');
        if (plus >= 0)
            v = v[..plus];
        var dash = v.IndexOf('-');
        return dash >= 0 ? (v[..dash], v[(dash + 1)..]) : (v, "");
    }
}
