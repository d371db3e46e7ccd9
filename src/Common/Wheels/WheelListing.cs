using Kslurm.Venv;

namespace Kslurm.Wheels;

/// <summary>One wheel found in a wheelhouse, judged for one Python.</summary>
public sealed record ListedWheel(WheelFile Wheel, Wheelhouse House, string? WhyNot)
{
    public bool Fits => WhyNot is null;
}

/// <summary>The wheels of every wheelhouse whose names match, judged for one Python (`kpy wheels`).</summary>
public static class WheelListing
{
    public static List<ListedWheel> List(IEnumerable<Wheelhouse> houses, PythonTags python, IReadOnlyList<string> patterns)
    {
        var canonicalPatterns = patterns.Select(Distributions.Canonical).ToList();
        var listed = new List<ListedWheel>();
        foreach (var house in houses.Where(h => h.Exists))
            foreach (var wheel in WheelFile.InFolder(house.Location))
            {
                var name = Distributions.Canonical(wheel.Name);
                if (canonicalPatterns.Count > 0 && !canonicalPatterns.Any(p => Glob(p, name)))
                    continue;
                listed.Add(new ListedWheel(wheel, house, python.WhyNot(wheel)));
            }
        listed.Sort((a, b) =>
        {
            var byName = string.CompareOrdinal(Distributions.Canonical(a.Wheel.Name), Distributions.Canonical(b.Wheel.Name));
            return byName != 0 ? byName : -VersionOrder.Compare(a.Wheel.Version, b.Wheel.Version);
        });
        return listed;
    }

    /// <summary>`*` and `?` over a whole (canonical, lower-case) name.</summary>
    public static bool Glob(string pattern, string name)
    {
        if (pattern.Length == 0)
            return name.Length == 0;
        if (pattern[0] == '*')
            return Enumerable.Range(0, name.Length + 1).Any(i => Glob(pattern[1..], name[i..]));
        return name.Length > 0 && (pattern[0] == '?' || pattern[0] == name[0]) && Glob(pattern[1..], name[1..]);
    }
}

/// <summary>
/// Newest first, close enough to PEP 440 for a listing: release numbers compared as numbers,
/// a pre-release (a, b, rc, dev) before its release, a post-release after it.
/// </summary>
public static class VersionOrder
{
    public static int Compare(string x, string y)
    {
        var (rx, sx) = Split(Distributions.PublicVersion(x));
        var (ry, sy) = Split(Distributions.PublicVersion(y));
        for (int i = 0; i < Math.Max(rx.Count, ry.Count); i++)
        {
            var c = (i < rx.Count ? rx[i] : 0).CompareTo(i < ry.Count ? ry[i] : 0);
            if (c != 0)
                return c;
        }
        var c2 = Rank(sx).CompareTo(Rank(sy));
        return c2 != 0 ? c2 : string.CompareOrdinal(sx, sy);
    }

    static (List<long>, string) Split(string v)
    {
        var release = new List<long>();
        int i = 0;
        if (v.StartsWith('v'))
            i = 1;
        while (i < v.Length)
        {
            int start = i;
            while (i < v.Length && char.IsAsciiDigit(v[i]))
                i++;
            if (i == start || !long.TryParse(v.AsSpan(start, i - start), out var n))
            {
                i = start;
                break;
            }
            release.Add(n);
            if (i < v.Length && v[i] == '.' && i + 1 < v.Length && char.IsAsciiDigit(v[i + 1]))
                i++;
            else
                break;
        }
        return (release, v[i..].TrimStart('.', '-', '_').ToLowerInvariant());
    }

    // dev < a < b < rc < final < post
    static int Rank(string suffix) => suffix switch
    {
        "" => 4,
        _ when suffix.StartsWith("dev", StringComparison.Ordinal) => 0,
        _ when suffix.StartsWith("rc", StringComparison.Ordinal) || suffix.StartsWith('c') || suffix.StartsWith("pre", StringComparison.Ordinal) => 3,
        _ when suffix.StartsWith("post", StringComparison.Ordinal) || suffix.StartsWith("rev", StringComparison.Ordinal) || suffix.StartsWith('r') || char.IsAsciiDigit(suffix[0]) => 5,
        _ when suffix.StartsWith('b') => 2,
        _ when suffix.StartsWith('a') => 1,
        _ => 4,
    };
}
