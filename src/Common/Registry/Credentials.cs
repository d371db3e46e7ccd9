using System.Text;
using Kslurm.Host;
using Kslurm.Json;
using Kslurm.Processes;

namespace Kslurm.Registry;

/// <summary>A user name and password (or token) for one registry, and where it came from.</summary>
public sealed record RegistryCredential(string Username, string Password, string Source)
{
    public override string ToString() => $"{Username} (from {Source})"; // never the password
}

/// <summary>
/// Finds credentials the way Apptainer users already have them: explicit options, then
/// APPTAINER_DOCKER_USERNAME/PASSWORD (or the SINGULARITY_DOCKER_* names), then the Docker config
/// files written by `docker login` / `apptainer registry login` (plain "auth" entries, or a
/// credential helper program named there).
/// </summary>
internal static class Credentials
{
    public static RegistryCredential? Find(string registry, RegistryOptions options)
    {
        if (options.Username is { Length: > 0 } u && options.Password is { } p)
            return new(u, p, "options");
        foreach (var prefix in new[] { "APPTAINER_DOCKER_", "SINGULARITY_DOCKER_" })
        {
            var user = options.GetEnvironment(prefix + "USERNAME");
            var pass = options.GetEnvironment(prefix + "PASSWORD");
            if (!string.IsNullOrEmpty(user) && pass is not null)
                return new(user, pass, prefix + "USERNAME");
        }
        foreach (var file in ConfigFiles(options))
            if (FromDockerConfig(file, registry, options) is { } c)
                return c;
        return null;
    }

    static IEnumerable<string> ConfigFiles(RegistryOptions options)
    {
        if (options.DockerConfigPath is { } explicitPath)
        {
            yield return explicitPath;
            yield break;
        }
        var home = options.GetEnvironment("HOME") ?? "/";
        var dockerDir = options.GetEnvironment("DOCKER_CONFIG");
        yield return Path.Combine(string.IsNullOrEmpty(dockerDir) ? Path.Combine(home, ".docker") : dockerDir, "config.json");
        var apptainerDir = options.GetEnvironment("APPTAINER_CONFIGDIR");
        yield return Path.Combine(string.IsNullOrEmpty(apptainerDir) ? Path.Combine(home, ".apptainer") : apptainerDir, "docker-config.json");
        yield return Path.Combine(home, ".singularity", "docker-config.json");
    }

    /// <summary>The names a registry may be filed under in "auths" (Docker Hub has several).</summary>
    internal static string[] Keys(string registry) => registry == ImageRef.DockerHub
        ? ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"]
        : [registry];

    internal static RegistryCredential? FromDockerConfig(string file, string registry, RegistryOptions options)
    {
        if (!File.Exists(file))
            return null;
        JsonObject root;
        try
        {
            root = JsonText.Parse(File.ReadAllText(file), file) as JsonObject
                   ?? throw new JsonException($"{file}: not a JSON object");
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot read the registry credentials in {Paths.Pretty(file)}: {e.Message}",
                "fix or remove that file (it is written by `docker login` / `apptainer registry login`)");
        }
        var keys = Keys(registry);
        if (root.Object("auths") is { } auths)
        {
            foreach (var (key, value) in auths)
            {
                if (value is not JsonObject entry || Array.IndexOf(keys, NormalizeKey(key)) < 0 && Array.IndexOf(keys, key) < 0)
                    continue;
                if (entry.String("auth") is { Length: > 0 } b64 && Decode(b64) is { } pair)
                    return new(pair.User, pair.Password, Paths.Pretty(file));
                if (entry.String("username") is { Length: > 0 } user && entry.String("password") is { } pass)
                    return new(user, pass, Paths.Pretty(file));
            }
        }
        // A credential helper (docker-credential-NAME get): per registry, or for all of them.
        string? helper = null;
        if (root.Object("credHelpers") is { } helpers)
            foreach (var k in keys)
                helper ??= helpers.String(k);
        helper ??= root.String("credsStore");
        if (helper is { Length: > 0 } && FromHelper("docker-credential-" + helper, keys[0]) is { } fromHelper)
            return fromHelper;
        return null;
    }

    /// <summary>"https://ghcr.io/v2/" and "ghcr.io" name the same registry.</summary>
    internal static string NormalizeKey(string key)
    {
        var k = key;
        if (k.StartsWith("https://", StringComparison.OrdinalIgnoreCase)) k = k[8..];
        else if (k.StartsWith("http://", StringComparison.OrdinalIgnoreCase)) k = k[7..];
        var slash = k.IndexOf('/');
        return slash >= 0 ? k[..slash] : k;
    }

    internal static (string User, string Password)? Decode(string base64)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(base64.Trim()));
            var colon = text.IndexOf(':');
            return colon > 0 ? (text[..colon], text[(colon + 1)..]) : null;
        }
        catch (FormatException) { return null; }
    }

    static RegistryCredential? FromHelper(string program, string serverUrl)
    {
        if (ChildProcess.Which(program) is null)
            return null;
        var r = ChildProcess.Capture([program, "get"], stdin: serverUrl);
        if (!r.Ok)
            return null;
        try
        {
            if (JsonText.Parse(r.Stdout, program) is JsonObject o && o.String("Username") is { Length: > 0 } user && o.String("Secret") is { } secret)
                return new(user, secret, program);
        }
        catch (JsonException) { }
        return null;
    }
}
