using System.Diagnostics;
using System.Text;
using Kslurm.Tests.Registry;

namespace Kslurm.Tests.Kapp;

/// <summary>
/// A pull stopped half-way leaves no registry credential on disk: curl gets its options (the
/// Authorization header among them) on its standard input, never from a file, and SIGTERM (what
/// Slurm sends at a time limit or on scancel) ends kapp like Ctrl-C, removing its scratch files.
/// The real kapp pulls from the Basic-auth registry through the fault proxy's slow mode, and is
/// signalled while a blob trickles in.
/// </summary>
[Trait("Tier", "Cluster")]
public sealed class CredentialLeakTests : IDisposable
{
    readonly Sandbox _s = new();
    readonly FaultProxy _proxy = new(LocalRegistries.Basic);

    public CredentialLeakTests()
    {
        _s.Env["PATH"] = $"{Path.Combine(Repo.Root, "tests", "standin")}:{Repo.Dist}:/usr/local/bin:/usr/bin:/bin";
        _s.Env["APPTAINER_DOCKER_USERNAME"] = LocalRegistries.User;
        _s.Env["APPTAINER_DOCKER_PASSWORD"] = LocalRegistries.Password;
        Expect.Ok(_s.Tool("kslurm", "config", "pipdir", Path.Combine(_s.Dir, "pipdir")));
    }

    public void Dispose()
    {
        _proxy.Dispose();
        _s.Dispose();
    }

    static readonly string[] Secrets =
    [
        LocalRegistries.Password,
        Convert.ToBase64String(Encoding.UTF8.GetBytes($"{LocalRegistries.User}:{LocalRegistries.Password}")),
    ];

    /// <summary>Every file under the sandbox (TMPDIR, HOME, pipdir) that holds the password or the Basic header value.</summary>
    List<string> FilesWithTheCredential()
    {
        var found = new List<string>();
        foreach (var f in Directory.EnumerateFiles(_s.Dir, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, AttributesToSkip = 0 }))
        {
            string text;
            try { text = Encoding.Latin1.GetString(File.ReadAllBytes(f)); }
            catch (IOException) { continue; } // gone meanwhile
            if (Secrets.Any(text.Contains))
                found.Add(f);
        }
        return found;
    }

    Process StartPull()
    {
        var psi = Repo.StartAtDefaultSignals("kapp", "pull", $"{_proxy.Registry}/slow/test/single:1.0");
        psi.RedirectStandardOutput = psi.RedirectStandardError = true;
        psi.WorkingDirectory = _s.Dir;
        psi.Environment.Clear();
        foreach (var (k, v) in _s.Env)
            if (v is not null) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>Waits until the proxy is trickling a blob to kapp (an authorized request).</summary>
    void WaitForBlobTransfer()
    {
        for (var i = 0; i < 200; i++)
        {
            if (_proxy.Log().Any(l => l.String("mode") == "slow" && l.String("path")!.Contains("/blobs/") && l.Long("status") == 200))
                return;
            Thread.Sleep(50);
        }
        Assert.Fail("kapp never started downloading a blob");
    }

    [Theory]
    [InlineData("TERM", 143)]
    [InlineData("INT", 130)]
    [InlineData("KILL", 137)]
    public async Task A_pull_stopped_by_a_signal_leaves_no_credential_in_any_file(string signal, int code)
    {
        using var p = StartPull();
        var err = p.StandardError.ReadToEndAsync();
        WaitForBlobTransfer();
        Thread.Sleep(200); // mid-transfer: curl is running with the Authorization header
        Expect.Ok(_s.Exec("kill", ["-s", signal, p.Id.ToString()]));
        Assert.True(p.WaitForExit(20_000), $"kapp did not end after SIG{signal}");
        Assert.Equal(code, p.ExitCode);
        var stderr = await err;
        Assert.DoesNotContain("Exception", stderr);
        Thread.Sleep(300); // a curl left running by SIGKILL may still write
        Assert.Empty(FilesWithTheCredential());

        if (signal != "KILL")
        {
            // Like Ctrl-C, SIGTERM removes the scratch; the partial blob stays for the next pull to resume.
            var tmp = _s.Env["TMPDIR"]!;
            Assert.Empty(Directory.GetFileSystemEntries(tmp, "kslurm-*"));
            if (signal == "TERM")
                Assert.Contains("kapp: stopped by SIGTERM", stderr);
            var pull = _s.Tool("kapp", "pull", $"{_proxy.Registry}/slow/test/single:1.0");
            Expect.Ok(pull);
        }
    }
}
