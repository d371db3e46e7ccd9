namespace Kslurm.Registry;

/// <summary>A content-addressed blob of an image (config or layer) as its manifest describes it.</summary>
public sealed record Blob(string Digest, long Size, string MediaType)
{
    public string Hex => Digests.Hex(Digest);
}

/// <summary>
/// An image reference pinned to one platform manifest: its digest (what kapp keys images by), its
/// exact bytes (needed verbatim in an OCI layout), and the blobs to download.
/// </summary>
public sealed record ResolvedImage(ImageRef Ref, string ManifestDigest, string ManifestMediaType, byte[] Manifest,
    Blob Config, IReadOnlyList<Blob> Layers, string? IndexDigest)
{
    /// <summary>Bytes to download: config plus layers (a layer listed twice counts once).</summary>
    public long TotalSize
    {
        get
        {
            long total = 0;
            foreach (var b in Blobs)
                total += b.Size;
            return total;
        }
    }

    /// <summary>Config first, then the layers, without repeats.</summary>
    public IReadOnlyList<Blob> Blobs
    {
        get
        {
            var seen = new HashSet<string> { Config.Digest };
            var list = new List<Blob> { Config };
            foreach (var l in Layers)
                if (seen.Add(l.Digest))
                    list.Add(l);
            return list;
        }
    }
}

/// <summary>The manifest media types we read.</summary>
public static class MediaTypes
{
    public const string OciManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string OciIndex = "application/vnd.oci.image.index.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerSchema1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string DockerSchema1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public const string OciConfig = "application/vnd.oci.image.config.v1+json";
    public const string DockerConfig = "application/vnd.docker.container.image.v1+json";

    public static bool IsIndex(string t) => t is OciIndex or DockerList;
    public static bool IsManifest(string t) => t is OciManifest or DockerManifest;
}
