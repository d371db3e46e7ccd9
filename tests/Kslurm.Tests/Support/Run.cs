using System.Diagnostics;
using System.Text;

namespace Kslurm.Tests;

public sealed record Result(int Code, string Stdout, string Stderr)
{
    public override string ToString() => $"exit {Code}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>
/// Runs a real program with a controlled environment: a throw-away HOME, no XDG overrides and a
/// private site-config path, so tests never read or write the developer's own settings.
/// </summary>
public sealed class Sandbox : IDisposable
{
    public Sandbox()
    {
        Dir = Directory.CreateTempSubdirectory("kslurm-test-").FullName;
        Home = Path.Combine(Dir, "home");
        Directory.CreateDirectory(Home);
        Env = new Dictionary<string, string?>
        {
            ["PATH"] = Environment.GetEnvironmentVariable("PATH"),
            ["HOME"] = Home,
            ["LANG"] = "C.UTF-8",
            ["KSLURM_SITE_CONFIG"] = Path.Combine(Dir, "site", "config.toml"),
            ["TMPDIR"] = Path.Combine(Dir, "tmp"),
            ["SLURM_CONF"] = Cluster.SlurmConf, // the test cluster's, for the Slurm commands tests run
        };
        Directory.CreateDirectory(Env["TMPDIR"]!);
    }

    public string Dir { get; }
    public string Home { get; }
    public Dictionary<string, string?> Env { get; }

    public string UserConfig => Path.Combine(Home, ".config", "kslurm", "config.toml");
    public string SiteConfig => Env["KSLURM_SITE_CONFIG"]!;

    public Result Tool(string tool, params string[] args) => Exec(Repo.Tool(tool), args);

    public Result Exec(string program, IEnumerable<string> args, string? stdin = null, string? cwd = null,
        IDictionary<string, string?>? extraEnv = null, int timeoutMs = 120_000)
    {
        var psi = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = cwd ?? Dir,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        psi.Environment.Clear();
        foreach (var (k, v) in Env)
            if (v is not null) psi.Environment[k] = v;
        if (extraEnv is not null)
            foreach (var (k, v) in extraEnv)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = StartExecutable(psi);
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
            p.StandardInput.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(timeoutMs))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeoutMs} ms");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, o.Result, e.Result);
    }

    /// <summary>Starts PSI, waiting out "Text file busy": a script a test has just written may still
    /// be open for writing in a child that another test forked at that instant (until its exec).</summary>
    public static Process StartExecutable(ProcessStartInfo psi)
    {
        for (var attempt = 1; ; attempt++)
        {
            try { return Process.Start(psi)!; }
            catch (System.ComponentModel.Win32Exception e) when (e.NativeErrorCode == 26 && attempt < 50)
            {
                Thread.Sleep(20);
            }
        }
    }

    public void Dispose()
    {
        try { Directory.Delete(Dir, recursive: true); } catch { /* best effort */ }
    }
}

public static class Expect
{
    /// <summary>
    /// A user-facing error: exact exit code, one `tool: error:` line (+ optional hint) at the end,
    /// only the tool's own progress notes before it, no stack trace.
    /// </summary>
    public static void Error(Result r, string tool, int code, string contains)
    {
        Assert.True(r.Code == code, $"expected exit {code}\n{r}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.FindIndex(lines, l => l.StartsWith($"{tool}: error: ", StringComparison.Ordinal));
        Assert.True(at >= 0 && lines.Length - at is 1 or 2, $"expected a one-line error (+hint) at the end\n{r}");
        Assert.All(lines[..at], l => Assert.StartsWith($"{tool}: ", l));
        Assert.Contains(contains, lines[at]);
        if (lines.Length - at == 2)
            Assert.StartsWith($"{tool}: hint: ", lines[at + 1]);
        Assert.DoesNotContain("   at ", r.Stderr);
        Assert.DoesNotContain("Exception", r.Stderr);
    }

    /// <summary>
    /// An error reported after other output the tool chose to show (e.g. a job log's tail): the
    /// last `tool: error:` line (+ optional hint) ends stderr; no stack trace anywhere.
    /// </summary>
    public static void ErrorAtEnd(Result r, string tool, int code, string contains)
    {
        Assert.True(r.Code == code, $"expected exit {code}\n{r}");
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var at = Array.FindLastIndex(lines, l => l.StartsWith($"{tool}: error: ", StringComparison.Ordinal));
        Assert.True(at >= 0 && lines.Length - at is 1 or 2, $"expected a one-line error (+hint) at the end\n{r}");
        Assert.Contains(contains, lines[at]);
        if (lines.Length - at == 2)
            Assert.StartsWith($"{tool}: hint: ", lines[at + 1]);
        Assert.DoesNotContain("   at ", r.Stderr);
    }

    public static void Ok(Result r)
        => Assert.True(r.Code == 0, $"expected success\n{r}");
}
