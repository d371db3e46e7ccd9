using System.Formats.Tar;
using System.Text;
using System.Text.RegularExpressions;
using Kslurm.Archive;
using Kslurm.Json;

namespace Kslurm.Venv;

/// <summary>How a distribution got into the venv, from its direct_url.json (PEP 610) or .egg-link.</summary>
public enum Origin
{
    /// <summary>From an index or a wheelhouse (no direct_url.json).</summary>
    Index,
    /// <summary>A version-control URL: `name @ git+URL@commit` installs it anywhere.</summary>
    Vcs,
    /// <summary>An archive at a remote URL: `name @ URL` installs it anywhere.</summary>
    RemoteArchive,
    /// <summary>A local folder or file (editable or not): only on the machine that has it.</summary>
    Local,
}

/// <summary>One installed distribution as its metadata names it.</summary>
public sealed record Distribution(string Name, string Version, Origin Origin = Origin.Index, string? Url = null, bool Editable = false);

/// <summary>
/// The distributions of a saved venv, read from its archive as a stream: only the metadata
/// entries of site-packages are read (METADATA / PKG-INFO, direct_url.json, *.egg-link), the
/// rest is skipped, nothing is written to disk.
/// </summary>
public static partial class Distributions
{
    // lib/python3.11/site-packages/requests-2.31.0.dist-info/METADATA (also pypy's lib/pypy3.9/):
    // the folder, the file, or for an .egg-link its name and "" as folder. Null: not metadata.
    static (string Dir, string File)? MetadataEntry(string name)
    {
        var p = name.Split('/');
        if (p.Length is < 4 or > 5 || p[0] != "lib" || p[2] != "site-packages")
            return null;
        if (p.Length == 4)
            return p[3].EndsWith(".egg-link", StringComparison.Ordinal) ? ("", p[3][..^9]) : null;
        var isMeta = p[3].EndsWith(".dist-info", StringComparison.Ordinal) ? p[4] is "METADATA" or "direct_url.json"
            : p[3].EndsWith(".egg-info", StringComparison.Ordinal) && p[4] is "PKG-INFO" or "direct_url.json";
        return isMeta ? (p[3], p[4]) : null;
    }

    public static List<Distribution> ReadArchive(string archivePath)
    {
        var metadata = new Dictionary<string, (string? Name, string? Version)>(StringComparer.Ordinal);
        var directUrls = new Dictionary<string, string>(StringComparer.Ordinal);
        var eggLinks = new List<(string Name, string Target)>();
        using (var tar = ArchiveFile.OpenRead(archivePath))
        {
            try
            {
                using var reader = new TarReader(tar, leaveOpen: true);
                while (reader.GetNextEntry(copyData: false) is { } entry)
                {
                    if (entry.EntryType is not (TarEntryType.RegularFile or TarEntryType.V7RegularFile)
                        || ArchivePath.Normalise(entry.Name) is not { } name
                        || MetadataEntry(name) is not { } m
                        || entry.Length > ArchiveFile.MaxLeadingSize)
                        continue;
                    var buffer = new byte[entry.Length];
                    entry.DataStream?.ReadExactly(buffer);
                    var text = Encoding.UTF8.GetString(buffer);
                    if (m.Dir.Length == 0)
                        eggLinks.Add((m.File, text.Split('\n')[0].Trim()));
                    else if (m.File == "direct_url.json")
                        directUrls[m.Dir] = text;
                    else
                        metadata[m.Dir] = Headers(text);
                }
            }
            catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or IOException)
            {
                throw new KslurmException($"{archivePath} is damaged: {e.Message}", "save the venv again from a working copy", inner: e);
            }
        }

