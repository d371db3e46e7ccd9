using System.Text;
using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>Manifest kinds and shapes, without a registry.</summary>
[Trait("Tier", "Unit")]
public class ManifestTests
{
    static readonly ImageRef Image = ImageRef.Parse("quay.io/org/img:1");
    static readonly string D = "sha256:" + new string('a', 64);

    static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    [Fact]
    public void Type_from_the_body_then_the_header_then_the_shape()
    {
        Assert.Equal(MediaTypes.DockerList, Manifests.MediaTypeOf(Image, B($$"""{"schemaVersion":2,"mediaType":"{{MediaTypes.DockerList}}","manifests":[]}"""), "application/json"));
        Assert.Equal(MediaTypes.OciIndex, Manifests.MediaTypeOf(Image, B("""{"schemaVersion":2,"manifests":[]}"""), "application/vnd.oci.image.index.v1+json; charset=utf-8"));
        Assert.Equal(MediaTypes.OciIndex, Manifests.MediaTypeOf(Image, B("""{"schemaVersion":2,"manifests":[]}"""), null));
        Assert.Equal(MediaTypes.OciManifest, Manifests.MediaTypeOf(Image, B("""{"schemaVersion":2,"config":{},"layers":[]}"""), "application/json"));
    }

    [Theory]
    [InlineData("""{"schemaVersion":1,"name":"x","tag":"1","fsLayers":[]}""", "old Docker schema 1")]
    [InlineData("""{"schemaVersion":2,"mediaType":"application/vnd.cncf.helm.chart.v1"}""", "unsupported manifest type 'application/vnd.cncf.helm.chart.v1'")]
    [InlineData("""{"schemaVersion":3,"mediaType":"application/vnd.oci.image.manifest.v1+json"}""", "schemaVersion 3")]
    [InlineData("""not json""", "not valid JSON")]
    public void Unsupported_kinds(string body, string message)
    {
        var e = Assert.Throws<KslurmException>(() => Manifests.MediaTypeOf(Image, B(body), null));
        Assert.Contains(message, e.Message);
        Assert.StartsWith("quay.io/org/img:1: ", e.Message);
    }

    [Theory]
    [InlineData("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip", "does not hold")]
    [InlineData("application/vnd.oci.image.layer.v1.tar+gzip+encrypted", "encrypted")]
    [InlineData("application/vnd.oci.empty.v1+json", "unsupported layer type")]
    public void Layers_that_cannot_be_built(string layerType, string message)
    {
        var body = $$"""{"schemaVersion":2,"config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{D}}","size":2},"layers":[{"mediaType":"{{layerType}}","digest":"{{D}}","size":2}]}""";
        Assert.Contains(message, Assert.Throws<KslurmException>(() => Manifests.ReadImageManifest(Image, B(body))).Message);
    }

    [Theory]
    [InlineData("sha512:" + "ab", "unsupported digest")]
    [InlineData("sha256:../../etc/passwd", "unsupported digest")]
    public void Digests_must_be_sha256_hex(string digest, string message)
    {
        // the hex becomes a file name: nothing else may get through
        var body = $$"""{"schemaVersion":2,"config":{"mediaType":"{{MediaTypes.OciConfig}}","digest":"{{digest}}","size":2},"layers":[]}""";
        Assert.Contains(message, Assert.Throws<KslurmException>(() => Manifests.ReadImageManifest(Image, B(body))).Message);
    }

    [Fact]
    public void Platform_variants()
    {
        string E(string arch, string? variant, char c)
            => "{\"digest\":\"sha256:" + new string(c, 64) + "\",\"platform\":{\"os\":\"linux\",\"architecture\":\"" + arch + "\""
               + (variant is null ? "" : ",\"variant\":\"" + variant + "\"") + "}}";
        var index = B($$"""{"schemaVersion":2,"manifests":[{{E("arm", "v6", '1')}},{{E("arm", "v7", '2')}},{{E("arm64", null, '3')}},{{E("amd64", null, '4')}}]}""");
        Assert.Equal("sha256:" + new string('2', 64), Manifests.PickPlatform(Image, index, "linux/arm/v7"));
        Assert.Equal("sha256:" + new string('1', 64), Manifests.PickPlatform(Image, index, "linux/arm/v6"));
        Assert.Equal("sha256:" + new string('3', 64), Manifests.PickPlatform(Image, index, "linux/arm64/v8"));
        Assert.Equal("sha256:" + new string('4', 64), Manifests.PickPlatform(Image, index, "linux/amd64"));
        var e = Assert.Throws<KslurmException>(() => Manifests.PickPlatform(Image, index, "linux/arm/v5"));
        Assert.Contains("it offers linux/arm/v6, linux/arm/v7, linux/arm64, linux/amd64", e.Message);
    }
}
