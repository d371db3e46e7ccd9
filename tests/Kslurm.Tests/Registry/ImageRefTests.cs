using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>Image references read as Docker reads them (distribution/reference rules).</summary>
[Trait("Tier", "Unit")]
public class ImageRefTests
{
    const string D = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    [Theory]
    [InlineData("ubuntu", "docker.io", "library/ubuntu", "latest", null, "docker.io/library/ubuntu:latest")]
    [InlineData("docker://ubuntu", "docker.io", "library/ubuntu", "latest", null, "docker.io/library/ubuntu:latest")]
    [InlineData("ubuntu:22.04", "docker.io", "library/ubuntu", "22.04", null, "docker.io/library/ubuntu:22.04")]
    [InlineData("docker://nipreps/fmriprep:21.0.2", "docker.io", "nipreps/fmriprep", "21.0.2", null, "docker.io/nipreps/fmriprep:21.0.2")]
    [InlineData("docker.io/ubuntu", "docker.io", "library/ubuntu", "latest", null, "docker.io/library/ubuntu:latest")]
    [InlineData("index.docker.io/library/ubuntu:1", "docker.io", "library/ubuntu", "1", null, "docker.io/library/ubuntu:1")]
    [InlineData("ghcr.io/x:1", "ghcr.io", "x", "1", null, "ghcr.io/x:1")]
    [InlineData("ghcr.io/org/img", "ghcr.io", "org/img", "latest", null, "ghcr.io/org/img:latest")]
    [InlineData("localhost:5000/a/b:c", "localhost:5000", "a/b", "c", null, "localhost:5000/a/b:c")]
    [InlineData("localhost/a", "localhost", "a", "latest", null, "localhost/a:latest")]
    [InlineData("127.0.0.1:5000/test/single:1.0", "127.0.0.1:5000", "test/single", "1.0", null, "127.0.0.1:5000/test/single:1.0")]
    [InlineData("[::1]:5000/a:b", "[::1]:5000", "a", "b", null, "[::1]:5000/a:b")]
    [InlineData("quay.io/org/sub/img@" + D, "quay.io", "org/sub/img", null, D, "quay.io/org/sub/img@" + D)]
    [InlineData("ubuntu:22.04@" + D, "docker.io", "library/ubuntu", "22.04", D, "docker.io/library/ubuntu:22.04@" + D)]
    [InlineData("Registry.Example.COM/a_b/c__d/e-f/g.h---i:T_1.x-y", "Registry.Example.COM", "a_b/c__d/e-f/g.h---i", "T_1.x-y", null, "Registry.Example.COM/a_b/c__d/e-f/g.h---i:T_1.x-y")]
    [InlineData("Upper/img", "Upper", "img", "latest", null, "Upper/img:latest")]
    [InlineData("org/img", "docker.io", "org/img", "latest", null, "docker.io/org/img:latest")]
    public void Parses(string text, string registry, string repository, string? tag, string? digest, string canonical)
    {
        var r = ImageRef.Parse(text);
        Assert.Equal(registry, r.Registry);
        Assert.Equal(repository, r.Repository);
        Assert.Equal(tag, r.Tag);
        Assert.Equal(digest, r.Digest);
        Assert.Equal(canonical, r.Canonical);
        Assert.Equal(text, r.Original);
        Assert.Equal(registry == "docker.io", r.IsDockerHub);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("docker://", "no image name")]
    [InlineData("library://ubuntu", "only docker://")]
    [InlineData("shub://a/b", "only docker://")]
    [InlineData("Ubuntu:1", "lower-case")]
    [InlineData("org/Img", "lower-case")]
    [InlineData("ubuntu:", "bad tag")]
    [InlineData("ubuntu:-x", "bad tag")]
    [InlineData("ubuntu:a/b", "bad registry host")]
    [InlineData("a//b", "empty path component")]
    [InlineData("a/", "empty path component")]
    [InlineData("a b", "spaces")]
    [InlineData("-a", "bad name component")]
    [InlineData("a..b", "bad name component")]
    [InlineData("a___b", "bad name component")]
    [InlineData("ubuntu@sha256:abc", "bad digest")]
    [InlineData("ubuntu@md5:0123456789abcdef0123456789abcdef", "unsupported digest algorithm")]
    [InlineData("ubuntu@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", "lower-case hex")]
    [InlineData("host:port/a", "bad registry host")]
    [InlineData("-bad.host/a", "bad registry host")]
    [InlineData("[zz]:5000/a", "bad registry host")]
    public void Rejects(string text, string why)
    {
        var e = Assert.Throws<UsageException>(() => ImageRef.Parse(text));
        Assert.Equal(2, e.ExitCode);
        Assert.Contains($"'{text}'", e.Message);
        Assert.Contains(why, e.Message);
        Assert.Contains("[docker://][REGISTRY[:PORT]/]", e.Hint);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Tag_longer_than_128_is_rejected()
        => Assert.Throws<UsageException>(() => ImageRef.Parse("a:" + new string('x', 129)));

    [Fact]
    public void Reference_prefers_the_digest()
    {
        Assert.Equal(D, ImageRef.Parse("a:1@" + D).Reference);
        Assert.Equal("1", ImageRef.Parse("a:1").Reference);
    }
}
