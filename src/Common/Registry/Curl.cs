using System.Globalization;
using System.Text;
using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Processes;

namespace Kslurm.Registry;

/// <summary>One HTTP GET to make with curl.</summary>
internal sealed class CurlRequest(string url, string? outputFile)
{
    public string Url { get; } = url;
    /// <summary>Where the body goes; null keeps it in memory (<see cref="CurlResponse.Body"/>), for
    /// answers that are secrets (tokens) and must never touch a file.</summary>
    public string? OutputFile { get; } = outputFile;
    /// <summary>Request headers, e.g. Authorization: they go to curl on its stdin, never argv or a file.</summary>
    public List<string> Headers { get; } = [];
    /// <summary>user:password for Basic auth (token realms); also kept off the command line.</summary>
    public string? UserPassword { get; init; }
    /// <summary>Append to OutputFile from its current size (Range request), as curl's -C -.</summary>
    public bool Resume { get; init; }
    /// <summary>Write no body for HTTP errors (--fail): a 4xx/5xx page must not end up in a blob.</summary>
    public bool FailOnHttpError { get; init; }
    public long? MaxBytes { get; init; }
    public TimeSpan? MaxTime { get; init; }
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);
}

/// <summary>What came back: curl's exit code, the final HTTP status and that response's headers.</summary>
internal sealed record CurlResponse(int Exit, int Status, IReadOnlyList<KeyValuePair<string, string>> Headers, string Error, string Body = "")
{
    public bool Transferred => Exit == 0 && Status is >= 200 and < 300;

