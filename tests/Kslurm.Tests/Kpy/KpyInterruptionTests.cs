using System.Diagnostics;
using Xunit.Abstractions;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// Signals at random points of a save or a load (what Slurm's time limit, scancel, Ctrl-C or the
/// OOM killer do to a job): whatever the moment, the saved archive is the old one or the whole new
/// one, and a loaded venv is there whole or not at all. The figures in the README's reliability
/// section come from Trials.
/// </summary>
[Trait("Tier", "Binary")]
public class KpyInterruptionTests(ITestOutputHelper log)
{
    public const int Trials = 12;
    static readonly string[] Signals = ["KILL", "TERM", "INT"];

    /// <summary>
    /// Starts kpy and sends trial <paramref name="i"/>'s signal at a random moment of its own slice of
    /// 0..2 × <paramref name="fullMs"/> (slices, so early, middle and late moments all come up).
    /// </summary>
    static (int Code, string Signal, int DelayMs) Interrupt(KpySandbox k, string[] args, int i, long fullMs, Random rng, IDictionary<string, string?>? env = null)
    {
        var psi = Repo.StartAtDefaultSignals("kpy", args);
        psi.RedirectStandardError = psi.RedirectStandardOutput = true;
        foreach (var (key, v) in k.S.Env) psi.Environment[key] = v;
        if (env != null) foreach (var (key, v) in env) psi.Environment[key] = v;
        var signal = Signals[i % Signals.Length];
        var slice = fullMs * 2 / Trials;
        var delay = (int)(slice * i + rng.NextInt64(0, Math.Max(1, slice)));
        using var p = Process.Start(psi)!;
        var drain = Task.WhenAll(p.StandardOutput.ReadToEndAsync(), p.StandardError.ReadToEndAsync());
        Thread.Sleep(delay);
        if (!p.HasExited)
            Process.Start("kill", ["-s", signal, p.Id.ToString()])!.WaitForExit();
        Assert.True(p.WaitForExit(60_000), $"kpy {string.Join(' ', args)} did not end after SIG{signal}");
        drain.Wait();
        return (p.ExitCode, signal, delay);
    }

    static void AddBulk(string live, int megabytes)
    {
        using var big = File.Create(Path.Combine(live, "bulk.bin"));
        var buf = new byte[1 << 20];
        for (var i = 0; i < megabytes; i++) { Random.Shared.NextBytes(buf); big.Write(buf); }
    }

    static long TimeMs(Func<Result> run)
    {
        var sw = Stopwatch.StartNew();
        Expect.Ok(run());
        return sw.ElapsedMilliseconds;
    }

    static int Entries(KpySandbox k, string archive)
    {
        var r = k.S.Exec("tar", ["--zstd", "-tf", archive]);
        Expect.Ok(r);
        return r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    [Fact]
    public void A_save_stopped_at_any_moment_keeps_a_whole_archive()
    {
        using var k = new KpySandbox();
        var live = k.CreateDemo("victim");
        AddBulk(live, 60);
        var env = new Dictionary<string, string?> { ["VIRTUAL_ENV"] = live };
        var archive = Path.Combine(k.Archives, "victim.tar.zst");
        var full = TimeMs(() => k.S.Exec(Repo.Tool("kpy"), ["save", "-f", "victim"], extraEnv: env));
        var rng = new Random(20261205);
        var kept = File.ReadAllBytes(archive);
        var entries = Entries(k, archive);
        int old = 0, replaced = 0;
        for (var i = 0; i < Trials; i++)
        {
            var (code, signal, delay) = Interrupt(k, ["save", "-f", "victim"], i, full, rng, env);
            var now = File.ReadAllBytes(archive);
            if (now.AsSpan().SequenceEqual(kept)) { old++; continue; }
            // replaced means whole: every frame checks out and every entry of the venv is listed
            Assert.Equal(0, k.S.Exec("zstd", ["-tq", archive]).Code);
            Assert.True(Entries(k, archive) == entries,
                $"trial {i}: after SIG{signal} at {delay} ms (exit {code}) the archive lists {Entries(k, archive)} entries, not {entries}");
            kept = now;
            replaced++;
        }
        Assert.Equal(Trials, old + replaced);
        log.WriteLine($"save of {full} ms, {Trials} signals: {old} kept the old archive, {replaced} left the whole new one");
        // the next save clears what the killed ones left, and the archive loads
        Expect.Ok(k.S.Exec(Repo.Tool("kpy"), ["save", "-f", "victim"], extraEnv: env));
        Assert.Empty(Directory.EnumerateFiles(k.Archives, ".victim.tar.zst.tmp-*"));
        Expect.Ok(k.Bash("kpy load victim --as revived 2>/dev/null && kslurm-demo"));
        Assert.Equal(60L << 20, new FileInfo(Path.Combine(k.LiveRoot, "revived", "bulk.bin")).Length);
    }

    [Fact]
    public void A_load_stopped_at_any_moment_leaves_the_venv_whole_or_absent()
    {
        using var k = new KpySandbox();
        var live = k.CreateDemo("victim", save: false);
        AddBulk(live, 60);
        Expect.Ok(k.S.Exec(Repo.Tool("kpy"), ["save", "victim"], extraEnv: new Dictionary<string, string?> { ["VIRTUAL_ENV"] = live }));
        var full = TimeMs(() => k.Kpy("load", "victim", "--as", "timing"));
        var rng = new Random(4242);
        int whole = 0, absent = 0;
        for (var i = 0; i < Trials; i++)
        {
            var name = $"t{i}";
            var target = Path.Combine(k.LiveRoot, name);
            var (code, signal, delay) = Interrupt(k, ["load", "victim", "--as", name], i, full, rng);
            if (Directory.Exists(target))
            {
                // there means whole: the program runs from it and the bulk file is all there
                Expect.Ok(k.S.Exec(Path.Combine(target, "bin", "kslurm-demo"), []));
                Assert.Equal(60L << 20, new FileInfo(Path.Combine(target, "bulk.bin")).Length);
                whole++;
            }
            else
            {
                Assert.True(code != 0, $"trial {i}: exit 0 after SIG{signal} at {delay} ms, but {target} is missing");
                absent++;
                // a later load of the same name works and removes what the stopped one left
                Expect.Ok(k.Kpy("load", "victim", "--as", name));
                Expect.Ok(k.S.Exec(Path.Combine(target, "bin", "kslurm-demo"), []));
            }
            Assert.Empty(Directory.EnumerateDirectories(k.LiveRoot, $".{name}.tmp-*"));
        }
        Assert.Equal(Trials, whole + absent);
        log.WriteLine($"load of {full} ms, {Trials} signals: {absent} left no venv, {whole} a whole one");
    }
}
