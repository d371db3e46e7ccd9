using System.Globalization;
using System.Text;
using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Json;
using Kslurm.Processes;

namespace Kslurm.Registry;

/// <summary>
/// Pulls images from any Docker/OCI registry (Docker Hub, GHCR, Quay, a site registry): resolves a
/// tag or digest to one platform's manifest and downloads its blobs, verifying every byte against
/// its digest. HTTP goes through curl (see <see cref="Curl"/>); errors are one-line
/// <see cref="KslurmException"/>s naming the image, the registry and what happened.
/// </summary>
public sealed partial class RegistryClient
{
    const long MaxManifestBytes = 4 * 1024 * 1024;

    static readonly string Accept = "Accept: " + string.Join(", ",
        MediaTypes.OciIndex, MediaTypes.DockerList, MediaTypes.OciManifest, MediaTypes.DockerManifest);

    readonly RegistryOptions _options;
    readonly RegistryAuth _auth;
    bool _curlChecked;

    public RegistryClient(RegistryOptions? options = null)
    {
        _options = options ?? new RegistryOptions();
        _auth = new RegistryAuth(_options, Send);
    }

    public RegistryOptions Options => _options;

    /// <summary>
    /// Tag or digest to the manifest for our platform. Accepts Docker v2 manifests and manifest
    /// lists, OCI manifests and indexes. The manifest bytes are checked against the digest: the
    /// requested one when pinned, else the registry's Docker-Content-Digest header.
    /// </summary>
    public ResolvedImage Resolve(ImageRef image)
    {
        var (bytes, type, digest) = FetchManifest(image, image.Reference, image.Digest);
        string? indexDigest = null;
        for (var depth = 0; MediaTypes.IsIndex(type); depth++)
        {
            if (depth == 2)
                throw Fail(image, "its image index points to another index, twice; giving up", "this image is unusual; report it to its maintainers");
            indexDigest ??= digest;
            var chosen = Manifests.PickPlatform(image, bytes, _options.Platform ?? RegistryOptions.HostPlatform);
            (bytes, type, digest) = FetchManifest(image, chosen, chosen);
        }
        var (config, layers) = Manifests.ReadImageManifest(image, bytes);
        return new ResolvedImage(image, digest, type, bytes, config, layers, indexDigest);
    }

    /// <summary>The base URL of a registry's API (Docker Hub's lives at registry-1.docker.io).</summary>
    public string BaseUrl(string registry)
    {
        var host = registry == ImageRef.DockerHub ? "registry-1.docker.io" : registry;
        var plain = _options.PlainHttpForLoopback && IsLoopback(registry);
        return (plain ? "http://" : "https://") + host;
    }

    internal static bool IsLoopback(string registry)
    {
        var host = registry.StartsWith('[') ? registry[..(registry.IndexOf(']') + 1)] : registry.Split(':')[0];
        return host is "localhost" or "[::1]" || host.StartsWith("127.", StringComparison.Ordinal) && host.AsSpan().Count('.') == 3
            && !host.AsSpan().ContainsAnyExcept("0123456789.");
    }

    (byte[] Bytes, string MediaType, string Digest) FetchManifest(ImageRef image, string reference, string? expectedDigest)
    {
        var url = $"{BaseUrl(image.Registry)}/v2/{image.Repository}/manifests/{reference}";
        var scratch = TempFile();
        try
        {
            CurlResponse r = null!;
            for (var attempt = 1; ; attempt++)
            {
                r = Send(image, new CurlRequest(url, scratch)
                {
                    MaxBytes = MaxManifestBytes,
                    MaxTime = TimeSpan.FromMinutes(2),
                    ConnectTimeout = _options.ConnectTimeout,
                }, [Accept]);
                // Passing trouble (gateway errors, a dropped connection) gets one more try.
                var transient = r.Exit is 18 or 28 or 52 or 55 or 56 or 92 || r.Exit == 0 && r.Status is 502 or 503 or 504;
                if (!transient || attempt >= 2)
                    break;
                Thread.Sleep(_options.RetryDelay);
            }
            if (r.Exit != 0)
                throw NetworkError(image, r.Exit);
            var body = File.Exists(scratch) ? File.ReadAllBytes(scratch) : [];
            if (r.Status == 404 && image.Digest is null && reference == image.Tag && ErrorCodes(body) is var codes && !codes.Contains("NAME_UNKNOWN"))
                throw TagNotFound(image, r, body, codes);
            if (r.Status != 200)
                throw HttpError(image, r, body, "manifest");
            var type = Manifests.MediaTypeOf(image, body, r.Header("Content-Type"));
            var actual = Digests.Of(body);
            var expected = expectedDigest ?? r.Header("Docker-Content-Digest");
            if (expected is not null && expected != actual)
            {
                if (!Digests.IsSha256(expected))
                    throw Fail(image, $"{image.Registry} sent a manifest digest in an unsupported form ({expected})", "only sha256 digests are supported");
                throw Fail(image, $"the manifest from {image.Registry} does not match its digest (expected {expected}, got {actual})",
                    "something between us and the registry altered it; try again later, or report it to the registry's operators");
            }
            return (body, type, actual);
        }
        finally
        {
            AtomicFile.TryDelete(scratch);
        }
    }