    /// <summary>The last value of a header (names compare case-insensitively).</summary>
    public string? Header(string name)
    {
        string? last = null;
        foreach (var (k, v) in Headers)
            if (string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                last = v;
        return last;
    }

    public List<string> HeaderValues(string name)
    {
        var values = new List<string>();
        foreach (var (k, v) in Headers)
            if (string.Equals(k, name, StringComparison.OrdinalIgnoreCase))
                values.Add(v);
        return values;
    }
}

/// <summary>
/// HTTP through the curl program: on every login node, and it keeps TLS, proxies and HTTP/2 out
/// of our binaries (System.Net.Http would add megabytes). Every option goes to curl as a config
/// on its standard input (`-K -`): no URL, token or password is visible in the process list, and
/// none is ever written to a file, so a kill -9 leaves no credential behind. curl's own
/// ~/.curlrc is ignored (-q) for predictable behaviour.
/// </summary>
internal static class Curl
{
    public static CurlResponse Get(CurlRequest req, string program = "curl", string? tempRoot = null)
    {
        Interrupt.Check();
        // Private (0700) and new: nobody else can read the response headers or swap files in it.
        var scratch = Path.Combine(tempRoot ?? Path.GetTempPath(), $"kslurm-curl-{Unique()}");
        Directory.CreateDirectory(scratch, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            var headerFile = Path.Combine(scratch, "headers");
            var cfg = new StringBuilder();
            Line(cfg, "url", req.Url);
            if (req.OutputFile is not null)
                Line(cfg, "output", req.OutputFile);
            Line(cfg, "dump-header", headerFile);
            // After the body when it comes to stdout: the status is what follows the last newline.
            Line(cfg, "write-out", "\\n%{http_code}");
            Line(cfg, "user-agent", $"kslurm/{BuildInfo.Version}");
            Line(cfg, "connect-timeout", ((int)req.ConnectTimeout.TotalSeconds).ToString(CultureInfo.InvariantCulture));
            // A stalled transfer (under 1 KB/s for a minute) fails, and is retried by the caller.
            Line(cfg, "speed-limit", "1024");
            Line(cfg, "speed-time", "60");
            Line(cfg, "proto", "=http,https");
            Line(cfg, "proto-redir", "=http,https");
            Line(cfg, "max-redirs", "10");
            cfg.Append("location\nsilent\nshow-error\ngloboff\n"); // globoff: [::1] is an address, not a glob
            if (req.MaxTime is { } t)
                Line(cfg, "max-time", ((int)t.TotalSeconds).ToString(CultureInfo.InvariantCulture));
            if (req.MaxBytes is { } max)
                Line(cfg, "max-filesize", max.ToString(CultureInfo.InvariantCulture));
            if (req.Resume)
                Line(cfg, "continue-at", "-");
            if (req.FailOnHttpError)
                cfg.Append("fail\n");
            if (req.UserPassword is not null)
                Line(cfg, "user", req.UserPassword);
            foreach (var h in req.Headers)
                Line(cfg, "header", h);

            var r = ChildProcess.Capture([program, "-q", "-K", "-"], stdin: cfg.ToString());
            Interrupt.Check(); // stopped by a signal: the finally below still cleans up
            var cut = r.Stdout.LastIndexOf('\n');
            var status = int.TryParse(r.Stdout.AsSpan(cut + 1).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var s) ? s : 0;
            var body = cut > 0 ? r.Stdout[..cut] : "";
            var headers = File.Exists(headerFile) ? LastResponseHeaders(File.ReadAllText(headerFile)) : [];
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var error = lines.Length > 0 ? lines[^1] : "";
            return new CurlResponse(r.ExitCode, status, headers, error, body);
        }
        finally
        {
            AtomicFile.TryDelete(Path.Combine(scratch, "headers"));
            try { Directory.Delete(scratch); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>pid and 64 random bits: a fresh name for scratch files.</summary>
    internal static string Unique() => $"{Environment.ProcessId}-{Random.Shared.NextInt64():x16}";

    /// <summary>A config line: name = "value" with curl's escapes; control characters are refused.</summary>
    static void Line(StringBuilder sb, string name, string value)
    {
        if (HasControl(value))
            throw new KslurmException($"refusing to pass a control character to curl in {name}");
        sb.Append(name).Append(" = \"");
        foreach (var c in value)
        {
            if (c is '"' or '\\')
                sb.Append('\\');
            sb.Append(c);
        }
        sb.Append("\"\n");
    }

    internal static bool HasControl(string s) => s.AsSpan().ContainsAnyInRange('\0', '\x1f') || s.Contains('\x7f');

    /// <summary>With redirects the dump holds every response; the last one is what we got.</summary>
    internal static List<KeyValuePair<string, string>> LastResponseHeaders(string dump)
    {
        var result = new List<KeyValuePair<string, string>>();
        foreach (var raw in dump.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("HTTP/", StringComparison.Ordinal))
            {
                result.Clear();
                continue;
            }
            var colon = line.IndexOf(':');
            if (colon > 0)
                result.Add(new(line[..colon].Trim(), line[(colon + 1)..].Trim()));
        }
        return result;
    }

    /// <summary>What a curl exit code means, for a one-line error, and what to try.</summary>
    public static (string What, string Hint) Explain(int exit, string registry) => exit switch
    {
        5 => ("could not resolve the proxy", "check the https_proxy / http_proxy variables"),
        6 => ($"could not resolve the host name {registry}", "check the registry name, and the network/DNS of this node (compute nodes often have no internet access: pull on a login node)"),
        7 => ($"could not connect to {registry}", "the registry or a firewall refused the connection; check the address and port, or the network of this node"),
        16 or 92 => ("the HTTP/2 connection failed", "try again later"),
        18 => ("the connection closed before the transfer was complete", "try again later"),
        22 => ("the server answered with an HTTP error", "try again later"),
        28 => ("the connection timed out", "the registry is slow or unreachable from this node; try again later, or from a login node"),
        35 => ("the TLS handshake failed", "a proxy or firewall may intercept HTTPS; check the network settings"),
        47 => ("too many redirects", "the registry is misconfigured; try again later"),
        51 or 60 or 77 or 83 => ("the registry's TLS certificate is not trusted", "install the site's CA certificate in the system trust store (or set CURL_CA_BUNDLE)"),
        52 => ("the server sent an empty reply", "try again later"),
        55 or 56 => ("the connection broke while receiving data", "try again later"),
        58 or 59 => ("TLS client setup failed", "check curl's TLS configuration"),
        63 => ("the answer was larger than expected", "the registry sent something other than what its manifest promised"),
        _ => ($"curl failed (exit code {exit})", "try again later; run `curl -v` against the registry to see more"),
    };
}
