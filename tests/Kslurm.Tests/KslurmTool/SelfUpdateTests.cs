namespace Kslurm.Tests.KslurmTool;

/// <summary>
/// `kslurm self update|uninstall` on installs made by the real installer (`curl | sh`) from a
/// local release server, updating to a release "B" assembled from this build's tarball.
/// </summary>
[Trait("Tier", "Binary")]
public sealed class SelfUpdateTests : IDisposable
{
    readonly Sandbox _s = new();
    readonly ReleaseServer _server;
    static readonly string B = $"{int.Parse(Repo.Version.Split('.')[0]) + 1}.0.0";

    public SelfUpdateTests()
    {
        _server = new ReleaseServer(Path.Combine(_s.Dir, "www")).WithOut();
    }

    public void Dispose()
    {
        _server.Dispose();
        _s.Dispose();
    }

    string HomeBin => Path.Combine(_s.Home, "bin");

    Result Install(string extra = "")
        => _s.Exec("sh", ["-c", $"curl -fsSL {_server.Url}/install.sh | sh -s -- {extra}"],
            extraEnv: new Dictionary<string, string?> { ["KSLURM_INSTALL_URL"] = _server.Url });

    /// <summary>kslurm as installed, without KSLURM_INSTALL_URL: the recorded URL must be used.</summary>
    Result Kslurm(string bin, params string[] args)
        => _s.Exec(Path.Combine(bin, "kslurm"), args, extraEnv: new Dictionary<string, string?> { ["KSLURM_INSTALL_URL"] = null, ["KSLURM_SITE_CONFIG"] = null });

    /// <summary>Only what the installer and a finished update leave in the bin folder.</summary>
    static void NoLeftovers(string bin)
    {
        var names = Directory.GetFileSystemEntries(bin).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal([".kslurm-install", .. Repo.Tools.Order(StringComparer.Ordinal)], names.Where(n => n != ".kslurm-update.lock").ToArray());
    }

    [Fact]
    public void Shared_install_updates_to_the_latest_release_keeping_site_settings()
    {
        var prefix = Path.Combine(_s.Dir, "project", "software", "kslurm");
        var bin = Path.Combine(prefix, "bin");
        Expect.Ok(Install($"--prefix {prefix}"));
        var site = Path.Combine(prefix, "etc", "kslurm", "config.toml");
        File.AppendAllText(site, "pipdir = \"/project/lab/.kslurm\"\n");
        var siteBefore = File.ReadAllText(site);
        Assert.Contains($"url={_server.Url}\n", File.ReadAllText(Path.Combine(bin, ".kslurm-install")));

        // nothing newer yet
        var same = Kslurm(bin, "self", "update", "--check");
        Assert.Equal(0, same.Code);
        Assert.Contains($"kslurm {Repo.Version} is up to date", same.Stdout);

        var b = Releases.Publish(_s, _server.Folder, B);
        var check = Kslurm(bin, "self", "update", "--check");
        Assert.True(check.Code == 100, check.ToString());
        Assert.Contains($"kslurm {B} is available (installed: {Repo.Version})", check.Stdout);
        Assert.NotEqual(b, Releases.Installed(bin)); // --check changed nothing

        var up = Kslurm(bin, "self", "update");
        Expect.Ok(up);
        Assert.Equal($"kslurm {Repo.Version} -> {B} in {bin}\n", up.Stdout);
        Assert.Equal(b, Releases.Installed(bin));
        foreach (var t in Repo.Tools)
            Assert.Equal((UnixFileMode)0b111_101_101, File.GetUnixFileMode(Path.Combine(bin, t)));
        Assert.Equal(siteBefore, File.ReadAllText(site));
        Assert.Contains($"version={B}\n", File.ReadAllText(Path.Combine(bin, ".kslurm-install")));
        NoLeftovers(bin);
        // the modulefile follows the version, pointing at the same prefix
        var modules = Path.Combine(prefix, "modulefiles", "kslurm");
        Assert.Equal([$"{B}.lua"], Directory.GetFiles(modules).Select(Path.GetFileName));
        var lmod = _s.Exec("bash", ["-c", $"source /usr/share/lmod/lmod/init/bash && module use {prefix}/modulefiles && module load kslurm/{B} && command -v kslurm && kslurm config pipdir"],
            extraEnv: new Dictionary<string, string?> { ["KSLURM_SITE_CONFIG"] = null });
        Expect.Ok(lmod);
        Assert.Equal($"{bin}/kslurm\n/project/lab/.kslurm\n", lmod.Stdout);

        // the new binaries work, and now there is nothing to do
        Expect.Ok(Kslurm(bin, "--version"));
        var again = Kslurm(bin, "self", "update", "--check");
        Assert.Equal(0, again.Code);
        Assert.Contains($"kslurm {B} is up to date", again.Stdout);
    }

