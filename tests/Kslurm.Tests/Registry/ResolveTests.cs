using Kslurm.Json;
using Kslurm.Processes;
using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>Resolve against the local registries: every manifest kind and auth kind.</summary>
[Trait("Tier", "Cluster")]
public class ResolveTests
{
    const string A = LocalRegistries.Anonymous;

    public ResolveTests() => LocalRegistries.Require();

    static ResolvedImage Resolve(string reference, RegistryOptions? options = null)
        => new RegistryClient(options ?? LocalRegistries.Options()).Resolve(ImageRef.Parse(reference));

    static JsonObject Json(byte[] raw) => (JsonObject)JsonText.Parse(raw)!;

    [Fact]
    public void Oci_manifest_by_tag_matches_skopeo()
    {
        var r = Resolve($"{A}/test/single:1.0");
        var (raw, digest) = LocalRegistries.SkopeoRaw($"{A}/test/single:1.0");
        Assert.Equal(digest, r.ManifestDigest);
        Assert.Equal(raw, r.Manifest);
        Assert.Equal(MediaTypes.OciManifest, r.ManifestMediaType);
        Assert.Null(r.IndexDigest);
        Assert.Equal(3, r.Layers.Count);
        var m = Json(raw);
        Assert.Equal(m.Object("config")!.String("digest"), r.Config.Digest);
        Assert.Equal(m.Object("config")!.Long("size"), r.Config.Size);
        Assert.Equal(r.Config.Size + r.Layers.Sum(l => l.Size), r.TotalSize);
        Assert.Contains(r.Layers, l => l.Size > 2_000_000);
    }

    [Theory]
    [InlineData("localhost:5000")]
    [InlineData("docker://127.0.0.1:5000")]
    public void Loopback_names(string registry)
        => Assert.Equal(LocalRegistries.SkopeoRaw($"{A}/test/single:1.0").Digest, Resolve($"{registry}/test/single:1.0").ManifestDigest);

    [Fact]
    public void Two_tags_of_one_image_give_one_digest()
        => Assert.Equal(Resolve($"{A}/test/single:1.0").ManifestDigest, Resolve($"{A}/test/single:same").ManifestDigest);

    [Fact]
    public void By_digest()
    {
        var byTag = Resolve($"{A}/test/single:1.0");
        var byDigest = Resolve($"{A}/test/single@{byTag.ManifestDigest}");
        Assert.Equal(byTag.ManifestDigest, byDigest.ManifestDigest);
        Assert.Equal(byTag.Manifest, byDigest.Manifest);
        Assert.Null(byDigest.Ref.Tag);
    }

    [Fact]
    public void Docker_v2_schema2_manifest()
    {
        var r = Resolve($"{A}/test/docker:1.0");
        Assert.Equal(LocalRegistries.SkopeoRaw($"{A}/test/docker:1.0").Digest, r.ManifestDigest);
        Assert.Equal(MediaTypes.DockerManifest, r.ManifestMediaType);
        Assert.Equal(MediaTypes.DockerConfig, r.Config.MediaType);
        Assert.All(r.Layers, l => Assert.Equal("application/vnd.docker.image.rootfs.diff.tar.gzip", l.MediaType));
    }

    /// <summary>The digest of an index entry for a platform, as skopeo sees the index.</summary>
    static string EntryFor(string reference, string arch)
    {
        var index = Json(LocalRegistries.SkopeoRaw(reference).Raw);
        return index.Array("manifests")!.Cast<JsonObject>()
            .First(m => m.Object("platform")!.String("architecture") == arch).String("digest")!;
    }

    [Theory]
    [InlineData("test/multi:1.0", MediaTypes.OciManifest)]
    [InlineData("test/dockerlist:1.0", MediaTypes.DockerManifest)]
    public void Index_gives_this_machines_platform(string name, string manifestType)
    {
        var r = Resolve($"{A}/{name}");
        var hostArch = RegistryOptions.HostPlatform.Split('/')[1];
        Assert.Equal(EntryFor($"{A}/{name}", hostArch), r.ManifestDigest);
        Assert.Equal(LocalRegistries.SkopeoRaw($"{A}/{name}").Digest, r.IndexDigest);
        Assert.Equal(manifestType, r.ManifestMediaType);
        Assert.Equal(LocalRegistries.SkopeoRaw($"{A}/{name.Split(':')[0]}@{r.ManifestDigest}").Digest, r.ManifestDigest);
    }

    [Theory]
    [InlineData("linux/arm64", "arm64")]
    [InlineData("linux/arm64/v8", "arm64")]
    [InlineData("linux/amd64", "amd64")]
    public void Index_gives_the_platform_asked_for(string platform, string arch)
    {
        var options = LocalRegistries.Options();
        options.Platform = platform;
        foreach (var name in new[] { "test/multi:1.0", "test/dockerlist:1.0" })
            Assert.Equal(EntryFor($"{A}/{name}", arch), Resolve($"{A}/{name}", options).ManifestDigest);
    }

    [Fact]
    public void Index_without_the_platform_lists_what_it_offers()
    {
        var options = LocalRegistries.Options();
        options.Platform = "linux/s390x";
        var e = Assert.Throws<KslurmException>(() => Resolve($"{A}/test/multi:1.0", options));
        Assert.Equal($"{A}/test/multi:1.0: no image for linux/s390x; it offers linux/amd64, linux/arm64/v8", e.Message);
        Assert.DoesNotContain("unknown", e.Message);
    }

