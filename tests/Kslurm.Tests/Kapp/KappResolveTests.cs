using Kslurm.Processes;
using Kslurm.Tests.Registry;

namespace Kslurm.Tests.Kapp;

/// <summary>
/// The client inside the published NativeAOT kapp (hidden `kapp _resolve URI [OUT.tar]`): trimming
/// keeps what it needs, and errors reach the user as one line plus a hint.
/// </summary>
[Trait("Tier", "Cluster")]
public class KappResolveTests
{
    public KappResolveTests() => LocalRegistries.Require();

    [Fact]
    public void Resolves_downloads_and_writes_an_archive()
    {
        using var s = new Sandbox();
        var r = s.Tool("kapp", "_resolve", $"{LocalRegistries.Anonymous}/test/multi:1.0", "img.tar");
        Expect.Ok(r);
        var fields = r.Stdout.Trim().Split(' ');
        Assert.Equal($"{LocalRegistries.Anonymous}/test/multi:1.0", fields[0]);
        Assert.StartsWith("sha256:", fields[1]);
        var inspect = ChildProcess.Capture(["skopeo", "inspect", $"oci-archive:{Path.Combine(s.Dir, "img.tar")}"]);
        Assert.True(inspect.Ok, inspect.Stderr);
        Assert.Contains(fields[1], inspect.Stdout);
        Assert.Contains("kapp: config sha256:", r.Stderr);
    }

    [Fact]
    public void Credentials_from_the_apptainer_variables()
    {
        using var s = new Sandbox();
        s.Env["APPTAINER_DOCKER_USERNAME"] = LocalRegistries.User;
        s.Env["APPTAINER_DOCKER_PASSWORD"] = LocalRegistries.Password;
        Expect.Ok(s.Tool("kapp", "_resolve", $"{LocalRegistries.Token}/test/single:1.0"));
    }

    [Fact]
    public void Errors_are_one_line_with_a_hint()
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool("kapp", "_resolve", $"{LocalRegistries.Anonymous}/test/single:nope"), "kapp", 1, "no tag 'nope'");
        Expect.Error(s.Tool("kapp", "_resolve", $"{LocalRegistries.Basic}/test/single:1.0"), "kapp", 1, "needs credentials");
        Expect.Error(s.Tool("kapp", "_resolve", "Bad:ref"), "kapp", 2, "invalid image reference 'Bad:ref'");
        Expect.Error(s.Tool("kapp", "_resolve", "127.0.0.1:9/x:1"), "kapp", 1, "could not connect");
    }
}