    [Fact]
    public void Kslurm_update_is_a_synonym_and_version_goes_back()
    {
        Expect.Ok(Install());
        var a = Releases.Installed(HomeBin);
        var b = Releases.Publish(_s, _server.Folder, B);
        var up = Kslurm(HomeBin, "update");
        Expect.Ok(up);
        Assert.Equal($"kslurm {Repo.Version} -> {B} in ~/bin\n", up.Stdout);
        Assert.Equal(b, Releases.Installed(HomeBin));
        Assert.Equal("", Kslurm(HomeBin, "update").Stderr);
        Assert.Contains("is up to date", Kslurm(HomeBin, "update").Stdout);

        // an explicit --version installs that release, older ones included
        var down = Kslurm(HomeBin, "update", "--version", Repo.Version);
        Expect.Ok(down);
        Assert.Equal($"kslurm {B} -> {Repo.Version} in ~/bin\n", down.Stdout);
        Assert.Equal(a, Releases.Installed(HomeBin));
        NoLeftovers(HomeBin);

        Expect.Error(Kslurm(HomeBin, "update", "--version", "1.0/../x"), "kslurm", 2, "invalid version");
        Expect.Error(Kslurm(HomeBin, "update", "--version", "0.0.1-nope"), "kslurm", 1, "HTTP 404");
        Assert.Equal(a, Releases.Installed(HomeBin));
    }

    [Fact]
    public void KSLURM_INSTALL_URL_overrides_the_recorded_url()
    {
        Expect.Ok(Install());
        using var mirror = new ReleaseServer(Path.Combine(_s.Dir, "mirror"));
        var b = Releases.Publish(_s, mirror.Folder, B);
        Assert.Contains("is up to date", Kslurm(HomeBin, "self", "update").Stdout); // the recorded server has nothing newer
        var r = _s.Exec(Path.Combine(HomeBin, "kslurm"), ["self", "update"], extraEnv: new Dictionary<string, string?> { ["KSLURM_INSTALL_URL"] = mirror.Url });
        Expect.Ok(r);
        Assert.Equal(b, Releases.Installed(HomeBin));
        Assert.Contains($"url={mirror.Url}\n", File.ReadAllText(Path.Combine(HomeBin, ".kslurm-install")));
    }

    [Fact]
    public void Checksum_mismatch_leaves_the_old_set_untouched()
    {
        Expect.Ok(Install());
        var a = Releases.Installed(HomeBin);
        Releases.Publish(_s, _server.Folder, B);
        var sum = Path.Combine(_server.Folder, Releases.Name(B) + ".tar.gz.sha256");
        File.WriteAllText(sum, new string('0', 64) + $"  {Releases.Name(B)}.tar.gz\n");
        var r = Kslurm(HomeBin, "self", "update");
        Expect.Error(r, "kslurm", 1, "checksum mismatch");
        Assert.Contains("nothing was changed", r.Stderr);
        Assert.Equal(a, Releases.Installed(HomeBin));
        Assert.Contains($"version={Repo.Version}\n", File.ReadAllText(Path.Combine(HomeBin, ".kslurm-install")));
        NoLeftovers(HomeBin);
    }

    [Fact]
    public void A_server_dying_mid_download_leaves_the_old_set_untouched()
    {
        Expect.Ok(Install());
        var a = Releases.Installed(HomeBin);
        using var dying = new ReleaseServer(Path.Combine(_s.Dir, "dying"), "dying");
        Releases.Publish(_s, dying.Folder, B);
        var r = _s.Exec(Path.Combine(HomeBin, "kslurm"), ["self", "update"], extraEnv: new Dictionary<string, string?> { ["KSLURM_INSTALL_URL"] = dying.Url });
        Expect.Error(r, "kslurm", 1, "cannot download");
        Assert.Contains("nothing was changed", r.Stderr);
        Assert.Equal(a, Releases.Installed(HomeBin));
        Expect.Ok(_s.Exec(Path.Combine(HomeBin, "kslurm"), ["--version"]));
        NoLeftovers(HomeBin);
    }