    /// <summary>
    /// One request with the registry's authorization: sent with what we know for this repository;
    /// a 401 is answered by following its challenge (Bearer token or Basic) and sending again once.
    /// </summary>
    internal CurlResponse Send(ImageRef image, CurlRequest req, IEnumerable<string> headers)
    {
        CheckCurl();
        var known = _auth.HeaderFor(image);
        var first = Build(req, headers, known);
        var r = Curl.Get(first, _options.CurlProgram, _options.TempDirectory);
        if (r.Exit is 0 or 22 && r.Status == 401)
        {
            var authorization = _auth.Answer(image, r, known);
            if (authorization is not null)
                r = Curl.Get(Build(req, headers, authorization), _options.CurlProgram, _options.TempDirectory);
        }
        return r;
    }

    /// <summary>A plain request to an auth service (token realm), with Basic credentials when given.</summary>
    CurlResponse Send(CurlRequest req)
    {
        CheckCurl();
        return Curl.Get(req, _options.CurlProgram, _options.TempDirectory);
    }

    static CurlRequest Build(CurlRequest template, IEnumerable<string> headers, string? authorization)
    {
        var req = new CurlRequest(template.Url, template.OutputFile)
        {
            Resume = template.Resume,
            FailOnHttpError = template.FailOnHttpError,
            MaxBytes = template.MaxBytes,
            MaxTime = template.MaxTime,
            ConnectTimeout = template.ConnectTimeout,
        };
        req.Headers.AddRange(headers);
        if (authorization is not null)
            req.Headers.Add("Authorization: " + authorization);
        return req;
    }

    void CheckCurl()
    {
        if (_curlChecked)
            return;
        if (ChildProcess.Which(_options.CurlProgram) is null)
            throw new KslurmException($"pulling images needs the {_options.CurlProgram} program, which is not on PATH",
                "install curl (e.g. `apt install curl`, `dnf install curl`) or load a module that provides it");
        _curlChecked = true;
    }

    string TempFile()
        => Path.Combine(_options.TempDirectory ?? Path.GetTempPath(), $"kslurm-manifest-{Curl.Unique()}");

    internal static KslurmException Fail(ImageRef image, string what, string? hint = null)
        => new($"{image.Canonical}: {what}", hint);

    internal static KslurmException NetworkError(ImageRef image, int exit)
    {
        var (what, hint) = Curl.Explain(exit, image.Registry);
        return Fail(image, $"cannot reach {image.Registry}: {what} (curl exit code {exit})", hint);
    }

    internal static string LoginHint(string registry) => $"log in with `apptainer registry login --username USER docker://{registry}` "
        + "(or `docker login`), or set APPTAINER_DOCKER_USERNAME and APPTAINER_DOCKER_PASSWORD";

