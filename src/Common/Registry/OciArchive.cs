using System.Text;
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
            var tar = new TarStream(stream);
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
            tar.Finish();
        }, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }
}

/// <summary>
/// A minimal POSIX tar writer (ustar headers; a pax size record for files of 8 GiB and more):
/// all an OCI layout needs. System.Formats.Tar would cost every binary ~190 KB, mostly for
/// date/time zone handling we do not use. Owner root, fixed modes, mtime 0: reproducible.
/// </summary>
internal sealed class TarStream(Stream output)
{
    const long UstarMaxSize = 077777777777; // 11 octal digits

    public void Directory(string name) => Header(name, '5', 0, "0000755");

    public void File(string name, byte[] data)
    {
        Header(name, '0', data.Length, "0000644");
        output.Write(data);
        Pad(data.Length);
    }

    public void File(string name, Stream data, long size)
    {
        Header(name, '0', size, "0000644");
        var buf = new byte[256 * 1024];
        long copied = 0;
        int n;
        while (copied < size && (n = data.Read(buf, 0, (int)Math.Min(buf.Length, size - copied))) > 0)
        {
            output.Write(buf, 0, n);
            copied += n;
        }
        if (copied != size)
            throw new IOException($"{name} changed while being archived ({copied} of {size} bytes)");
        Pad(size);
    }

    /// <summary>Two zero blocks end the archive.</summary>
    public void Finish() => output.Write(new byte[1024]);

    internal void Header(string name, char type, long size, string mode)
    {
        if (Encoding.UTF8.GetByteCount(name) > 100)
            throw new ArgumentException($"tar member name too long: {name}");
        if (size > UstarMaxSize)
        {
            // pax extended header: "LEN size=N\n", where LEN counts the whole record.
            var body = $" size={size}\n";
            var len = body.Length + 1;
            while ((len.ToString(System.Globalization.CultureInfo.InvariantCulture) + body).Length != len)
                len++;
            var record = Encoding.ASCII.GetBytes(len.ToString(System.Globalization.CultureInfo.InvariantCulture) + body);
            Header("PaxHeaders/" + name[Math.Max(0, name.Length - 85)..], 'x', record.Length, "0000644");
            output.Write(record);
            Pad(record.Length);
        }
        var h = new byte[512];
        Encoding.UTF8.GetBytes(name, h.AsSpan(0, 100));
        Ascii(h, 100, mode + "\0");
        Ascii(h, 108, "0000000\0"); // uid
        Ascii(h, 116, "0000000\0"); // gid
        Ascii(h, 124, Octal(Math.Min(size, UstarMaxSize), 11) + "\0");
        Ascii(h, 136, "00000000000\0"); // mtime
        h[156] = (byte)type;
        Ascii(h, 257, "ustar\0" + "00");
        // Checksum: the byte sum with the checksum field counted as spaces.
        h.AsSpan(148, 8).Fill((byte)' ');
        long sum = 0;
        foreach (var b in h)
            sum += b;
        Ascii(h, 148, Octal(sum, 6) + "\0 ");
        output.Write(h);
    }

    void Pad(long size)
    {
        var rest = (int)(size % 512);
        if (rest != 0)
            output.Write(new byte[512 - rest]);
    }

    static void Ascii(byte[] h, int at, string s) => Encoding.ASCII.GetBytes(s, h.AsSpan(at));

    static string Octal(long value, int digits) => Convert.ToString(value, 8).PadLeft(digits, '0');
}
