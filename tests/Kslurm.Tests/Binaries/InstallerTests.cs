namespace Kslurm.Tests.Binaries;

/// <summary>
/// install.sh end to end: `make release` output served over HTTP on 127.0.0.1, fetched with
/// `curl | sh` exactly as the README tells users to.
/// </summary>
[Trait("Tier", "Binary")]
public sealed class InstallerTests : IDisposable
{
    readonly Sandbox _s = new();
    readonly ReleaseServer _server;
    readonly string _served;
    readonly string _url;

    public InstallerTests()
    {
        _server = new ReleaseServer(Path.Combine(_s.Dir, "www")).WithOut();
        _served = _server.Folder;
        _url = _server.Url;
    }

    public void Dispose()
    {
        _server.Dispose();
        _s.Dispose();
    }

    Result CurlPipeSh(string extra = "", Dictionary<string, string?>? env = null)
    {
        env ??= [];
        env["KSLURM_INSTALL_URL"] = _url;
        return _s.Exec("sh", ["-c", $"curl -fsSL {_url}/install.sh | sh -s -- {extra}"], extraEnv: env);
    }

    string HomeBin => Path.Combine(_s.Home, "bin");

    [Fact]
    public void Installs_every_binary_into_home_bin_and_prints_the_path_line()
    {
        var r = CurlPipeSh();
        Expect.Ok(r);
        foreach (var t in Repo.Tools)
        {
            var v = _s.Exec(Path.Combine(HomeBin, t), ["--version"]);
            Assert.Equal($"{t} {Repo.Version}\n", v.Stdout);
        }
        Assert.Contains($"export PATH=\"{HomeBin}:$PATH\"", r.Stdout);
        // the record `kslurm self update|uninstall` read
        Assert.EndsWith($"\nurl={_url}\nversion={Repo.Version}\nprefix=\n", File.ReadAllText(Path.Combine(HomeBin, ".kslurm-install")));
        // a second run (upgrade in place) works too
        Expect.Ok(CurlPipeSh());
    }

    [Fact]
    public void Shared_prefix_gets_readable_binaries_site_stub_and_a_working_modulefile()
    {
        var prefix = Path.Combine(_s.Dir, "project", "software", "kslurm");
        var r = CurlPipeSh($"--prefix {prefix}");
        Expect.Ok(r);
        var bin = Path.Combine(prefix, "bin", "kslurm");
        var mode = File.GetUnixFileMode(bin);
        Assert.True(mode.HasFlag(UnixFileMode.GroupRead) && mode.HasFlag(UnixFileMode.GroupExecute), mode.ToString());
        var site = Path.Combine(prefix, "etc", "kslurm", "config.toml");
        Assert.True(File.Exists(site));
        Assert.True(File.GetUnixFileMode(site).HasFlag(UnixFileMode.GroupRead));

        // the binaries find the site file next to themselves
        File.AppendAllText(site, "pipdir = \"/project/lab/.kslurm\"\n");
        var get = _s.Exec(bin, ["config", "pipdir"], extraEnv: new Dictionary<string, string?> { ["KSLURM_SITE_CONFIG"] = null });
        Assert.Equal("/project/lab/.kslurm\n", get.Stdout);

        // a re-install keeps the lab's site settings
        Expect.Ok(CurlPipeSh($"--prefix {prefix}"));
        Assert.Contains("/project/lab/.kslurm", File.ReadAllText(site));

        // the Lmod modulefile puts the binaries on PATH
        var lmod = _s.Exec("bash", ["-c",
            $"source /usr/share/lmod/lmod/init/bash && module use {prefix}/modulefiles && module load kslurm && command -v krun"]);
        Expect.Ok(lmod);
        Assert.Equal(Path.Combine(prefix, "bin", "krun") + "\n", lmod.Stdout);
    }

    [Fact]
    public void Checksum_mismatch_refuses_and_leaves_the_existing_install_alone()
    {
        Directory.CreateDirectory(HomeBin);
        var existing = Path.Combine(HomeBin, "krun");
        File.WriteAllText(existing, "previous install");
        var sum = Path.Combine(_served, $"kslurm-{Repo.Version}-linux-x86_64.tar.gz.sha256");
        File.WriteAllText(sum, new string('0', 64) + $"  kslurm-{Repo.Version}-linux-x86_64.tar.gz\n");
        var r = CurlPipeSh();
        Assert.Equal(1, r.Code);
        Assert.Contains("checksum mismatch", r.Stderr);
        Assert.Contains("nothing was installed", r.Stderr);
        Assert.Equal("previous install", File.ReadAllText(existing));
        Assert.Equal(["krun"], Directory.GetFiles(HomeBin).Select(Path.GetFileName));
    }

    [Fact]
    public void Unsupported_platform_refuses_before_downloading()
    {
        var fake = Path.Combine(_s.Dir, "fakebin");
        Directory.CreateDirectory(fake);
        File.WriteAllText(Path.Combine(fake, "uname"), "#!/bin/sh\ncase \"$1\" in -m) echo aarch64;; *) echo Linux;; esac\n");
        File.SetUnixFileMode(Path.Combine(fake, "uname"), (UnixFileMode)0b111_101_101);
        var env = new Dictionary<string, string?> { ["PATH"] = fake + ":" + Environment.GetEnvironmentVariable("PATH") };
        var r = CurlPipeSh(env: env);
        Assert.Equal(1, r.Code);
        Assert.Contains("no kslurm build for Linux/aarch64", r.Stderr);
        Assert.False(Directory.Exists(HomeBin));
    }

    [Fact]
    public void Missing_release_is_a_clear_error()
    {
        var r = CurlPipeSh("--version 0.0.0-nope");
        Assert.Equal(1, r.Code);
        Assert.Contains("download of", r.Stderr);
        Assert.False(Directory.Exists(HomeBin));
    }

    [Fact]
    public void Release_tarball_matches_its_checksum_and_holds_the_modulefile()
    {
        var name = $"kslurm-{Repo.Version}-linux-x86_64";
        var check = _s.Exec("sha256sum", ["-c", $"{name}.tar.gz.sha256"], cwd: Repo.Out);
        Expect.Ok(check);
        var list = _s.Exec("tar", ["-tzf", Path.Combine(Repo.Out, $"{name}.tar.gz")]);
        foreach (var t in Repo.Tools)
            Assert.Contains($"{name}/bin/{t}\n", list.Stdout);
        Assert.Contains($"{name}/share/kslurm/kslurm.lua\n", list.Stdout);
        Assert.Contains($"{name}/etc/kslurm/config.toml.example\n", list.Stdout);
    }
}