    /// <summary>
    /// A tag not found: the tag list says whether the repository exists at all (most registries
    /// answer MANIFEST_UNKNOWN either way) and shows a few tags it does have.
    /// </summary>
    KslurmException TagNotFound(ImageRef image, CurlResponse manifest, byte[] manifestBody, List<string> codes)
    {
        var scratch = TempFile();
        try
        {
            var r = Send(image, new CurlRequest($"{BaseUrl(image.Registry)}/v2/{image.Repository}/tags/list?n=200", scratch)
            {
                MaxBytes = MaxManifestBytes,
                MaxTime = TimeSpan.FromMinutes(1),
                ConnectTimeout = _options.ConnectTimeout,
            }, []);
            var body = File.Exists(scratch) ? File.ReadAllBytes(scratch) : [];
            var detail = codes.Count > 0 ? $"HTTP 404, {string.Join(", ", codes)}" : "HTTP 404";
            if (r.Exit == 0 && r.Status == 404 && ErrorCodes(body).Contains("NAME_UNKNOWN"))
                return Fail(image, $"no image {image.Name} on {image.Registry} ({detail})", "check the image name");
            if (r.Exit == 0 && r.Status == 200 && JsonText.Parse(body) is JsonObject o && o.Array("tags") is { Count: > 0 } tags)
            {
                var shown = new List<string>();
                for (var i = Math.Max(0, tags.Count - 8); i < tags.Count; i++)
                    if (tags[i] is string tag)
                        shown.Add(tag);
                return Fail(image, $"no tag '{image.Tag}' for {image.Name} on {image.Registry} ({detail})",
                    $"it has tags such as {string.Join(", ", shown)}; tags are case-sensitive");
            }
        }
        catch (JsonException) { }
        finally
        {
            AtomicFile.TryDelete(scratch);
        }
        return HttpError(image, manifest, manifestBody, "manifest");
    }

    /// <summary>An HTTP error answer as one line: registry error codes when the body has them.</summary>
    internal KslurmException HttpError(ImageRef image, CurlResponse r, byte[] body, string what)
    {
        var codes = ErrorCodes(body);
        var detail = codes.Count > 0 ? $"HTTP {r.Status}, {string.Join(", ", codes)}" : $"HTTP {r.Status}";
        var user = _auth.UserFor(image);
        return r.Status switch
        {
            404 when codes.Contains("NAME_UNKNOWN") => Fail(image, $"no image {image.Name} on {image.Registry} ({detail})",
                "check the image name (a private image needs credentials: " + LoginHint(image.Registry) + ")"),
            404 when codes.Contains("BLOB_UNKNOWN") => Fail(image, $"{image.Registry} has lost a {what} of this image ({detail})",
                "the image is broken on the registry; report it to its maintainers"),
            404 => Fail(image, $"no image {image.Canonical} on {image.Registry} ({detail})",
                "check the name and the tag (tags are case-sensitive)"),
            401 or 403 when user is not null => Fail(image, $"{image.Registry} refused access for {user} ({detail})",
                "check the credentials and that this account may pull the image (or the image does not exist)"),
            401 or 403 => Fail(image, $"{image.Registry} needs credentials for this image, or it does not exist ({detail})", LoginHint(image.Registry)),
            429 => Fail(image, $"{image.Registry} refused: too many requests ({detail}, rate limit)",
                "wait a while, or log in (logged-in users get a larger quota): " + LoginHint(image.Registry)),
            >= 500 => Fail(image, $"{image.Registry} answered HTTP {r.Status} ({Reason(r.Status)}) for the {what}",
                "the registry has trouble; try again later"),
            _ => Fail(image, $"{image.Registry} answered {detail} for the {what}",
                "try again later; if it persists, report it to the registry's operators"),
        };
    }

    static string Reason(int status) => status switch
    {
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "server error",
    };

    /// <summary>The "code" fields of a registry error body ({"errors":[{"code":...}]}).</summary>
    static List<string> ErrorCodes(byte[] body)
    {
        var codes = new List<string>();
        if (body.Length is 0 or > 64 * 1024)
            return codes;
        try
        {
            if (JsonText.Parse(body) is JsonObject o && o.Array("errors") is { } errors)
                foreach (var e in errors)
                    if (e is JsonObject eo && eo.String("code") is { Length: > 0 } code)
                        codes.Add(code);
        }
        catch (JsonException) { }
        return codes;
    }

    internal static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => (bytes / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KiB",
        < 1024L * 1024 * 1024 => (bytes / 1048576.0).ToString("0.0", CultureInfo.InvariantCulture) + " MiB",
        _ => (bytes / 1073741824.0).ToString("0.00", CultureInfo.InvariantCulture) + " GiB",
    };
}
