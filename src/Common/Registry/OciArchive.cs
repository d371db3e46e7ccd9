using System.Formats.Tar;
using System.Text;

namespace Kslurm;

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
            using var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true);
            DirEntry(tar, "blobs/");
            DirEntry(tar, "blobs/sha256/");
            Bytes(tar, "oci-layout", Encoding.UTF8.GetBytes("{\"imageLayoutVersion\":\"1.0.0\"}"));
            Bytes(tar, "index.json", Encoding.UTF8.GetBytes(Json.Write(index, indented: false)));
            Bytes(tar, "blobs/sha256/" + Digests.Hex(image.ManifestDigest), image.Manifest);
            foreach (var b in image.Blobs)
            {
                using var data = new FileStream(Path.Combine(blobDir, b.Hex), FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
                tar.WriteEntry(Entry(TarEntryType.RegularFile, "blobs/sha256/" + b.Hex, data));
            }
        }, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    static void DirEntry(TarWriter tar, string name) => tar.WriteEntry(Entry(TarEntryType.Directory, name, null));

    static void Bytes(TarWriter tar, string name, byte[] data)
    {
        using var ms = new MemoryStream(data, writable: false);
        tar.WriteEntry(Entry(TarEntryType.RegularFile, name, ms));
    }

    /// <summary>Fixed owner, mode and time: the same image gives the same tar.</summary>
    static PaxTarEntry Entry(TarEntryType type, string name, Stream? data)
    {
        var entry = new PaxTarEntry(type, name)
        {
                Mode = type == TarEntryType.Directory
                ? UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute
                : UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            ModificationTime = DateTimeOffset.UnixEpoch,
            Uid = 0,
            Gid = 0,
        };
        if (data is not null)
            entry.DataStream = data;
        return entry;
    }
}
