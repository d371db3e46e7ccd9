using Kslurm.Files;

namespace Kslurm.Registry;

/// <summary>
/// A container image reference as Docker and Apptainer read it:
/// <c>[docker://][registry[:port]/][org/...]repo[:tag][@sha256:hex]</c>.
/// </summary>
/// <param name="Registry">Host[:port] as written (Docker Hub is "docker.io").</param>
/// <param name="Repository">Path in the registry; Docker Hub's one-part names get "library/".</param>
/// <param name="Tag">The tag; "latest" when neither tag nor digest was given.</param>
/// <param name="Digest">sha256:hex when pinned (wins over the tag when both are given).</param>
/// <param name="Original">The text as the user wrote it (kapp shows it; Snakemake hashes it).</param>
public sealed record ImageRef(string Registry, string Repository, string? Tag, string? Digest, string Original)
{
    public const string DockerHub = "docker.io";
    const string Form = "[docker://][REGISTRY[:PORT]/][ORG/]NAME[:TAG|@sha256:DIGEST]";

    /// <summary>registry/repository[:tag][@digest], e.g. docker.io/library/ubuntu:22.04.</summary>
    public string Canonical => $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    /// <summary>registry/repository, without tag or digest.</summary>
    public string Name => $"{Registry}/{Repository}";

    public bool IsDockerHub => Registry == DockerHub;

    /// <summary>What the registry API is asked for: the digest when pinned, else the tag.</summary>
    public string Reference => Digest ?? Tag!;

    public override string ToString() => Canonical;

    public static ImageRef Parse(string text)
    {
        if (!TryParse(text, out var image, out var why))
            throw new UsageException($"invalid image reference '{text}': {why}", $"expected {Form}");
        return image!;
    }

    public static bool TryParse(string text, out ImageRef? image, out string why)
    {
        image = null;
        why = "";
        var s = text.Trim();
        if (s.Length == 0)
            return Fail("it is empty", out why);
        var scheme = s.IndexOf("://", StringComparison.Ordinal);
        if (scheme >= 0)
        {
            var name = s[..scheme];
            if (name != "docker")
                return Fail($"only docker:// images can be pulled from a registry, not {name}://", out why);
            s = s[(scheme + 3)..];
        }
        if (s.Length == 0)
            return Fail("no image name", out why);
        if (s.AsSpan().ContainsAnyExceptInRange('!', '~'))
            return Fail("it contains spaces or other characters not allowed in image names", out why);

        // Digest first: '@' cannot occur elsewhere.
        string? digest = null;
        var at = s.IndexOf('@');
        if (at >= 0)
        {
            digest = s[(at + 1)..];
            s = s[..at];
            if (!Digests.TryCheck(digest, out var digestWhy))
                return Fail(digestWhy, out why);
        }

        // Docker's rule: the first part is a registry host if it has '.' or ':', is 'localhost',
        // or has upper-case letters (never valid in a repository name).
        string registry = DockerHub;
        var slash = s.IndexOf('/');
        if (slash > 0)
        {
            var first = s[..slash];
            if (first.Contains('.') || first.Contains(':') || first == "localhost" || first.AsSpan().ContainsAnyInRange('A', 'Z')
                || first.StartsWith('['))
            {
                registry = first;
                s = s[(slash + 1)..];
                if (!ValidHost(registry, out var hostWhy))
                    return Fail(hostWhy, out why);
            }
        }

        // A tag is a ':' after the last '/'.
        string? tag = null;
        var colon = s.LastIndexOf(':');
        if (colon > s.LastIndexOf('/'))
        {
            tag = s[(colon + 1)..];
            s = s[..colon];
            if (!ValidTag(tag))
                return Fail($"bad tag '{tag}' (letters, digits, '_', '.', '-'; at most 128; not starting with '.' or '-')", out why);
        }

        var repo = s;
        if (repo.Length == 0)
            return Fail("no image name", out why);
        foreach (var part in repo.Split('/'))
        {
            if (part.Length == 0)
                return Fail("empty path component (a '//' or a '/' at an end)", out why);
            if (part.AsSpan().ContainsAnyInRange('A', 'Z'))
                return Fail("repository names must be lower-case", out why);
            if (!ValidComponent(part))
                return Fail($"bad name component '{part}' (lower-case letters and digits, separated by '.', '_', '__' or '-')", out why);
        }
        if (registry is "index.docker.io" or "registry-1.docker.io")
            registry = DockerHub;
        if (registry == DockerHub && !repo.Contains('/'))
            repo = "library/" + repo;
        if (registry.Length + 1 + repo.Length > 255)
            return Fail("the name is longer than 255 characters", out why);
        if (tag is null && digest is null)
            tag = "latest";
        image = new ImageRef(registry, repo, tag, digest, text);
        return true;
    }

