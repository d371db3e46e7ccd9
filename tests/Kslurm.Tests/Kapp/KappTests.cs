using Kslurm.Files;
using Kslurm.Tests.Registry;

namespace Kslurm.Tests.Kapp;

/// <summary>
/// kapp against real registries on loopback (tests/registry), with the Apptainer stand-in
/// (tests/standin/apptainer, named as such: Apptainer cannot be installed here).
/// </summary>
[Trait("Tier", "Cluster")]
public sealed class KappTests : IDisposable
{
    const string A = LocalRegistries.Anonymous;
    readonly Sandbox _s = new();
    readonly string _pipdir;

    public KappTests()
    {
        LocalRegistries.Require();
        _s.Env["PATH"] = $"{Path.Combine(Repo.Root, "tests", "standin")}:{Repo.Dist}:/usr/local/bin:/usr/bin:/bin";
        _pipdir = Path.Combine(_s.Dir, "pipdir");
        Expect.Ok(_s.Tool("kslurm", "config", "pipdir", _pipdir));
    }

    public void Dispose() => _s.Dispose();

    string Store => Path.Combine(_pipdir, "containers");
    Result Kapp(params string[] args) => _s.Tool("kapp", args);

    string Pull(params string[] args)
    {
        var r = Kapp(["pull", .. args]);
        Expect.Ok(r);
        Assert.Matches(@"^/\S+/containers/images/[0-9a-f]{64}\.sif\n$", r.Stdout); // only the image path on stdout
        return r.Stdout.Trim();
    }

    static string Md5(string text)
    {
        using var s = new Sandbox();
        return s.Exec("sh", ["-c", "printf %s \"$1\" | md5sum | cut -d' ' -f1", "sh", text]).Stdout.Trim();
    }

    [Fact]
    public void Pull_keys_the_image_by_manifest_digest_and_links_names_alias_and_snakemake()
    {
        var image = Pull($"{A}/test/single:1.0", "-a", "single");
        var digest = LocalRegistries.SkopeoRaw($"{A}/test/single:1.0").Digest;
        Assert.Equal(Path.Combine(Store, "images", digest[7..] + ".sif"), image);
        Assert.StartsWith("KSLURM APPTAINER STAND-IN IMAGE", File.ReadAllText(image)); // the stand-in accepted the archive
        var uri = Path.Combine(Store, "uris", "docker", "127.0.0.1_5000", "test", "single", "1.0.sif");
        Assert.False(Path.IsPathRooted(new FileInfo(uri).LinkTarget!), "store links are relative");
        Assert.Equal(image, new FileInfo(uri).ResolveLinkTarget(true)!.FullName);
        Assert.Equal(image, Kapp("path", "single").Stdout.Trim());
        Assert.Equal(image, Kapp("path", $"docker://{A}/test/single:1.0").Stdout.Trim());
        foreach (var spelling in new[] { $"{A}/test/single:1.0", $"docker://{A}/test/single:1.0" })
        {
            var link = Path.Combine(Store, "snakemake", Md5(spelling) + ".simg");
            Assert.Equal(image, new FileInfo(link).ResolveLinkTarget(true)!.FullName);
        }
        Assert.DoesNotContain(Directory.GetFileSystemEntries(Path.Combine(Store, "blobs")), f => !f.EndsWith(".lock"));
        Assert.Equal(Path.Combine(Store, "snakemake") + "\n", Kapp("snakemake").Stdout);
    }

    [Fact]
    public void Two_tags_of_one_image_are_stored_once_and_listed_twice()
    {
        var one = Pull($"{A}/test/single:1.0");
        var same = Kapp("pull", $"{A}/test/single:same");
        Expect.Ok(same);
        Assert.Equal(one, same.Stdout.Trim());
        Assert.DoesNotContain("downloading", same.Stderr);
        Assert.Single(Directory.GetFiles(Path.Combine(Store, "images"), "*.sif"));
        var list = Kapp("image", "list");
        Assert.Contains($"docker://{A}/test/single:1.0", list.Stdout);
        Assert.Contains($"docker://{A}/test/single:same", list.Stdout);
        Assert.Matches(@"URI\s+DIGEST\s+SIZE\s+AGE", list.Stdout);
    }

    [Fact]
    public void A_multi_platform_index_stores_the_host_platform_image()
    {
        var image = Pull($"{A}/test/multi:1.0");
        var resolved = Kapp("_resolve", $"{A}/test/multi:1.0").Stdout.Split(' ')[1];
        Assert.Equal(Path.Combine(Store, "images", resolved[7..] + ".sif"), image);
        Assert.NotEqual(LocalRegistries.SkopeoRaw($"{A}/test/multi:1.0").Digest, resolved); // not the index
    }