    [Fact]
    public void Moved_tag_resolves_to_the_new_digest()
    {
        var repo = $"{A}/test/moving-{Guid.NewGuid():N}";
        LocalRegistries.Push("moved-a", repo + ":current");
        var before = Resolve(repo + ":current");
        Assert.Equal(LocalRegistries.SkopeoRaw(repo + ":current").Digest, before.ManifestDigest);
        LocalRegistries.Push("moved-b", repo + ":current");
        var after = Resolve(repo + ":current");
        Assert.NotEqual(before.ManifestDigest, after.ManifestDigest);
        Assert.Equal(LocalRegistries.SkopeoRaw(repo + ":current").Digest, after.ManifestDigest);
        // the old one is still there by digest
        Assert.Equal(before.ManifestDigest, Resolve($"{repo}@{before.ManifestDigest}").ManifestDigest);
    }

    [Fact]
    public void Basic_auth_with_credentials_from_the_environment()
    {
        var options = LocalRegistries.Options(new() { ["APPTAINER_DOCKER_USERNAME"] = LocalRegistries.User, ["APPTAINER_DOCKER_PASSWORD"] = LocalRegistries.Password });
        var r = Resolve($"{LocalRegistries.Basic}/test/single:1.0", options);
        var creds = $"{LocalRegistries.User}:{LocalRegistries.Password}";
        Assert.Equal(LocalRegistries.SkopeoRaw($"{LocalRegistries.Basic}/test/single:1.0", creds).Digest, r.ManifestDigest);
    }

    [Fact]
    public void Basic_auth_with_credentials_from_a_docker_config()
    {
        using var dir = new TempDir();
        var config = Path.Combine(dir.Path, "config.json");
        var auth = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{LocalRegistries.User}:{LocalRegistries.Password}"));
        File.WriteAllText(config, "{\"auths\": {\"" + LocalRegistries.Basic + "\": {\"auth\": \"" + auth + "\"}}}");
        var options = LocalRegistries.Options();
        options.DockerConfigPath = config;
        Assert.StartsWith("sha256:", Resolve($"{LocalRegistries.Basic}/test/single:1.0", options).ManifestDigest);
    }

    [Fact]
    public void Bearer_token_with_credentials()
    {
        var options = LocalRegistries.Options(new() { ["SINGULARITY_DOCKER_USERNAME"] = LocalRegistries.User, ["SINGULARITY_DOCKER_PASSWORD"] = LocalRegistries.Password });
        var r = Resolve($"{LocalRegistries.Token}/test/single:1.0", options);
        Assert.Equal(LocalRegistries.SkopeoRaw($"{LocalRegistries.Token}/test/single:1.0", $"{LocalRegistries.User}:{LocalRegistries.Password}").Digest, r.ManifestDigest);
        var log = File.ReadAllLines(LocalRegistries.TokenLog).Select(l => (JsonObject)JsonText.Parse(l)!).ToList();
        Assert.Contains(log, e => e.String("who") == LocalRegistries.User
            && e.Object("query")!.Array("scope")!.Contains("repository:test/single:pull")
            && e.Object("query")!.Array("service")!.Contains("kslurm-test-registry"));
    }

    [Fact]
    public void Bearer_token_anonymous_for_a_public_image()
        => Assert.StartsWith("sha256:", Resolve($"{LocalRegistries.Token}/public/single:1.0").ManifestDigest);

    [Fact]
    public void Bearer_token_from_access_token_field()
        => Assert.StartsWith("sha256:", Resolve($"{LocalRegistries.Token}/public/access-token-only:1.0").ManifestDigest);

    [Fact]
    public void Secrets_stay_out_of_the_process_list()
    {
        // A curl that records its argv, then runs the real one.
        using var dir = new TempDir();
        var argvLog = Path.Combine(dir.Path, "argv");
        var wrapper = Path.Combine(dir.Path, "curl");
        File.WriteAllText(wrapper, $"#!/bin/sh\nprintf '%s\\n' \"$@\" >> {argvLog}\nexec {ChildProcess.Which("curl")} \"$@\"\n");
        File.SetUnixFileMode(wrapper, (UnixFileMode)0b111_101_101);
        var options = LocalRegistries.Options(new() { ["APPTAINER_DOCKER_USERNAME"] = LocalRegistries.User, ["APPTAINER_DOCKER_PASSWORD"] = LocalRegistries.Password });
        options.CurlProgram = wrapper;
        options.TempDirectory = dir.Path;
        var client = new RegistryClient(options);
        var image = client.Resolve(ImageRef.Parse($"{LocalRegistries.Token}/test/single:1.0"));
        client.Download(image, Path.Combine(dir.Path, "blobs"));
        var argv = File.ReadAllText(argvLog);
        Assert.DoesNotContain(LocalRegistries.Password, argv);
        Assert.DoesNotContain("Bearer", argv);
        Assert.DoesNotContain("127.0.0.1", argv); // not even the URLs
        // and the private config files are gone
        Assert.Empty(Directory.GetDirectories(dir.Path, "kslurm-curl-*"));
    }
}
