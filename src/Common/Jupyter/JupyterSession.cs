using System.Globalization;
using System.Text;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Json;

namespace Kslurm.Jupyter;

/// <summary>
/// A running Jupyter server, as recorded in `$XDG_STATE_HOME/kslurm/jupyter/JOBID.json` (0600, it
/// holds the token) by the job itself once the server answers. The login node reads these records
/// for `kjupyter list/url/tunnel/log/stop`; the job's output goes to JOBID.log beside it.
/// </summary>
public sealed record JupyterSession(string JobId, string Node, int Port, string Token, string UrlPath, string App,
    string LoginHost, string User, DateTime Started)
{
    /// <summary>The saved venv the server runs in (kjupyter --venv), if any.</summary>
    public string? Venv { get; init; }

    public static string Dir => Path.Combine(Paths.StateDir, "jupyter");

    public static string RecordPath(string jobId) => Path.Combine(Dir, jobId + ".json");

    public static string LogPath(string jobId) => Path.Combine(Dir, jobId + ".log");

    public string LocalUrl => $"http://localhost:{Port}{UrlPath}?token={Token}";

    public string NodeUrl => $"http://{Node}:{Port}{UrlPath}?token={Token}";

    public string Tunnel => $"ssh -N -L {Port}:{Node}:{Port} {User}@{LoginHost}";

    public void Write()
    {
        Directory.CreateDirectory(Dir);
        var o = new JsonObject
        {
            ["job_id"] = JobId, ["node"] = Node, ["port"] = Port, ["token"] = Token, ["url_path"] = UrlPath,
            ["app"] = App, ["login_host"] = LoginHost, ["user"] = User,
            ["started"] = Started.ToUniversalTime().ToString("o", CultureInfo.InvariantCulture),
        };
        if (Venv is not null)
            o["venv"] = Venv;
        AtomicFile.WriteAllText(RecordPath(JobId), JsonText.Write(o) + "\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    public static JupyterSession? Read(string jobId)
    {
        var path = RecordPath(jobId);
        if (!File.Exists(path))
            return null;
        try
        {
            if (JsonText.Parse(File.ReadAllBytes(path), path) is not JsonObject o)
                return null;
            return new JupyterSession(o.String("job_id") ?? jobId, o.String("node") ?? "?", (int)(o.Long("port") ?? 0),
                o.String("token") ?? "", o.String("url_path") ?? "/", o.String("app") ?? "?",
                o.String("login_host") ?? "?", o.String("user") ?? Environment.UserName,
                DateTime.TryParse(o.String("started"), CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var t) ? t : File.GetLastWriteTimeUtc(path))
            { Venv = o.String("venv") };
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Job ids that have a record or a log, newest first.</summary>
    public static List<string> Known()
    {
        if (!Directory.Exists(Dir))
            return [];
        return [.. Directory.EnumerateFiles(Dir)
            .Where(f => f.EndsWith(".json", StringComparison.Ordinal) || f.EndsWith(".log", StringComparison.Ordinal))
            .Select(f => Path.GetFileNameWithoutExtension(f)!)
            .Where(id => id.Length > 0 && id.All(char.IsAsciiDigit))
            .Distinct()
            .OrderByDescending(id => long.Parse(id, CultureInfo.InvariantCulture))];
    }

    public static void Forget(string jobId) => AtomicFile.TryDelete(RecordPath(jobId));

    /// <summary>Logs of sessions over 30 days old (their records are gone) and stray submit scripts.</summary>
    public static void Prune()
    {
        if (!Directory.Exists(Dir))
            return;
        var cutoff = DateTime.UtcNow.AddDays(-30);
        foreach (var f in Directory.EnumerateFiles(Dir))
        {
            var name = Path.GetFileName(f);
            var old = File.GetLastWriteTimeUtc(f) < cutoff;
            if (old && name.EndsWith(".log", StringComparison.Ordinal) && !File.Exists(RecordPath(Path.GetFileNameWithoutExtension(name))))
                AtomicFile.TryDelete(f);
            else if (old && name.StartsWith("pending-", StringComparison.Ordinal))
                AtomicFile.TryDelete(f);
        }
    }

    /// <summary>A token for the server: 24 random bytes from the kernel, hex.</summary>
    public static string NewToken()
    {
        var bytes = new byte[24];
        using (var f = File.OpenRead("/dev/urandom"))
            f.ReadExactly(bytes);
        return Convert.ToHexStringLower(bytes);
    }

    /// <summary>The last lines of the job's output, for error messages.</summary>
    public static string LogTail(string jobId, int lines)
    {
        var path = LogPath(jobId);
        if (!File.Exists(path))
            return "";
        var all = File.ReadAllLines(path, Encoding.UTF8);
        return string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
    }
}
