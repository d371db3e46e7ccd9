using System.Formats.Tar;
using Kslurm.Files;
using Kslurm.Json;
using Kslurm.Processes;
using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>The OCI archive is what skopeo (and so Apptainer, same library) reads back unchanged.</summary>
[Trait("Tier", "Cluster")]
public class OciArchiveTests
{
    const string A = LocalRegistries.Anonymous;

    public OciArchiveTests() => LocalRegistries.Require();

    [Theory]
    [InlineData("test/single:1.0")]
    [InlineData("test/docker:1.0")]
    [InlineData("test/multi:1.0")]
    public void Skopeo_reads_it_and_the_digest_holds(string name)
    {
        using var dir = new TempDir();
        var client = new RegistryClient(LocalRegistries.Options());
        var image = client.Resolve(ImageRef.Parse($"{A}/{name}"));
        var blobs = Path.Combine(dir.Path, "blobs");
        client.Download(image, blobs);
        var tar = Path.Combine(dir.Path, "image.tar");
        RegistryClient.WriteOciArchive(image, blobs, tar);

        var inspect = ChildProcess.Capture(["skopeo", "inspect", $"oci-archive:{tar}"]);
        Assert.True(inspect.Ok, inspect.Stderr);
        var info = (JsonObject)JsonText.Parse(inspect.Stdout)!;
        Assert.Equal(image.ManifestDigest, info.String("Digest"));
        Assert.Equal(image.Layers.Select(l => (object?)l.Digest), info.Array("Layers"));

        var copy = Path.Combine(dir.Path, "copy");
        var r = ChildProcess.Capture(["skopeo", "--insecure-policy", "copy", "-q", $"oci-archive:{tar}", $"dir:{copy}"]);
        Assert.True(r.Ok, r.Stderr);
        Assert.Equal(image.Manifest, File.ReadAllBytes(Path.Combine(copy, "manifest.json")));
        foreach (var b in image.Blobs)
            Assert.Equal(b.Hex, Sha256.HashFileHex(Path.Combine(copy, b.Hex)));
    }

    [Fact]
    public void Layout_entries_and_ref_name()
    {
        using var dir = new TempDir();
        var client = new RegistryClient(LocalRegistries.Options());
        var image = client.Resolve(ImageRef.Parse($"{A}/test/single:1.0"));
        client.Download(image, dir.Path);
        var tar = Path.Combine(dir.Path, "out.tar");
        RegistryClient.WriteOciArchive(image, dir.Path, tar);
        var names = new List<string>();
        JsonObject? index = null;
        using (var reader = new TarReader(File.OpenRead(tar)))
            while (reader.GetNextEntry() is { } e)
            {
                names.Add(e.Name);
                if (e.Name == "index.json")
                    index = (JsonObject)JsonText.Parse(new StreamReader(e.DataStream!).ReadToEnd())!;
            }
        Assert.Contains("oci-layout", names);
        Assert.Contains("blobs/sha256/" + Digests.Hex(image.ManifestDigest), names);
        Assert.All(image.Blobs, b => Assert.Contains("blobs/sha256/" + b.Hex, names));
        var m = (JsonObject)index!.Array("manifests")!.Single()!;
        Assert.Equal("1.0", m.Object("annotations")!.String("org.opencontainers.image.ref.name"));
        Assert.Equal(image.ManifestDigest, m.String("digest"));
    }

    [Fact]
    public void Missing_blobs_are_a_clear_error()
    {
        using var dir = new TempDir();
        var image = new RegistryClient(LocalRegistries.Options()).Resolve(ImageRef.Parse($"{A}/test/single:1.0"));
        var e = Assert.Throws<KslurmException>(() => RegistryClient.WriteOciArchive(image, dir.Path, Path.Combine(dir.Path, "x.tar")));
        Assert.Contains("is missing from", e.Message);
        Assert.False(File.Exists(Path.Combine(dir.Path, "x.tar")));
    }
}
