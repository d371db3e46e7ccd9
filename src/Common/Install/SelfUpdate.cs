using System.Runtime.InteropServices;
using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Host;
using Kslurm.Processes;
using Kslurm.Registry;

namespace Kslurm.Install;

/// <summary>The running install: its bin folder, its record, where its releases come from.</summary>
public sealed class Installation
{
    public Installation(string binDir)
    {
        BinDir = binDir;
        Record = InstallRecord.Read(binDir);
    }

    public static Installation Current() => new(Paths.BinDir);

    public string BinDir { get; }
    public InstallRecord? Record { get; }

    /// <summary>KSLURM_INSTALL_URL, else the URL the installer used, else the installer's default.</summary>
    public string Url => Environment.GetEnvironmentVariable("KSLURM_INSTALL_URL") is { Length: > 0 } u ? u.TrimEnd('/')
        : Record?.Url ?? InstallRecord.DefaultUrl;

    /// <summary>The release label the installer (or the last update) recorded; this binary's own version without a record.</summary>
    public string Version => Record?.Version ?? BuildInfo.Version;

    /// <summary>A shared install (install.sh --prefix) also has a modulefile and a settings example to keep current.</summary>
    public string? Prefix => Record?.Prefix is not null ? Path.GetDirectoryName(BinDir) : null;
}

/// <summary>
/// `kslurm self update`: the release is fetched with curl, checked against its sha256, unpacked
/// beside the binaries and tried (`kslurm --version` must run on this machine); only then are the
/// six binaries renamed over the old ones, with hard-link backups so a failure midway puts the
/// old set back. Ctrl-C and SIGTERM wait for the renames to finish. The site settings are never
/// touched.
/// </summary>
public static class SelfUpdate
{
    public const string Platform = "linux-x86_64";
    const string Scratch = ".kslurm-update-";

