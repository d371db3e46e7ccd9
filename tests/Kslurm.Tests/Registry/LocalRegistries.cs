using System.Diagnostics;
using System.Text;
using Kslurm.Files;
using Kslurm.Json;
using Kslurm.Processes;
using Kslurm.Registry;

namespace Kslurm.Tests.Registry;

/// <summary>
/// The registries started by tests/registry/registry.sh (make test starts them when run as root):
/// anonymous 127.0.0.1:5000, Basic 127.0.0.1:5001, Bearer 127.0.0.1:5002 (tokens from :5003).
/// </summary>
public static class LocalRegistries
{
    public const string Anonymous = "127.0.0.1:5000";
    public const string Basic = "127.0.0.1:5001";
    public const string Token = "127.0.0.1:5002";
    public const string User = "kslurm";
    public const string Password = "Pull-Me-7431";

    public static string Dir => Environment.GetEnvironmentVariable("KSLURM_REGISTRY_DIR") is { Length: > 0 } d ? d : "/tmp/kslurm-registry";

    /// <summary>The OCI layout the fixtures were pushed from (tags single, moved-a, moved-b, multi, artifact).</summary>
    public static string Layout => Path.Combine(Dir, "fixtures", "layout-v1");

    public static string TokenLog => Path.Combine(Dir, "log", "tokens-requests.log");

    static readonly Lazy<string?> Problem = new(Check);

    /// <summary>Fails with the way out when the registries are not up (never skips).</summary>
    public static void Require()
    {
        if (Problem.Value is { } p)
            throw new InvalidOperationException(
                $"the local test registries are not ready ({p}): run `sudo bash tests/registry/registry.sh up` (or `make test` as root) first");
    }

    static string? Check()
    {
        foreach (var port in new[] { 5000, 5001, 5002, 5003 })
        {
            var r = ChildProcess.Capture(["curl", "-s", "-o", "/dev/null", "-m", "5", "-w", "%{http_code}", $"http://127.0.0.1:{port}/v2/"]);
            if (r.Stdout.Trim() is not ("200" or "401" or "404"))
                return $"nothing answers on 127.0.0.1:{port}";
        }
        foreach (var name in new[] { "anonymous", "basic", "token" })
            if (!File.Exists(Path.Combine(Dir, name, "data", "fixtures-pushed")))
                return $"the test images are not pushed to the {name} registry";
        if (!File.Exists(Path.Combine(Layout, "index.json")))
            return $"{Layout} is missing";
        if (ChildProcess.Which("skopeo") is null)
            return "skopeo is not installed";
        return null;
    }

    /// <summary>What skopeo says: the raw manifest bytes of an image and their sha256 digest.</summary>
    public static (byte[] Raw, string Digest) SkopeoRaw(string reference, string? creds = null)
    {
        var args = new List<string> { "skopeo", "inspect", "--raw", "--tls-verify=false" };
        if (creds is not null)
            args.AddRange(["--creds", creds]);
        args.Add("docker://" + reference);
        using var s = ChildProcess.ReadFrom(args);
        using var ms = new MemoryStream();
        s.CopyTo(ms);
        var raw = ms.ToArray();
        return (raw, "sha256:" + Sha256.HashHex(raw));
    }

    /// <summary>Pushes a tag of the fixture layout to the anonymous registry.</summary>
    public static void Push(string layoutTag, string destination, params string[] extra)
    {
        var r = ChildProcess.Capture(["skopeo", "--insecure-policy", "copy", "-q", "--dest-tls-verify=false", .. extra,
            $"oci:{Layout}:{layoutTag}", $"docker://{destination}"]);
        Assert.True(r.Ok, $"skopeo copy failed: {r.Stderr}");
    }

    /// <summary>Options for tests: fast retries, no credentials from the developer's environment.</summary>
    public static RegistryOptions Options(Dictionary<string, string?>? env = null) => new()
    {
        RetryDelay = TimeSpan.FromMilliseconds(50),
        GetEnvironment = name => env is not null && env.TryGetValue(name, out var v) ? v : name == "HOME" ? "/nonexistent-kslurm-home" : null,
    };
}

/// <summary>tests/registry/fault_proxy.py in front of the anonymous registry, for this test only.</summary>
public sealed class FaultProxy : IDisposable
{
    readonly Process _p;

    public FaultProxy(string upstream = LocalRegistries.Anonymous)
    {
        LocalRegistries.Require();
        var psi = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(Path.Combine(Repo.Root, "tests", "registry", "fault_proxy.py"));
        psi.ArgumentList.Add(upstream);
        _p = Process.Start(psi)!;
        var line = _p.StandardOutput.ReadLine() ?? "";
        Assert.StartsWith("PORT ", line);
        Registry = "127.0.0.1:" + line[5..].Trim();
    }

    public string Registry { get; }

    /// <summary>The requests the proxy saw, one JSON object each.</summary>
    public List<JsonObject> Log()
    {
        var r = ChildProcess.Capture(["curl", "-s", $"http://{Registry}/_log"]);
        return [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => (JsonObject)JsonText.Parse(l)!)];
    }

    public void Dispose()
    {
        try { _p.StandardInput.Close(); } catch (IOException) { }
        if (!_p.WaitForExit(5000))
            _p.Kill();
        _p.Dispose();
    }
}

/// <summary>A throw-away folder.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir() => Path = Directory.CreateTempSubdirectory("kslurm-registry-test-").FullName;

    public string Path { get; }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch { /* best effort */ }
    }
}

internal static class Text
{
    public static string Of(byte[] b) => Encoding.UTF8.GetString(b);
}