    [Fact]
    public void A_moved_tag_is_pulled_again()
    {
        var repo = $"{A}/test/kapp-moving-{Guid.NewGuid():N}";
        LocalRegistries.Push("moved-a", repo + ":current");
        var first = Pull(repo + ":current");
        LocalRegistries.Push("moved-b", repo + ":current");
        var second = Kapp("pull", repo + ":current");
        Expect.Ok(second);
        Assert.NotEqual(first, second.Stdout.Trim());
        Assert.Contains("downloading", second.Stderr);
        Assert.Equal(second.Stdout.Trim(), Kapp("path", "docker://" + repo + ":current").Stdout.Trim());
    }

    [Fact]
    public void Path_on_a_cache_hit_needs_no_registry()
    {
        string image;
        string name;
        using (var proxy = new FaultProxy())
        {
            name = $"{proxy.Registry}/test/single:1.0";
            image = Pull(name, "-a", "offline");
        }
        // the proxy is gone: the registry is unreachable from here on
        Assert.Equal(image + "\n", Kapp("path", name).Stdout);
        Assert.Equal(image + "\n", Kapp("path", "offline").Stdout);
        var pull = Kapp("pull", name);
        Assert.Equal(1, pull.Code);
        Assert.Contains("kapp: error: ", pull.Stderr);
    }

    [Fact]
    public async Task Two_concurrent_pulls_download_once_and_both_succeed()
    {
        using var proxy = new FaultProxy();
        var name = $"{proxy.Registry}/test/single:1.0";
        var pulls = await Task.WhenAll(Task.Run(() => Kapp("pull", name)), Task.Run(() => Kapp("pull", name)));
        Assert.All(pulls, Expect.Ok);
        Assert.Equal(pulls[0].Stdout, pulls[1].Stdout);
        var blobGets = proxy.Log().Where(e => e.String("path") is { } p && p.Contains("/blobs/sha256:")).GroupBy(e => e.String("path")).ToList();
        Assert.NotEmpty(blobGets);
        Assert.All(blobGets, g => Assert.Single(g));
    }

    [Fact]
    public void Missing_image_and_failing_registry_are_one_line_errors()
    {
        Expect.Error(Kapp("pull", $"{A}/test/no-such-image:1.0"), "kapp", 1, "test/no-such-image");
        using var proxy = new FaultProxy();
        Expect.Error(Kapp("pull", $"{proxy.Registry}/fail500/test/single:1.0"), "kapp", 1, "500");
        Expect.Error(Kapp("pull", "Bad Name!"), "kapp", 2, "Bad Name!");
        Expect.Error(Kapp("path", "never-pulled"), "kapp", 1, "no pulled image called never-pulled");
    }

    [Fact]
    public void Alias_rules_and_image_rm_touch_only_that_name()
    {
        Pull($"{A}/test/single:1.0", "-a", "mine");
        Pull($"{A}/test/single:same", "-a", "mine"); // another tag of the same repository: no -f needed
        Assert.Contains("mine -> docker://127.0.0.1:5000/test/single:same", Kapp("alias", "list").Stdout);
        Expect.Error(Kapp("pull", $"{A}/test/docker:1.0", "-a", "mine"), "kapp", 1, "alias mine points to");
        Pull($"{A}/test/docker:1.0", "-a", "mine", "-f");
        Pull($"{A}/test/single:1.0", "-a", "one");
        Pull($"{A}/test/single:same", "-a", "same");
        Expect.Ok(Kapp("image", "rm", "one"));
        var aliases = Kapp("alias", "list").Stdout;
        Assert.DoesNotContain("one ->", aliases);
        Assert.Contains("same -> docker://127.0.0.1:5000/test/single:same", aliases); // kslurm removed this one too
        Expect.Ok(Kapp("alias", "rm", "same"));
        Expect.Error(Kapp("alias", "rm", "same"), "kapp", 1, "no alias called same");
    }

    [Fact]
    public void Purge_removes_only_images_no_name_points_to()
    {
        var kept = Pull($"{A}/test/docker:1.0");
        var gone = Pull($"{A}/test/single:1.0");
        Pull($"{A}/test/single:same");
        Expect.Ok(Kapp("image", "rm", $"{A}/test/single:1.0"));
        Expect.Ok(Kapp("image", "rm", $"{A}/test/single:same"));
        var dry = Kapp("purge", "dangling", "--dry");
        Assert.Contains($"would remove {gone}", dry.Stdout);
        Assert.True(File.Exists(gone));
        Expect.Ok(Kapp("purge", "dangling"));
        Assert.False(File.Exists(gone));
        Assert.True(File.Exists(kept));
        Assert.DoesNotContain(Directory.GetFileSystemEntries(Path.Combine(Store, "snakemake")),
            l => new FileInfo(l).LinkTarget is { } t && t.Contains(Path.GetFileName(gone)));
        Assert.Contains("nothing to remove", Kapp("purge", "dangling").Stderr);
    }

