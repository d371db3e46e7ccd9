using System.Text;
using Kslurm.Json;

namespace Kslurm.Registry;

/// <summary>
/// Registry authorization as Docker does it: anonymous first; a 401's WWW-Authenticate challenge
/// says how to get in: Bearer (ask the realm for a token for service+scope, with Basic
/// credentials when we have some) or Basic (send the credentials). What worked is remembered per
/// repository and sent with the next requests (blob downloads), and renewed on the next 401.
/// </summary>
internal sealed class RegistryAuth(RegistryOptions options, Func<CurlRequest, CurlResponse> send)
{
    readonly object _gate = new();
    readonly Dictionary<string, (string Header, string? User)> _known = new(StringComparer.Ordinal);
    readonly Dictionary<string, RegistryCredential?> _credentials = new(StringComparer.Ordinal);

    public string? HeaderFor(ImageRef image)
    {
        lock (_gate)
            return _known.TryGetValue(image.Name, out var k) ? k.Header : null;
    }

    /// <summary>Whose credentials were used for this repository (for error messages), if any.</summary>
    public string? UserFor(ImageRef image)
    {
        lock (_gate)
            return _known.TryGetValue(image.Name, out var k) ? k.User : null;
    }

    RegistryCredential? CredentialFor(string registry)
    {
        lock (_gate)
        {
            if (!_credentials.TryGetValue(registry, out var c))
                _credentials[registry] = c = Credentials.Find(registry, options);
            return c;
        }
    }

    /// <summary>
    /// The Authorization value to retry with after a 401, or null when there is nothing new to try
    /// (no challenge, no credentials for Basic, or the same answer as before).
    /// </summary>
    public string? Answer(ImageRef image, CurlResponse response, string? sent)
    {
        Challenge? bearer = null, basic = null;
        foreach (var value in response.HeaderValues("WWW-Authenticate"))
            foreach (var c in Challenge.Parse(value))
            {
                if (c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) bearer ??= c;
                else if (c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)) basic ??= c;
            }
        var credential = CredentialFor(image.Registry);
        string header;
        if (bearer is not null)
            header = "Bearer " + Token(image, bearer, credential);
        else if (basic is not null && credential is not null)
            header = "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{credential.Username}:{credential.Password}"));
        else
            return null;
        if (header == sent)
            return null;
        lock (_gate)
            _known[image.Name] = (header, credential?.ToString());
        return header;
    }

    string Token(ImageRef image, Challenge challenge, RegistryCredential? credential)
    {
        var realm = challenge["realm"];
        if (string.IsNullOrEmpty(realm) || !(realm.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
                                             || realm.StartsWith("http://", StringComparison.OrdinalIgnoreCase)))
            throw RegistryClient.Fail(image, $"{image.Registry} asked for a token from an unusable address ('{realm}')",
                "the registry is misconfigured; report it to its operators");
        var realmHost = Authority(realm);
        if (credential is not null && realm.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
            && !RegistryClient.IsLoopback(realmHost))
            throw RegistryClient.Fail(image, $"{image.Registry} wants credentials sent to {realm} over plain HTTP; refusing",
                "ask the registry's operators to use HTTPS for its token service");
        var query = new StringBuilder();
        if (challenge["service"] is { } service)
            query.Append("service=").Append(Escape(service));
        var scope = challenge["scope"] ?? $"repository:{image.Repository}:pull";
        query.Append(query.Length > 0 ? "&" : "").Append("scope=").Append(Escape(scope));
        var url = realm + (realm.Contains('?') ? "&" : "?") + query;

        // The token is a credential: it comes back in memory (curl's stdout), never in a file.
        {
            var r = send(new CurlRequest(url, null)
            {
                UserPassword = credential is null ? null : $"{credential.Username}:{credential.Password}",
                MaxBytes = 1024 * 1024,
                MaxTime = TimeSpan.FromMinutes(1),
                ConnectTimeout = options.ConnectTimeout,
            });
            if (r.Exit != 0)
            {
                var (what, hint) = Curl.Explain(r.Exit, realmHost);
                throw RegistryClient.Fail(image, $"cannot get a token from {realmHost}: {what} (curl exit code {r.Exit})", hint);
            }
            if (r.Status is 401 or 403 && credential is not null)
                throw RegistryClient.Fail(image, $"{realmHost} rejected the credentials of {credential} (HTTP {r.Status})",
                    "check the user name and password (or token); " + RegistryClient.LoginHint(image.Registry));
            if (r.Status != 200)
                throw RegistryClient.Fail(image, $"the token service {realmHost} answered HTTP {r.Status}",
                    r.Status >= 500 ? "the registry has trouble; try again later" : "try again later; if it persists, report it to the registry's operators");
            var json = Encoding.UTF8.GetBytes(r.Body);
            string? token = null;
            try
            {
                if (JsonText.Parse(json, realm) is JsonObject o)
                    token = o.String("token") is { Length: > 0 } t ? t : o.String("access_token");
            }
            catch (JsonException) { }
            if (string.IsNullOrEmpty(token) || Curl.HasControl(token))
                throw RegistryClient.Fail(image, $"the token service {realmHost} gave no token", "try again later; if it persists, report it to the registry's operators");
            return token;
        }
    }

    /// <summary>host[:port] of an http(s) URL (System.Uri would cost the binaries ~100 KB).</summary>
    internal static string Authority(string url)
    {
        var rest = url[(url.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var end = rest.AsSpan().IndexOfAny("/?#");
        var authority = end < 0 ? rest : rest[..end];
        return authority[(authority.LastIndexOf('@') + 1)..];
    }

    /// <summary>Percent-encoding of a query value: everything but RFC 3986's unreserved characters.</summary>
    internal static string Escape(string value)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (b is (>= (byte)'a' and <= (byte)'z') or (>= (byte)'A' and <= (byte)'Z') or (>= (byte)'0' and <= (byte)'9')
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
                sb.Append((char)b);
            else
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
