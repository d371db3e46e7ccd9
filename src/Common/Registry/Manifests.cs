using Kslurm.Json;

namespace Kslurm.Registry;

/// <summary>Reading manifests and indexes: media types, platform choice, config and layers.</summary>
internal static class Manifests
{
    static JsonObject Parse(ImageRef image, byte[] bytes)
    {
        try
        {
            if (JsonText.Parse(bytes, "manifest") is JsonObject o)
                return o;
        }
        catch (JsonException) { }
        throw RegistryClient.Fail(image, $"{image.Registry} sent a manifest that is not valid JSON",
            "try again later; if it persists, report it to the registry's operators");
    }

    /// <summary>
    /// The manifest's type: its own mediaType field, else the Content-Type header, else what its
    /// shape says (OCI allows leaving the field out). Unsupported kinds fail here.
    /// </summary>
    public static string MediaTypeOf(ImageRef image, byte[] bytes, string? contentType)
    {
        var o = Parse(image, bytes);
        var header = contentType?.Split(';')[0].Trim();
        var type = o.String("mediaType") is { Length: > 0 } own ? own
            : header is { Length: > 0 } && header != "application/json" && header != "text/plain" ? header
            : o.ContainsKey("manifests") ? MediaTypes.OciIndex
            : o.ContainsKey("config") && o.ContainsKey("layers") ? MediaTypes.OciManifest
            : o.Long("schemaVersion") == 1 ? MediaTypes.DockerSchema1
            : "";
        if (MediaTypes.IsIndex(type) || MediaTypes.IsManifest(type))
        {
            if (o.Long("schemaVersion") != 2)
                throw RegistryClient.Fail(image, $"its manifest has schemaVersion {o["schemaVersion"] ?? "(none)"}, expected 2",
                    "the image is malformed; report it to its maintainers");
            return type;
        }
        if (type is MediaTypes.DockerSchema1 or MediaTypes.DockerSchema1Signed)
            throw RegistryClient.Fail(image, "it only exists in the old Docker schema 1 format, which is not supported",
                "push it again with a current docker/podman/skopeo, or use a newer tag");
        throw RegistryClient.Fail(image, $"unsupported manifest type '{(type.Length > 0 ? type : "unknown")}'",
            "only Docker v2 and OCI images (and their multi-platform indexes) can be pulled");
    }

    /// <summary>The digest of the index entry for a platform (os/arch[/variant]).</summary>
    public static string PickPlatform(ImageRef image, byte[] bytes, string platform)
    {
        var parts = platform.Split('/');
        var (os, arch, variant) = (parts[0], parts.Length > 1 ? parts[1] : "", parts.Length > 2 ? parts[2] : null);
        var entries = Parse(image, bytes).Array("manifests") ?? [];
        var offered = new List<string>();
        (string Digest, int Score)? best = null;
        foreach (var e in entries)
        {
            if (e is not JsonObject entry || entry.Object("platform") is not { } p)
                continue;
            var eOs = p.String("os") ?? "";
            var eArch = p.String("architecture") ?? "";
            var eVariant = p.String("variant");
            if (eOs == "unknown" || eArch == "unknown")
                continue; // attestations and other non-images
            offered.Add($"{eOs}/{eArch}{(eVariant is null ? "" : "/" + eVariant)}");
            if (eOs != os || eArch != arch)
                continue;
            // Variants: an explicit wish must match (arm64 without a variant is v8); otherwise an
            // entry of the usual variant wins over others.
            var have = eVariant ?? (eArch == "arm64" ? "v8" : null);
            var wanted = variant ?? (arch == "arm64" ? "v8" : null);
            if (variant is not null && have != variant)
                continue;
            var score = have == wanted ? 2 : 1;
            if (entry.String("digest") is not { } digest || !Digests.IsSha256(digest))
                throw RegistryClient.Fail(image, $"its index has an entry for {platform} with a bad digest",
                    "the image is malformed; report it to its maintainers");
            if (best is null || score > best.Value.Score)
                best = (digest, score);
        }
        if (best is null)
            throw RegistryClient.Fail(image,
                $"no image for {platform}; it offers {(offered.Count > 0 ? string.Join(", ", Unique(offered)) : "no platforms")}",
                "use an image built for this machine's platform (or another tag of it)");
        return best.Value.Digest;
    }

    /// <summary>Config and layers of an image manifest, checked: sha256 digests, sizes, image types.</summary>
    public static (Blob Config, List<Blob> Layers) ReadImageManifest(ImageRef image, byte[] bytes)
    {
        var o = Parse(image, bytes);
        var config = Descriptor(image, o.Object("config"), "config");
        if (config.MediaType is not (MediaTypes.OciConfig or MediaTypes.DockerConfig))
            throw RegistryClient.Fail(image, $"it is not a container image (its config is '{config.MediaType}')",
                "this is another kind of artifact (e.g. a Helm chart or a Singularity image pushed with ORAS); it cannot be built with docker://");
        var layers = new List<Blob>();
        foreach (var l in o.Array("layers") ?? [])
        {
            var layer = Descriptor(image, l as JsonObject, "layer");
            var t = layer.MediaType;
            if (t.Contains("nondistributable") || t.Contains("foreign"))
                throw RegistryClient.Fail(image, $"it has a layer that the registry does not hold ('{t}')",
                    "such layers come from Windows images; use a Linux image");
            if (t.Contains("encrypted"))
                throw RegistryClient.Fail(image, $"it has an encrypted layer ('{t}')", "encrypted images are not supported");
            if (!(t.Contains(".tar") || t.Contains("rootfs.diff")))
                throw RegistryClient.Fail(image, $"unsupported layer type '{t}'", "only tar layers (plain, gzip or zstd) can be built into an image");
            layers.Add(layer);
        }
        return (config, layers);
    }

    static List<string> Unique(List<string> items)
    {
        var seen = new HashSet<string>();
        var result = new List<string>();
        foreach (var i in items)
            if (seen.Add(i))
                result.Add(i);
        return result;
    }

    static Blob Descriptor(ImageRef image, JsonObject? d, string what)
    {
        if (d is null)
            throw RegistryClient.Fail(image, $"its manifest has no {what}", "the image is malformed; report it to its maintainers");
        var digest = d.String("digest") ?? "";
        if (!Digests.IsSha256(digest))
            throw RegistryClient.Fail(image, $"its manifest names a {what} by an unsupported digest '{digest}'",
                "only sha256 digests are supported");
        if (d.Long("size") is not { } size || size < 0)
            throw RegistryClient.Fail(image, $"its manifest gives no size for {what} {digest}", "the image is malformed; report it to its maintainers");
        return new Blob(digest, size, d.String("mediaType") ?? "");
    }
}