    [Fact]
    public void Kslurms_image_rm_purge_and_path_quiet_still_work()
    {
        var image = Pull($"{A}/test/single:1.0");
        Pull($"{A}/test/single:same");
        var shared = Kapp("image", "rm", "-p", $"{A}/test/single:1.0");
        Expect.Ok(shared);
        Assert.Contains("other names use it", shared.Stderr);
        Assert.True(File.Exists(image));
        Expect.Ok(Kapp("image", "rm", "--purge", $"{A}/test/single:same"));
        Assert.False(File.Exists(image)); // the last name went, and its data with it
        Assert.DoesNotContain(Directory.GetFileSystemEntries(Path.Combine(Store, "snakemake")),
            l => new FileInfo(l).LinkTarget is { } t && t.Contains(Path.GetFileName(image)));

        var quiet = Kapp("path", "-q", $"{A}/test/single:1.0"); // kapp path -q X || kapp pull X
        Assert.Equal(1, quiet.Code);
        Assert.Equal("", quiet.Stdout + quiet.Stderr);
        Assert.Equal(2, Kapp("path", "-q", "bad ref!").Code);
    }

    [Fact]
    public void Run_and_exec_pass_arguments_and_the_exit_code_through()
    {
        Pull($"{A}/test/single:1.0", "-a", "app");
        var exec = Kapp("exec", "app", "sh", "-c", "echo \"$1|$APPTAINER_CONTAINER\"; exit 7", "sh", "a b");
        Assert.Equal(7, exec.Code);
        Assert.StartsWith("a b|", exec.Stdout);
        var run = Kapp("run", "app", "-h", "--flag");
        Expect.Ok(run);
        Assert.Contains("args=[\"-h\", \"--flag\"]", run.Stdout); // -h after the image is the container's
    }

    [Fact]
    public void Without_apptainer_pull_says_which_module_to_load()
    {
        _s.Env["PATH"] = $"{Repo.Dist}:/usr/local/bin:/usr/bin:/bin";
        var r = Kapp("pull", $"{A}/test/single:1.0");
        Expect.Error(r, "kapp", 1, "neither apptainer nor singularity");
        Assert.Contains("module load apptainer", r.Stderr);
    }
}

/// <summary>Large images (or --mem/--time) are built in a real Slurm job through krun.</summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KappClusterTests
{
    [Fact]
    public void Mem_sends_the_build_to_a_slurm_job()
    {
        LocalRegistries.Require();
        using var u = new ClusterUser();
        // the stand-in apptainer, behind a wrapper that notes the host the build runs on
        var bin = Path.Combine(u.Home, "bin");
        Directory.CreateDirectory(bin);
        File.WriteAllText(Path.Combine(bin, "apptainer"),
            $"#!/bin/sh\nhostname >> {Path.Combine(u.Home, "built-on")}\nexec {Path.Combine(Repo.Root, "tests", "standin", "apptainer")} \"$@\"\n");
        File.SetUnixFileMode(Path.Combine(bin, "apptainer"), (UnixFileMode)0b111_101_101);
        u.Env["PATH"] = $"{bin}:/usr/local/bin:/usr/bin:/bin";
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", Path.Combine(u.Home, "pipdir")));
        var r = u.Tool("kapp", "pull", "--mem", "300M", "--time", "0:10", $"{LocalRegistries.Anonymous}/test/single:1.0");
        Expect.Ok(r);
        Assert.Contains("building in a Slurm job (300 MB, 00:10:00)", r.Stderr);
        Assert.Contains("--job-name=kapp-build", r.Stderr);
        var image = r.Stdout.Trim();
        Assert.True(File.Exists(image));
        Assert.StartsWith("KSLURM APPTAINER STAND-IN IMAGE", File.ReadAllText(image));
        // built on a compute node (on the multi-node cluster not this login node), it landed in the
        // shared pipdir: the login node and every node see the same file
        var builtOn = File.ReadAllText(Path.Combine(u.Home, "built-on")).Trim();
        Assert.Contains(builtOn, Cluster.Nodes);
        var sha = Sha256.HashHex(File.ReadAllBytes(image));
        foreach (var node in Cluster.Nodes)
        {
            var seen = Cluster.OnNode(node, "sha256sum", image);
            Expect.Ok(seen);
            Assert.StartsWith(sha, seen.Stdout);
        }
    }
}