    [Fact]
    public void An_update_killed_mid_download_leaves_the_old_set_and_the_next_one_cleans_up()
    {
        Expect.Ok(Install());
        var a = Releases.Installed(HomeBin);
        using var slow = new ReleaseServer(Path.Combine(_s.Dir, "slow"), "slow");
        var b = Releases.Publish(_s, slow.Folder, B);
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(HomeBin, "kslurm"), ["self", "update"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        psi.Environment.Clear();
        foreach (var (k, v) in _s.Env)
            if (v is not null) psi.Environment[k] = v;
        psi.Environment["KSLURM_INSTALL_URL"] = slow.Url;
        using (var p = System.Diagnostics.Process.Start(psi)!)
        {
            // wait until part of the tarball is on disk, then SIGKILL: no cleanup can run
            var partial = Path.Combine(HomeBin, $".kslurm-update-{p.Id}", Releases.Name(B) + ".tar.gz");
            for (var i = 0; i < 300 && !(File.Exists(partial) && new FileInfo(partial).Length > 0); i++)
                Thread.Sleep(50);
            Assert.True(File.Exists(partial), "the download never started");
            p.Kill();
            p.WaitForExit();
        }
        Assert.Equal(a, Releases.Installed(HomeBin));
        Expect.Ok(_s.Exec(Path.Combine(HomeBin, "krun"), ["--version"]));

        var r = _s.Exec(Path.Combine(HomeBin, "kslurm"), ["self", "update"], extraEnv: new Dictionary<string, string?> { ["KSLURM_INSTALL_URL"] = slow.Url });
        Expect.Ok(r);
        Assert.Equal(b, Releases.Installed(HomeBin));
        NoLeftovers(HomeBin);
    }

    [Fact]
    public void A_release_whose_kslurm_does_not_start_here_is_not_installed()
    {
        Expect.Ok(Install());
        var a = Releases.Installed(HomeBin);
        Releases.Publish(_s, _server.Folder, B, root =>
            File.WriteAllText(Path.Combine(root, "bin", "kslurm"), "#!/bin/sh\necho 'version GLIBC_2.99 not found' >&2\nexit 1\n"));
        var r = Kslurm(HomeBin, "self", "update");
        Expect.Error(r, "kslurm", 1, "the new kslurm does not run on this machine (version GLIBC_2.99 not found)");
        Assert.Equal(a, Releases.Installed(HomeBin));
        NoLeftovers(HomeBin);
    }

    [Fact]
    public void A_rename_that_fails_midway_puts_the_old_binaries_back()
    {
        Expect.Ok(Install());
        var a = Releases.Installed(HomeBin);
        // kpy (4th of six) cannot be replaced: a folder with something in it sits in its place
        var kpy = Path.Combine(HomeBin, "kpy");
        File.Delete(kpy);
        Directory.CreateDirectory(Path.Combine(kpy, "x"));
        Releases.Publish(_s, _server.Folder, B);
        var r = Kslurm(HomeBin, "self", "update");
        Expect.Error(r, "kslurm", 1, "the old ones are back in place");
        foreach (var t in new[] { "krun", "kbatch", "kjupyter", "kapp", "kslurm" })
            Assert.Equal(a[t], Releases.Sha256Of(Path.Combine(HomeBin, t)));
        Assert.True(Directory.Exists(Path.Combine(kpy, "x")));
        Assert.Contains($"version={Repo.Version}\n", File.ReadAllText(Path.Combine(HomeBin, ".kslurm-install")));
        Assert.Equal([".kslurm-install", ".kslurm-update.lock", .. Repo.Tools.Order(StringComparer.Ordinal)],
            Directory.GetFileSystemEntries(HomeBin).Select(p => Path.GetFileName(p)!).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Leftovers_of_a_killed_update_are_cleaned_by_the_next_one()
    {
        Expect.Ok(Install());
        // what a SIGKILLed update leaves: its scratch folder and staged binaries, under a dead pid
        var dead = _s.Exec("sh", ["-c", "echo $$"]).Stdout.Trim();
        Directory.CreateDirectory(Path.Combine(HomeBin, $".kslurm-update-{dead}", "x"));
        File.WriteAllText(Path.Combine(HomeBin, $".krun.new-{dead}"), "half");
        var b = Releases.Publish(_s, _server.Folder, B);
        Expect.Ok(Kslurm(HomeBin, "self", "update"));
        Assert.Equal(b, Releases.Installed(HomeBin));
        NoLeftovers(HomeBin);
    }

    [Fact]
    public void Read_only_shared_install_names_who_can_update_it()
    {
        // a lab install owned by slurmsolo; slurmtest (another lab member) tries to update it
        var top = Path.Combine("/tmp", $"kslurm-ro-{Guid.NewGuid():N}");
        Directory.CreateDirectory(top);
        File.SetUnixFileMode(top, (UnixFileMode)0b111_101_101);
        try
        {
            var prefix = Path.Combine(top, "kslurm");
            Expect.Ok(Install($"--prefix {prefix}"));
            Expect.Ok(_s.Exec("chown", ["-R", $"{Cluster.SoloUser}:", prefix]));
            var a = Releases.Installed(Path.Combine(prefix, "bin"));
            Releases.Publish(_s, _server.Folder, B);
            Result AsMember(params string[] args) => _s.Exec("runuser", ["-u", Cluster.User, "--", "env", "-i", "PATH=/usr/bin:/bin", $"HOME={top}", $"USER={Cluster.User}",
                Path.Combine(prefix, "bin", "kslurm"), .. args], cwd: top);

            var check = AsMember("self", "update", "--check"); // reading is fine
            Assert.True(check.Code == 100, check.ToString());
            var r = AsMember("self", "update");
            Expect.Error(r, "kslurm", 1, $"belongs to {Cluster.SoloUser}, and you ({Cluster.User}) cannot write there");
            Assert.Contains($"hint: ask {Cluster.SoloUser} (the owner of {prefix}/bin) to run `kslurm self update`", r.Stderr);
            Expect.Error(AsMember("self", "uninstall"), "kslurm", 1, $"belongs to {Cluster.SoloUser}");
            Assert.Equal(a, Releases.Installed(Path.Combine(prefix, "bin")));
        }
        finally
        {
            Directory.Delete(top, recursive: true);
        }
    }

    [Fact]
    public void Uninstall_removes_the_programs_and_leaves_the_users_data()
    {
        Expect.Ok(Install());
        var pipdir = Path.Combine(_s.Dir, "project", ".kslurm");
        Expect.Ok(Kslurm(HomeBin, "config", "pipdir", pipdir));
        Directory.CreateDirectory(Path.Combine(pipdir, "venv_archives"));
        File.WriteAllText(Path.Combine(pipdir, "venv_archives", "analysis.tar.zst"), "a saved venv");
        Directory.CreateDirectory(Path.Combine(pipdir, "containers", "images"));
        File.WriteAllText(Path.Combine(pipdir, "containers", "images", "abc.sif"), "an image");
        File.WriteAllText(Path.Combine(HomeBin, "myscript"), "#!/bin/sh\n");
        var settings = File.ReadAllText(_s.UserConfig);

        var r = Kslurm(HomeBin, "self", "uninstall");
        Expect.Ok(r);
        Assert.Equal(["myscript"], Directory.GetFileSystemEntries(HomeBin).Select(Path.GetFileName));
        foreach (var t in Repo.Tools)
            Assert.Contains($"removed ~/bin/{t}\n", r.Stdout);
        Assert.Contains("left    ~/bin (it holds other programs)\n", r.Stdout);
        Assert.Contains("left    ~/.config/kslurm (your settings)\n", r.Stdout);
        Assert.Contains($"left    {pipdir} (pipdir: saved venvs, wheels, container images)\n", r.Stdout);
        Assert.Equal(settings, File.ReadAllText(_s.UserConfig));
        Assert.Equal("a saved venv", File.ReadAllText(Path.Combine(pipdir, "venv_archives", "analysis.tar.zst")));
        Assert.Equal("an image", File.ReadAllText(Path.Combine(pipdir, "containers", "images", "abc.sif")));
    }

    [Fact]
    public void Shared_uninstall_keeps_edited_site_settings_and_removes_an_untouched_stub()
    {
        var edited = Path.Combine(_s.Dir, "lab1");
        var untouched = Path.Combine(_s.Dir, "lab2");
        Expect.Ok(Install($"--prefix {edited}"));
        Expect.Ok(Install($"--prefix {untouched}"));
        var site = Path.Combine(edited, "etc", "kslurm", "config.toml");
        File.AppendAllText(site, "account = \"def-lab\"\n");

        var r = Kslurm(Path.Combine(edited, "bin"), "self", "uninstall");
        Expect.Ok(r);
        Assert.Contains($"left    {site} (the site settings; delete it if nobody needs them)\n", r.Stdout);
        Assert.Contains($"removed {edited}/modulefiles/kslurm/{Repo.Version}.lua\n", r.Stdout);
        Assert.Equal([site], Directory.GetFiles(edited, "*", SearchOption.AllDirectories));

        Expect.Ok(Kslurm(Path.Combine(untouched, "bin"), "self", "uninstall"));
        Assert.False(Directory.Exists(untouched)); // nothing of the lab's was in it
    }
}