    /// <summary>The version LATEST names at the install URL.</summary>
    public static string Latest(Installation inst)
    {
        var dir = Directory.CreateTempSubdirectory("kslurm-latest-").FullName;
        try
        {
            var file = Path.Combine(dir, "LATEST");
            Fetch(inst.Url + "/LATEST", file, 4096, "the release listing");
            var v = File.ReadAllText(file).Trim();
            if (!ReleaseVersion.IsValid(v))
                throw new KslurmException($"{inst.Url}/LATEST does not name a version (it starts with '{Clip(v)}')",
                    "check KSLURM_INSTALL_URL (or the url in " + Paths.Pretty(InstallRecord.PathIn(inst.BinDir)) + ")");
            return v;
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Installs release `version` over this install; returns the version the new kslurm reports.</summary>
    public static string Install(Installation inst, string version, Action<string> note)
    {
        if (RuntimeInformation.OSArchitecture != Architecture.X64)
            throw new KslurmException($"no kslurm release exists for {RuntimeInformation.OSArchitecture} (Linux x86_64 only); nothing was changed");
        var bin = inst.BinDir;
        InstallFolder.RequireWritable(bin, "update");
        using var _ = FileLock.Acquire(Path.Combine(bin, ".kslurm-update.lock"), TimeSpan.FromMinutes(10), note);
        CleanStale(bin);
        var scratch = Path.Combine(bin, Scratch + Environment.ProcessId);
        Directory.CreateDirectory(scratch, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var staged = new List<(string Staged, string Target)>();
        try
        {
            var name = $"kslurm-{version}-{Platform}";
            var tarball = Path.Combine(scratch, name + ".tar.gz");
            note($"downloading {name}.tar.gz from {inst.Url}");
            Fetch($"{inst.Url}/{name}.tar.gz.sha256", tarball + ".sha256", 4096, "the checksum file");
            Fetch($"{inst.Url}/{name}.tar.gz", tarball, 1L << 30, name + ".tar.gz");
            var expected = File.ReadAllText(tarball + ".sha256").Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault() ?? "";
            var actual = Sha256.HashFileHex(tarball);
            if (!string.Equals(expected, actual, StringComparison.OrdinalIgnoreCase))
                throw new KslurmException($"checksum mismatch for {name}.tar.gz (expected {Clip(expected)}, got {actual}); nothing was changed",
                    "the download or the release server is damaged; try again later");

            var unpacked = Path.Combine(scratch, "x");
            Directory.CreateDirectory(unpacked);
            var tar = ChildProcess.Capture(["tar", "-xzf", tarball, "-C", unpacked, "--no-same-owner"]);
            if (tar.ExitCode != 0)
                throw new KslurmException($"cannot unpack {name}.tar.gz: {Clip(tar.Stderr.Trim(), 200)}; nothing was changed");
            var root = Path.Combine(unpacked, name);
            foreach (var t in InstallRecord.Tools)
                if (FileStat.TryLStat(Path.Combine(root, "bin", t)) is not { Kind: FileKind.Regular })
                    throw new KslurmException($"{name}.tar.gz lacks bin/{t}; nothing was changed");

            // The new set must start here (glibc, CPU) before it replaces a working one.
            var newKslurm = Path.Combine(root, "bin", "kslurm");
            File.SetUnixFileMode(newKslurm, ExecMode);
            var probe = ChildProcess.Capture([newKslurm, "--version"]);
            if (probe.ExitCode != 0)
                throw new KslurmException($"the new kslurm does not run on this machine ({Clip((probe.Stderr + probe.Stdout).Trim(), 200)}); nothing was changed");

            foreach (var t in InstallRecord.Tools)
            {
                var s = Path.Combine(bin, $".{t}.new-{Environment.ProcessId}");
                File.Move(Path.Combine(root, "bin", t), s);
                File.SetUnixFileMode(s, ExecMode);
                InstallFolder.Flush(s);
                staged.Add((s, Path.Combine(bin, t)));
            }
            Commit(bin, staged);
            staged.Clear();

            if (inst.Prefix is { } prefix)
                RefreshShared(prefix, root, inst.Version, version);
            new InstallRecord(inst.Url, version, inst.Prefix).Write(bin);
            return version;
        }
        finally
        {
            foreach (var (s, _) in staged)
                AtomicFile.TryDelete(s);
            try { Directory.Delete(scratch, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>
    /// The renames. Each old binary first gets a second name (.NAME.old-PID), so that if a rename
    /// fails the ones already done are undone and the old set is whole again.
    /// </summary>
    static void Commit(string bin, List<(string Staged, string Target)> staged)
    {
        var pid = Environment.ProcessId;
        var backups = new List<(string Backup, string Target)>();
        var done = new List<string>();
        // Signals wait: six renames take microseconds, and stopping between two would mix versions.
        using var held = Interrupt.Hold();
        try
        {
            foreach (var (_, target) in staged)
            {
                var backup = Path.Combine(bin, $".{Path.GetFileName(target)}.old-{pid}");
                if (File.Exists(target))
                {
                    if (!InstallFolder.TryHardLink(target, backup))
                        File.Copy(target, backup, overwrite: true);
                    backups.Add((backup, target));
                }
            }
            try
            {
                foreach (var (s, target) in staged)
                {
                    File.Move(s, target, overwrite: true);
                    done.Add(target);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                foreach (var target in done)
                {
                    var b = backups.FirstOrDefault(x => x.Target == target).Backup;
                    if (b is not null) File.Move(b, target, overwrite: true); else AtomicFile.TryDelete(target);
                }
                throw new KslurmException($"cannot replace the binaries in {bin}: {e.Message}; the old ones are back in place");
            }
            AtomicFile.SyncDirectory(bin);
        }
        finally
        {
            foreach (var (b, _) in backups)
                AtomicFile.TryDelete(b);
        }
    }

    /// <summary>A shared install's modulefile (renamed to the new version) and settings example; never etc/kslurm/config.toml.</summary>
    static void RefreshShared(string prefix, string root, string oldVersion, string newVersion)
    {
        const UnixFileMode readable = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
        var lua = Path.Combine(root, "share", "kslurm", "kslurm.lua");
        if (File.Exists(lua))
        {
            var dir = Path.Combine(prefix, "modulefiles", "kslurm");
            AtomicFile.WriteAllText(Path.Combine(dir, newVersion + ".lua"), File.ReadAllText(lua).Replace("@PREFIX@", prefix), readable);
            if (oldVersion != newVersion && ReleaseVersion.IsValid(oldVersion))
                AtomicFile.TryDelete(Path.Combine(dir, oldVersion + ".lua"));
        }
        var example = Path.Combine(root, "etc", "kslurm", "config.toml.example");
        if (File.Exists(example))
            AtomicFile.WriteAllText(Path.Combine(prefix, "share", "kslurm", "config.toml.example"), File.ReadAllText(example), readable);
    }

    /// <summary>Leftovers of an update that was killed (its pid is gone): scratch folders, staged binaries, backups.</summary>
    static void CleanStale(string bin)
    {
        foreach (var path in Directory.EnumerateFileSystemEntries(bin, ".*"))
        {
            var name = Path.GetFileName(path);
            var dash = name.LastIndexOf('-');
            if (dash < 0 || !int.TryParse(name[(dash + 1)..], out var pid) || pid == Environment.ProcessId || Alive(pid))
                continue;
            if (name.StartsWith(Scratch, StringComparison.Ordinal))
            {
                try { Directory.Delete(path, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            }
            else if (InstallRecord.Tools.Any(t => name == $".{t}.new-{pid}"))
            {
                AtomicFile.TryDelete(path);
            }
            else if (InstallRecord.Tools.FirstOrDefault(t => name == $".{t}.old-{pid}") is { } tool && File.Exists(Path.Combine(bin, tool)))
            {
                // A backup is only ever deleted while the binary it backs up exists.
                AtomicFile.TryDelete(path);
            }
        }
    }

    static bool Alive(int pid) => Libc.Kill(pid, 0) == 0 || Marshal.GetLastPInvokeError() != 3; // ESRCH: no such process

    static void Fetch(string url, string file, long maxBytes, string what)
    {
        var r = Curl.Get(new CurlRequest(url, file) { FailOnHttpError = true, MaxBytes = maxBytes, MaxTime = TimeSpan.FromMinutes(30) });
        if (r.Transferred)
            return;
        AtomicFile.TryDelete(file);
        if (r.Status >= 400)
            throw new KslurmException($"cannot download {what}: {url} answered HTTP {r.Status}; nothing was changed",
                r.Status == 404 ? "check the version (kslurm self update --check) and KSLURM_INSTALL_URL" : "try again later");
        var (why, hint) = Curl.Explain(r.Exit, Host(url));
        throw new KslurmException($"cannot download {what} from {url}: {why}; nothing was changed", hint.Replace("registry", "release server").Replace("pull on a login node", "update from a login node"));
    }

    static string Host(string url)
    {
        var s = url.IndexOf("://", StringComparison.Ordinal);
        var rest = s >= 0 ? url[(s + 3)..] : url;
        var slash = rest.IndexOf('/');
        return slash >= 0 ? rest[..slash] : rest;
    }

    static string Clip(string s, int max = 64) => s.Length <= max ? s : s[..max] + "...";

    const UnixFileMode ExecMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
        | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
}