        var found = new List<Distribution>();
        foreach (var (dir, (name, version)) in metadata)
        {
            if (name is null || version is null)
                continue; // a dist-info without a name or version is not one pip would list
            found.Add(directUrls.TryGetValue(dir, out var json) ? WithDirectUrl(name, version, json) : new Distribution(name, version));
        }
        foreach (var (name, target) in eggLinks)
        {
            // `setup.py develop` / old `pip install -e`: the metadata is in the source folder, not here.
            found.RemoveAll(d => Canonical(d.Name) == Canonical(name));
            found.Add(new Distribution(name, "", Origin.Local, target, Editable: true));
        }
        found.Sort((a, b) => string.Compare(Canonical(a.Name), Canonical(b.Name), StringComparison.Ordinal));
        return found;
    }

    /// <summary>
    /// The requirement line that installs this distribution elsewhere: the version without its
    /// site-local label (`2.31.0+computecanada` -> `2.31.0`), as `~=` with at least three release
    /// parts (Poetry's tilde: same major.minor, newer patches) or, <paramref name="exact"/>, as
    /// `==` (which the local build still satisfies here). Direct URLs that work anywhere are kept
    /// (`name @ url`); local folders and files become a comment.
    /// </summary>
    public static string Requirement(Distribution d, bool exact)
    {
        var version = PublicVersion(d.Version);
        switch (d.Origin)
        {
            case Origin.Vcs or Origin.RemoteArchive:
                return $"{d.Name} @ {d.Url}";
            case Origin.Local:
                var what = d.Editable ? "editable install of" : "installed from";
                return $"# {d.Name}{(version.Length > 0 ? "==" + version : "")}: {what} {d.Url} (only on the machine that has it)";
        }
        if (!exact && Compatible(version) is { } tilde)
            return $"{d.Name}~={tilde}";
        return $"{d.Name}=={version}";
    }

    /// <summary>The version without a local label (PEP 440 `+...`).</summary>
    public static string PublicVersion(string version) => version.Split('+')[0];

    [GeneratedRegex(@"^v?(?<epoch>\d+!)?(?<release>\d+(?:\.\d+)*)(?<rest>(?:[-_.]?(?:a|b|c|rc|alpha|beta|pre|preview|post|rev|r|dev)[-_.]?\d*|-\d+)*)$")]
    private static partial Regex VersionParts();

    // 2.31.0 -> 2.31.0; 1.4 -> 1.4.0 (`~=1.4` would allow 1.9); 2024.1.1.2 stays. Null: not PEP 440.
    static string? Compatible(string version)
    {
        if (VersionParts().Match(version.ToLowerInvariant()) is not { Success: true } m)
            return null;
        var release = m.Groups["release"].Value;
        var parts = release.Count(c => c == '.') + 1;
        for (; parts < 3; parts++)
            release += ".0";
        return m.Groups["epoch"].Value + release + m.Groups["rest"].Value;
    }

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

    // Name and Version from the header block of METADATA / PKG-INFO (RFC 822 style).
    static (string?, string?) Headers(string text)
    {
        string? name = null, version = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.Length == 0)
                break; // the description body follows
            if (line.StartsWith("Name:", StringComparison.OrdinalIgnoreCase))
                name ??= line[5..].Trim();
            else if (line.StartsWith("Version:", StringComparison.OrdinalIgnoreCase))
                version ??= line[8..].Trim();
        }
        return (name is { Length: > 0 } ? name : null, version is { Length: > 0 } ? version : null);
    }

    static Distribution WithDirectUrl(string name, string version, string json)
    {
        JsonObject? doc;
        try
        {
            doc = JsonText.Parse(json) as JsonObject;
        }
        catch (JsonException)
        {
            doc = null;
        }
        if (doc?.String("url") is not { } url)
            return new Distribution(name, version);
        var editable = doc.Object("dir_info")?["editable"] is true;
        if (doc.Object("vcs_info") is { } vcs && vcs.String("vcs") is { } tool)
        {
            var commit = vcs.String("commit_id");
            var full = $"{tool}+{url}{(commit is null ? "" : "@" + commit)}";
            // A VCS checkout on this machine (editable) is still the repository's commit elsewhere.
            return url.StartsWith("file:", StringComparison.Ordinal)
                ? new Distribution(name, version, Origin.Local, full, editable)
                : new Distribution(name, version, Origin.Vcs, full, editable);
        }
        if (url.StartsWith("file:", StringComparison.Ordinal))
            return new Distribution(name, version, Origin.Local, url, editable);
        var hash = doc.Object("archive_info")?.String("hash");
        return new Distribution(name, version, Origin.RemoteArchive, hash is null ? url : $"{url}#{hash}");
    }
}
