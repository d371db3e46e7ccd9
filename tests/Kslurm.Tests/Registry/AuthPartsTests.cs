using System.Text;
using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>WWW-Authenticate parsing and where credentials come from (no registry needed).</summary>
[Trait("Tier", "Unit")]
public class AuthPartsTests
{
    [Fact]
    public void Bearer_challenge()
    {
        var c = Assert.Single(Challenge.Parse("Bearer realm=\"https://auth.docker.io/token\",service=\"registry.docker.io\",scope=\"repository:library/ubuntu:pull\""));
        Assert.Equal("Bearer", c.Scheme);
        Assert.Equal("https://auth.docker.io/token", c["realm"]);
        Assert.Equal("registry.docker.io", c["service"]);
        Assert.Equal("repository:library/ubuntu:pull", c["scope"]);
    }

    [Fact]
    public void Several_challenges_spaces_and_escapes()
    {
        var cs = Challenge.Parse("Basic realm=\"a \\\"b\\\"\" , Bearer realm=https://x/t, scope=\"repository:a/b:pull,push\"");
        Assert.Equal(2, cs.Count);
        Assert.Equal("Basic", cs[0].Scheme);
        Assert.Equal("a \"b\"", cs[0]["realm"]);
        Assert.Equal("https://x/t", cs[1]["realm"]);
        Assert.Equal("repository:a/b:pull,push", cs[1]["scope"]);
        Assert.Null(cs[1]["service"]);
    }

    static RegistryOptions Env(Dictionary<string, string?> env, string? config = null) => new()
    {
        DockerConfigPath = config,
        GetEnvironment = n => env.TryGetValue(n, out var v) ? v : null,
    };

    [Fact]
    public void Apptainer_variables_win_and_singularity_names_work()
    {
        var c = Credentials.Find("ghcr.io", Env(new() { ["APPTAINER_DOCKER_USERNAME"] = "u", ["APPTAINER_DOCKER_PASSWORD"] = "p", ["SINGULARITY_DOCKER_USERNAME"] = "s" }));
        Assert.Equal(("u", "p"), (c!.Username, c.Password));
        c = Credentials.Find("ghcr.io", Env(new() { ["SINGULARITY_DOCKER_USERNAME"] = "s", ["SINGULARITY_DOCKER_PASSWORD"] = "q" }));
        Assert.Equal(("s", "q"), (c!.Username, c.Password));
        Assert.DoesNotContain("q", c.ToString());
    }

    [Fact]
    public void Docker_config_auths_by_registry_and_docker_hub_key()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "config.json");
        string B(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));
        File.WriteAllText(file, $$$"""
            {"auths": {
              "https://index.docker.io/v1/": {"auth": "{{{B("hubuser:hub:pass")}}}"},
              "https://ghcr.io": {"auth": "{{{B("gh:tok")}}}"},
              "localhost:5000": {"username": "lu", "password": "lp"}
            }}
            """);
        var hub = Credentials.Find("docker.io", Env([], file))!;
        Assert.Equal(("hubuser", "hub:pass"), (hub.Username, hub.Password));
        Assert.Equal("gh", Credentials.Find("ghcr.io", Env([], file))!.Username);
        Assert.Equal("lu", Credentials.Find("localhost:5000", Env([], file))!.Username);
        Assert.Null(Credentials.Find("quay.io", Env([], file)));
    }

    [Fact]
    public void Default_config_files_are_docker_then_apptainer()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, ".apptainer"));
        File.WriteAllText(Path.Combine(dir.Path, ".apptainer", "docker-config.json"),
            """{"auths": {"quay.io": {"auth": "YXA6cHc="}}}""");
        var c = Credentials.Find("quay.io", Env(new() { ["HOME"] = dir.Path }))!;
        Assert.Equal(("ap", "pw"), (c.Username, c.Password));
    }

    [Fact]
    public void Broken_config_file_is_a_one_line_error()
    {
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(file, "{ nope");
        var e = Assert.Throws<KslurmException>(() => Credentials.Find("quay.io", Env([], file)));
        Assert.Contains("config.json", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("127.0.0.1:5000", true), InlineData("localhost", true), InlineData("[::1]:5000", true),
     InlineData("127.0.0.1.example.com", false), InlineData("ghcr.io", false), InlineData("localhost.example:5000", false)]
    public void Loopback_registries_use_plain_http(string registry, bool loopback)
    {
        Assert.Equal(loopback, RegistryClient.IsLoopback(registry));
        var url = new RegistryClient().BaseUrl(registry);
        Assert.StartsWith(loopback ? "http://" : "https://", url);
    }

    [Fact]
    public void Docker_hub_api_host()
        => Assert.Equal("https://registry-1.docker.io", new RegistryClient().BaseUrl("docker.io"));
}
