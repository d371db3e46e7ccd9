using Kslurm.Files;
using Kslurm.Json;
using Kslurm.Processes;
using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>Blob downloads: verified, resumed after a cut, discarded when wrong.</summary>
[Trait("Tier", "Cluster")]
public class DownloadTests
{
    const string A = LocalRegistries.Anonymous;

    public DownloadTests() => LocalRegistries.Require();

    static void AssertAllVerified(ResolvedImage image, string dir)
    {
        foreach (var b in image.Blobs)
        {
            var path = Path.Combine(dir, b.Hex);
            Assert.True(File.Exists(path), $"missing {b.Digest}");
            var sum = ChildProcess.Capture(["sha256sum", path]).Stdout.Split(' ')[0];
            Assert.Equal(b.Hex, sum);
        }
        Assert.Empty(Directory.GetFiles(dir, "*.partial"));
        Assert.Empty(Directory.GetFiles(dir, "*.lock"));
    }

    [Fact]
    public void Downloads_and_verifies_every_blob_then_skips_them()
    {
        using var dir = new TempDir();
        var client = new RegistryClient(LocalRegistries.Options());
        var image = client.Resolve(ImageRef.Parse($"{A}/test/single:1.0"));
        var lines = new List<string>();
        client.Download(image, dir.Path, parallel: 2, progress: lines.Add);
        AssertAllVerified(image, dir.Path);
        Assert.Equal(4, lines.Count(l => l.Contains("downloaded")));
        lines.Clear();
        client.Download(image, dir.Path, progress: lines.Add);
        Assert.Equal(4, lines.Count(l => l.Contains("already here")));
    }

    [Fact]
    public void Token_registry_blobs_use_the_token()
    {
        using var dir = new TempDir();
        var client = new RegistryClient(LocalRegistries.Options(new() { ["APPTAINER_DOCKER_USERNAME"] = LocalRegistries.User, ["APPTAINER_DOCKER_PASSWORD"] = LocalRegistries.Password }));
        var image = client.Resolve(ImageRef.Parse($"{LocalRegistries.Token}/test/single:1.0"));
        client.Download(image, dir.Path);
        AssertAllVerified(image, dir.Path);
    }

    static (RegistryClient Client, ResolvedImage Image, Blob Big) Big(FaultProxy proxy, string mode)
    {
        var client = new RegistryClient(LocalRegistries.Options());
        var image = client.Resolve(ImageRef.Parse($"{proxy.Registry}/{mode}/test/single:1.0"));
        return (client, image, image.Layers.Single(l => l.Size > 2_000_000));
    }

    static List<JsonObject> BlobRequests(FaultProxy proxy, Blob blob)
        => [.. proxy.Log().Where(e => e.String("path")!.EndsWith("/blobs/" + blob.Digest))];

    [Fact]
    public void Dropped_connection_resumes_with_only_the_remainder()
    {
        using var proxy = new FaultProxy();
        using var dir = new TempDir();
        var (client, image, big) = Big(proxy, "drop");
        var lines = new List<string>();
        client.Download(image, dir.Path, progress: lines.Add);
        AssertAllVerified(image, dir.Path);
        var requests = BlobRequests(proxy, big);
        Assert.Equal(2, requests.Count);
        var cut = requests[0].Long("bytes")!.Value;
        Assert.Equal("drop:cut", requests[0].String("mode"));
        Assert.Null(requests[0].String("range"));
        Assert.Equal($"bytes={cut}-", requests[1].String("range"));
        Assert.Equal(206, requests[1].Long("status"));
        Assert.Equal(big.Size - cut, requests[1].Long("bytes"));
        Assert.Contains(lines, l => l.Contains("resuming at"));
    }

    [Fact]
    public void Server_ignoring_range_gets_a_fresh_download()
    {
        using var proxy = new FaultProxy();
        using var dir = new TempDir();
        var (client, image, big) = Big(proxy, "dropnorange");
        var lines = new List<string>();
        client.Download(image, dir.Path, progress: lines.Add);
        AssertAllVerified(image, dir.Path);
        var requests = BlobRequests(proxy, big);
        Assert.Equal(3, requests.Count); // cut, refused resume (200 instead of 206), whole again
        Assert.Equal(big.Size, requests[2].Long("bytes"));
        Assert.Contains(lines, l => l.Contains("cannot resume"));
    }

    [Fact]
    public void Long_downloads_report_how_far_they_are()
    {
        using var proxy = new FaultProxy();
        using var dir = new TempDir();
        var options = LocalRegistries.Options();
        options.ProgressInterval = TimeSpan.FromMilliseconds(300);
        var client = new RegistryClient(options);
        var image = client.Resolve(ImageRef.Parse($"{proxy.Registry}/slow/test/single:1.0"));
        var lines = new List<string>();
        client.Download(image, dir.Path, progress: lines.Add);
        AssertAllVerified(image, dir.Path);
        Assert.Contains(lines, l => l.EndsWith("%)") && l.Contains(" of 2.0 MiB ("));
    }

