using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>Every failure is one line naming the image, the registry and what happened, plus a hint.</summary>
[Trait("Tier", "Cluster")]
public class ErrorTests
{
    const string A = LocalRegistries.Anonymous;

    public ErrorTests() => LocalRegistries.Require();

    static KslurmException Fails(string reference, RegistryOptions? options = null)
    {
        var e = Assert.ThrowsAny<KslurmException>(() => new RegistryClient(options ?? LocalRegistries.Options()).Resolve(ImageRef.Parse(reference)));
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(string.IsNullOrEmpty(e.Hint), "every error has a hint");
        Assert.Equal(1, e.ExitCode);
        return e;
    }

    [Fact]
    public void Unknown_repository()
    {
        var e = Fails($"{A}/test/nope:1.0");
        Assert.Equal($"{A}/test/nope:1.0: no image {A}/test/nope on {A} (HTTP 404, MANIFEST_UNKNOWN)", e.Message);
    }

    [Fact]
    public void Unknown_tag()
    {
        var e = Fails($"{A}/test/single:nope");
        Assert.Equal($"{A}/test/single:nope: no tag 'nope' for {A}/test/single on {A} (HTTP 404, MANIFEST_UNKNOWN)", e.Message);
        Assert.Contains("1.0", e.Hint);
        Assert.Contains("same", e.Hint);
    }

    [Fact]
    public void Unknown_digest()
    {
        var d = "sha256:" + new string('0', 64);
        var e = Fails($"{A}/test/single@{d}");
        Assert.Contains($"no image {A}/test/single@{d} on {A}", e.Message);
    }

    [Fact]
    public void Server_error_says_try_again_later()
    {
        using var proxy = new FaultProxy();
        var e = Fails($"{proxy.Registry}/fail500/test/single:1.0");
        Assert.Equal($"{proxy.Registry}/fail500/test/single:1.0: {proxy.Registry} answered HTTP 500 (Internal Server Error) for the manifest", e.Message);
        Assert.Contains("try again later", e.Hint);
    }

    [Fact]
    public void Altered_manifest_fails_its_digest_by_tag_and_by_digest()
    {
        using var proxy = new FaultProxy();
        var e = Fails($"{proxy.Registry}/badmanifest/test/single:1.0");
        Assert.Contains("does not match its digest", e.Message);
        var digest = LocalRegistries.SkopeoRaw($"{A}/test/single:1.0").Digest;
        e = Fails($"{proxy.Registry}/badmanifest/test/single@{digest}");
        Assert.Contains($"(expected {digest}, got sha256:", e.Message);
    }

    [Fact]
    public void Basic_registry_without_credentials()
    {
        var e = Fails($"{LocalRegistries.Basic}/test/single:1.0");
        Assert.Equal($"{LocalRegistries.Basic}/test/single:1.0: {LocalRegistries.Basic} needs credentials for this image, or it does not exist (HTTP 401, UNAUTHORIZED)", e.Message);
        Assert.Contains("APPTAINER_DOCKER_USERNAME", e.Hint);
        Assert.Contains("docker login", e.Hint);
    }

    [Fact]
    public void Basic_registry_with_wrong_credentials()
    {
        var e = Fails($"{LocalRegistries.Basic}/test/single:1.0",
            LocalRegistries.Options(new() { ["APPTAINER_DOCKER_USERNAME"] = "kslurm", ["APPTAINER_DOCKER_PASSWORD"] = "wrong" }));
        Assert.Contains($"{LocalRegistries.Basic} refused access for kslurm (from APPTAINER_DOCKER_USERNAME) (HTTP 401", e.Message);
        Assert.DoesNotContain("wrong", e.Message);
    }

    [Fact]
    public void Token_registry_without_credentials()
    {
        var e = Fails($"{LocalRegistries.Token}/test/single:1.0");
        Assert.Contains($"{LocalRegistries.Token} needs credentials for this image, or it does not exist (HTTP 401", e.Message);
    }

    [Fact]
    public void Token_registry_with_wrong_credentials()
    {
        var e = Fails($"{LocalRegistries.Token}/test/single:1.0",
            LocalRegistries.Options(new() { ["APPTAINER_DOCKER_USERNAME"] = "kslurm", ["APPTAINER_DOCKER_PASSWORD"] = "wrong" }));
        Assert.Equal($"{LocalRegistries.Token}/test/single:1.0: 127.0.0.1:5003 rejected the credentials of kslurm (from APPTAINER_DOCKER_USERNAME) (HTTP 401)", e.Message);
    }

    [Fact]
    public void Nothing_listening()
    {
        var e = Fails("127.0.0.1:9/test/single:1.0");
        Assert.Equal("127.0.0.1:9/test/single:1.0: cannot reach 127.0.0.1:9: could not connect to 127.0.0.1:9 (curl exit code 7)", e.Message);
    }

    [Fact]
    public void Unresolvable_host()
    {
        var e = Fails("no-such-host.invalid/test/single:1.0");
        Assert.Contains("could not resolve the host name no-such-host.invalid (curl exit code 6)", e.Message);
    }

    [Fact]
    public void Not_a_container_image()
    {
        var e = Fails($"{A}/test/artifact:1.0");
        Assert.Contains("it is not a container image (its config is 'application/vnd.kslurm.test.config.v1+json')", e.Message);
    }

    [Fact]
    public void Curl_missing()
    {
        var options = LocalRegistries.Options();
        options.CurlProgram = "kslurm-no-such-curl";
        var e = Fails($"{A}/test/single:1.0", options);
        Assert.Equal("pulling images needs the kslurm-no-such-curl program, which is not on PATH", e.Message);
    }
}