    static bool Fail(string reason, out string why)
    {
        why = reason;
        return false;
    }

    // [a-z0-9]+ separated by '.', '_', '__' or any run of '-'.
    static bool ValidComponent(string part)
    {
        if (!IsAlnum(part[0]) || !IsAlnum(part[^1]))
            return false;
        for (var i = 0; i < part.Length;)
        {
            if (IsAlnum(part[i])) { i++; continue; }
            var start = i;
            while (i < part.Length && !IsAlnum(part[i])) i++;
            var sep = part.AsSpan(start, i - start);
            var ok = sep is "." or "_" or "__" || sep.IndexOfAnyExcept('-') < 0;
            if (!ok)
                return false;
        }
        return true;

        static bool IsAlnum(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
    }

    static bool ValidTag(string tag)
    {
        if (tag.Length is 0 or > 128 || tag[0] is '.' or '-')
            return false;
        foreach (var c in tag)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-'))
                return false;
        return true;
    }

    static bool ValidHost(string host, out string why)
    {
        why = $"bad registry host '{host}'";
        string name = host, port = "";
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']');
            // An IPv6 literal: hex digits and colons (a full check is the resolver's job).
            if (close < 3 || host.AsSpan(1, close - 1).IndexOfAnyExcept("0123456789abcdefABCDEF:.") >= 0)
                return false;
            name = "";
            port = host[(close + 1)..];
            if (port.Length > 0 && port[0] != ':')
                return false;
            port = port.Length > 0 ? port[1..] : "";
            if (host[(close + 1)..] == ":")
                return false;
        }
        else
        {
            var c = host.IndexOf(':');
            if (c >= 0)
            {
                name = host[..c];
                port = host[(c + 1)..];
                if (port.Length == 0)
                    return false;
            }
        }
        if (port.Length > 0 && (port.AsSpan().ContainsAnyExceptInRange('0', '9') || port.Length > 5))
            return false;
        if (host.StartsWith('['))
            return true;
        if (name.Length == 0)
            return false;
        foreach (var label in name.Split('.'))
        {
            if (label.Length == 0 || label[0] == '-' || label[^1] == '-')
                return false;
            foreach (var ch in label)
                if (!(char.IsAsciiLetterOrDigit(ch) || ch == '-'))
                    return false;
        }
        return true;
    }
}

/// <summary>Content digests as registries write them; only sha256 is supported.</summary>
public static class Digests
{
    /// <summary>True for sha256: followed by 64 lower-case hex digits (safe to use as a file name).</summary>
    public static bool IsSha256(string? digest)
        => digest is { Length: 71 } && digest.StartsWith("sha256:", StringComparison.Ordinal)
           && digest.AsSpan(7).IndexOfAnyExcept("0123456789abcdef") < 0;

    public static string Hex(string digest) => IsSha256(digest) ? digest[7..] : throw new ArgumentException($"not a sha256 digest: {digest}");

    public static string Of(ReadOnlySpan<byte> data) => "sha256:" + Sha256.HashHex(data);

    internal static bool TryCheck(string digest, out string why)
    {
        why = "";
        if (IsSha256(digest))
            return true;
        var colon = digest.IndexOf(':');
        if (colon <= 0)
            why = $"bad digest '{digest}' (expected sha256: and 64 hex digits)";
        else if (digest[..colon] != "sha256")
            why = $"unsupported digest algorithm '{digest[..colon]}' (only sha256)";
        else
            why = $"bad digest '{digest}' (expected sha256: and 64 lower-case hex digits)";
        return why.Length == 0;
    }
}
