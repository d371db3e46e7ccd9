using System.Text;

namespace Kslurm.Wheels;

/// <summary>Python packaging's name and version rules, shared by wheel listings and a venv's freeze.</summary>
public static class PackageName
{
    /// <summary>PEP 503's normal form, to compare names: runs of - _ . become one -, lower case.</summary>
    public static string Canonical(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (c is '-' or '_' or '.')
            {
                if (sb.Length == 0 || sb[^1] != '-')
                    sb.Append('-');
            }
            else
                sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <summary>The version without a local label (PEP 440 `+...`).</summary>
    public static string PublicVersion(string version) => version.Split('+')[0];
}
