using System.Diagnostics;

namespace Kslurm.Tests;

/// <summary>
/// A release server on 127.0.0.1 serving a folder the way GitHub's releases/latest/download does
/// (LATEST, kslurm-V-linux-x86_64.tar.gz and .sha256, install.sh), started with `make release`'s
/// out/ in it. In <c>dying</c> mode it sends half of any tarball and then exits, as a server that
/// crashes mid-download; in <c>slow</c> mode it sends tarballs in small pieces over several
/// seconds, so a test can interrupt a download in progress.
/// </summary>
public sealed class ReleaseServer : IDisposable
{
    const string Script = """
        import functools, http.server, os, sys, time
        folder, mode = sys.argv[1], sys.argv[2]
        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *args):
                pass
            def do_GET(self):
                if mode == "dying" and self.path.endswith(".tar.gz"):
                    data = open(self.translate_path(self.path), "rb").read()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    os._exit(0)
                if mode == "slow" and self.path.endswith(".tar.gz"):
                    data = open(self.translate_path(self.path), "rb").read()
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    step = len(data) // 100 + 1
                    for i in range(0, len(data), step):
                        self.wfile.write(data[i : i + step])
                        self.wfile.flush()
                        time.sleep(0.1)
                    return
                return super().do_GET()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=folder))
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """;

    readonly Process _server;

    public ReleaseServer(string folder, string mode = "normal")
    {
        Folder = folder;
        Directory.CreateDirectory(folder);
        var script = Path.Combine(folder, "..", $"server-{Guid.NewGuid():N}.py");
        File.WriteAllText(script, Script);
        var psi = new ProcessStartInfo("python3", ["-u", script, folder, mode])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        _server = Process.Start(psi)!;
        var port = _server.StandardOutput.ReadLine() ?? throw new InvalidOperationException("the release server did not start: " + _server.StandardError.ReadToEnd());
        Url = $"http://127.0.0.1:{port.Trim()}";
        _server.StandardError.ReadToEndAsync();
    }

    public string Folder { get; }
    public string Url { get; }

    /// <summary>Copies `make release`'s out/ (the real tarball of this build, install.sh, LATEST).</summary>
    public ReleaseServer WithOut()
    {
        var tarball = Path.Combine(Repo.Out, $"kslurm-{Repo.Version}-linux-x86_64.tar.gz");
        if (!File.Exists(tarball))
            throw new InvalidOperationException($"{tarball} is missing: `make test` runs `./build.sh release` first");
        foreach (var f in Directory.GetFiles(Repo.Out))
            File.Copy(f, Path.Combine(Folder, Path.GetFileName(f)), overwrite: true);
        return this;
    }

    public void Dispose()
    {
        try { _server.Kill(); } catch (InvalidOperationException) { }
        _server.WaitForExit();
    }
}

/// <summary>
/// Release tarballs assembled from this build's one, as `./build.sh release` lays them out, under
/// another version label: a "B" release costs no second build. Each binary gets bytes appended
/// (an ELF runs the same with trailing data), so B's files differ from A's and a test can tell
/// which set is installed.
/// </summary>
public static class Releases
{
    public static string Name(string version) => $"kslurm-{version}-linux-x86_64";

    /// <summary>Writes kslurm-V tarball, .sha256 and LATEST = V into the folder; returns the binaries' sha256 by tool.</summary>
    /// <param name="tamper">changes the unpacked release folder before it is packed (a broken release)</param>
    public static Dictionary<string, string> Publish(Sandbox s, string folder, string version, Action<string>? tamper = null)
    {
        var work = Path.Combine(s.Dir, "assemble-" + version);
        Directory.CreateDirectory(work);
        Expect.Ok(s.Exec("tar", ["-xzf", Path.Combine(Repo.Out, Name(Repo.Version) + ".tar.gz"), "-C", work]));
        var root = Path.Combine(work, Name(version));
        Directory.Move(Path.Combine(work, Name(Repo.Version)), root);
        var sums = new Dictionary<string, string>();
        foreach (var t in Repo.Tools)
        {
            var bin = Path.Combine(root, "bin", t);
            File.AppendAllText(bin, $"\nkslurm test release {version}\n");
            sums[t] = Sha256Of(bin);
        }
        var lua = Path.Combine(root, "share", "kslurm", "kslurm.lua");
        File.WriteAllText(lua, File.ReadAllText(lua).Replace($"\"{Repo.Version}\"", $"\"{version}\""));
        tamper?.Invoke(root);
        var tarball = Path.Combine(folder, Name(version) + ".tar.gz");
        Expect.Ok(s.Exec("tar", ["--owner=0", "--group=0", "-czf", tarball, "-C", work, Name(version)]));
        File.WriteAllText(tarball + ".sha256", $"{Sha256Of(tarball)}  {Name(version)}.tar.gz\n");
        File.WriteAllText(Path.Combine(folder, "LATEST"), version + "\n");
        return sums;
    }

    public static string Sha256Of(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(f));
    }

    public static Dictionary<string, string> Installed(string binDir)
        => Repo.Tools.ToDictionary(t => t, t => Sha256Of(Path.Combine(binDir, t)));

    /// <summary>The sha256 of each binary in this build (release A as served from out/).</summary>
    public static Dictionary<string, string> Dist()
        => Repo.Tools.ToDictionary(t => t, t => Sha256Of(Repo.Tool(t)));
}
