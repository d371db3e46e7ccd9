using System.Text;
using Kslurm.Archive;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Json;

namespace Kslurm.Registry;

public sealed partial class RegistryClient
{
    /// <summary>
    /// Writes an OCI image layout as one tar file: oci-layout, index.json (one manifest, named by
    /// an org.opencontainers.image.ref.name annotation) and blobs/sha256/HEX for the manifest
    /// (its exact bytes, so its digest holds), the config and the layers (copied verbatim from
    /// blobDir, as <see cref="Download"/> left them). `apptainer build x.sif oci-archive://FILE`
    /// and `skopeo ... oci-archive:FILE` read it. Written to a temp file and renamed into place.
    /// </summary>
    public static void WriteOciArchive(ResolvedImage image, string blobDir, string outputTar)
    {
        foreach (var b in image.Blobs)
        {
            var path = Path.Combine(blobDir, b.Hex);
            if (!File.Exists(path) || new FileInfo(path).Length != b.Size)
                throw Fail(image.Ref, $"blob {b.Digest} is missing from {Paths.Pretty(blobDir)}",
                    "download the image's blobs first (RegistryClient.Download)");
        }
        var index = new JsonObject
        {
            ["schemaVersion"] = 2L,
            ["mediaType"] = MediaTypes.OciIndex,
            ["manifests"] = new List<object?>
            {
                new JsonObject
                {
                    ["mediaType"] = image.ManifestMediaType,
                    ["digest"] = image.ManifestDigest,
                    ["size"] = (long)image.Manifest.Length,
                    ["annotations"] = new JsonObject { ["org.opencontainers.image.ref.name"] = image.Ref.Tag ?? "latest" },
                },
            },
        };
        AtomicFile.Write(outputTar, stream =>
        {
            using var tar = new TarMembers(stream);
            tar.Directory("blobs/");
            tar.Directory("blobs/sha256/");
            tar.File("oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
            tar.File("index.json", Encoding.UTF8.GetBytes(JsonText.Write(index, indented: false)));
            tar.File("blobs/sha256/" + Digests.Hex(image.ManifestDigest), image.Manifest);
            foreach (var b in image.Blobs)
            {
                using var data = new FileStream(Path.Combine(blobDir, b.Hex), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                tar.File("blobs/sha256/" + b.Hex, data, b.Size);
            }
        }, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }
}