    [Fact]
    public void Garbage_fails_verification_and_is_discarded()
    {
        using var proxy = new FaultProxy();
        using var dir = new TempDir();
        var (client, image, big) = Big(proxy, "garbage");
        var e = Assert.Throws<KslurmException>(() => client.Download(image, dir.Path, parallel: 1));
        Assert.Contains("does not match its digest", e.Message);
        Assert.Contains($"{proxy.Registry}/garbage/test/single:1.0", e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.NotNull(e.Hint);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
        Assert.False(File.Exists(Path.Combine(dir.Path, image.Config.Hex)));
        Assert.Equal(3, BlobRequests(proxy, image.Config).Count); // three attempts, none kept
    }

    [Fact]
    public void Partial_from_an_earlier_run_is_resumed()
    {
        using var dir = new TempDir();
        using var proxy = new FaultProxy();
        var (client, image, big) = Big(proxy, "ok");
        // the real first 1000000 bytes, as if an earlier pull was killed
        using var full = new TempDir();
        new RegistryClient(LocalRegistries.Options()).Download(image, full.Path);
        var bytes = File.ReadAllBytes(Path.Combine(full.Path, big.Hex));
        File.WriteAllBytes(Path.Combine(dir.Path, big.Hex + ".partial"), bytes[..1_000_000]);
        var before = BlobRequests(proxy, big).Count;
        client.Download(image, dir.Path);
        AssertAllVerified(image, dir.Path);
        var r = Assert.Single(BlobRequests(proxy, big).Skip(before));
        Assert.Equal("bytes=1000000-", r.String("range"));
        Assert.Equal(big.Size - 1_000_000, r.Long("bytes"));
    }

    [Fact]
    public void Wrong_partial_is_discarded_and_fetched_again()
    {
        using var dir = new TempDir();
        var client = new RegistryClient(LocalRegistries.Options());
        var image = client.Resolve(ImageRef.Parse($"{A}/test/single:1.0"));
        var big = image.Layers.Single(l => l.Size > 2_000_000);
        File.WriteAllBytes(Path.Combine(dir.Path, big.Hex + ".partial"), new byte[1000]);
        var lines = new List<string>();
        client.Download(image, dir.Path, progress: lines.Add);
        AssertAllVerified(image, dir.Path);
        Assert.Contains(lines, l => l.Contains("wrong content, discarded"));
    }

    [Fact]
    public void Wrong_sized_file_under_a_digest_name_is_replaced()
    {
        using var dir = new TempDir();
        var client = new RegistryClient(LocalRegistries.Options());
        var image = client.Resolve(ImageRef.Parse($"{A}/test/single:1.0"));
        File.WriteAllText(Path.Combine(dir.Path, image.Config.Hex), "{}");
        client.Download(image, dir.Path);
        AssertAllVerified(image, dir.Path);
    }
}

/// <summary>Two pulls of one image into one blob folder at once (two login-node jobs).</summary>
[Trait("Tier", "Cluster")]
public class ConcurrentDownloadTests
{
    [Fact]
    public async Task Share_the_blob_folder()
    {
        LocalRegistries.Require();
        using var dir = new TempDir();
        var image = new RegistryClient(LocalRegistries.Options()).Resolve(ImageRef.Parse($"{LocalRegistries.Anonymous}/test/single:1.0"));
        var tasks = Enumerable.Range(0, 4).Select(_ => Task.Run(() => new RegistryClient(LocalRegistries.Options()).Download(image, dir.Path))).ToArray();
        await Task.WhenAll(tasks);
        foreach (var b in image.Blobs)
            Assert.Equal(b.Hex, Sha256.HashFileHex(Path.Combine(dir.Path, b.Hex)));
        Assert.Equal(image.Blobs.Count, Directory.GetFiles(dir.Path).Length);
    }

    [Fact]
    public void Missing_blob_is_named()
    {
        LocalRegistries.Require();
        using var dir = new TempDir();
        var client = new RegistryClient(LocalRegistries.Options());
        var image = client.Resolve(ImageRef.Parse($"{LocalRegistries.Anonymous}/test/single:1.0"));
        var ghost = new Blob("sha256:" + new string('1', 64), 10, "application/vnd.oci.image.layer.v1.tar+gzip");
        var e = Assert.Throws<KslurmException>(() => client.Download(image with { Layers = [ghost] }, dir.Path));
        Assert.Contains($"does not have layer 1/1 {ghost.Digest} of this image (HTTP 404)", e.Message);
    }
}
