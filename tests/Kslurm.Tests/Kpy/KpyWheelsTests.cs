using System.Text.Json;
using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// `kpy wheels`: which wheelhouses (pip's own configuration, as DRAC sets it) and which wheels fit.
/// The verdicts are checked against pip's own tag logic, the wheelhouses against the links pip
/// itself says it looks in.
/// </summary>
[Trait("Tier", "Binary")]
public class KpyWheelsTests
{
    static string Q(string s) => ShellQuote.Quote(s);

    /// <summary>A python3 venv with pip, activated for the tool through VIRTUAL_ENV/PATH.</summary>
    static Dictionary<string, string?> Venv(KpySandbox k, out string venv)
    {
        venv = Path.Combine(k.S.Dir, "venv");
        Expect.Ok(k.S.Exec("/usr/bin/python3", ["-m", "venv", venv]));
        return new() { ["VIRTUAL_ENV"] = venv, ["PATH"] = $"{venv}/bin:{k.S.Env["PATH"]}" };
    }

    [Fact]
    public void Every_verdict_agrees_with_pips_own_tags()
    {
        using var k = new KpySandbox();
        var env = Venv(k, out var venv);
        var ver = k.S.Exec(Path.Combine(venv, "bin", "python"), ["-c", "import sys; print(f'{sys.version_info[0]}{sys.version_info[1]}')"]).Stdout.Trim();
        var minor = int.Parse(ver[1..]);
        var house = Path.Combine(k.S.Dir, "house");
        var tags = new[]
        {
            "py3-none-any", "py2.py3-none-any", $"py3{minor - 1}-none-any", $"py3{minor + 1}-none-any",
            $"cp{ver}-cp{ver}-manylinux_2_17_x86_64.manylinux2014_x86_64", $"cp{ver}-cp{ver}-manylinux1_x86_64",
            $"cp{ver}-cp{ver}-manylinux_2_99_x86_64", $"cp{ver}-cp{ver}-linux_x86_64", $"cp{ver}-cp{ver}-manylinux2014_aarch64",
            $"cp{ver}-cp{ver}-musllinux_1_2_x86_64", "cp39-abi3-manylinux2014_x86_64", $"cp3{minor + 1}-abi3-linux_x86_64",
            $"cp3{minor + 1}-cp3{minor + 1}-manylinux2014_x86_64", $"cp{ver}-cp{ver}t-manylinux2014_x86_64", $"cp{ver}-none-any",
            $"cp{ver}-none-linux_x86_64", $"pp{ver}-pypy{ver}_pp73-manylinux2014_x86_64",
        };
        for (int i = 0; i < tags.Length; i++)
            DemoWheel.WriteTo(house, $"1.{i}", name: $"w{i}", tag: tags[i]);
        var r = k.S.Exec(Repo.Tool("kpy"), ["wheels", "--json"], extraEnv: new Dictionary<string, string?>(env) { ["PIP_FIND_LINKS"] = house });
        Expect.Ok(r);
        JsonSchemaCheck.Valid("docs/schema/kpy-wheels.schema.json", r.Stdout);
        using var doc = JsonDocument.Parse(r.Stdout);
        Assert.Equal(Path.Combine(venv, "bin", "python"), doc.RootElement.GetProperty("python").GetProperty("executable").GetString());
        var ours = doc.RootElement.GetProperty("wheels").EnumerateArray()
            .ToDictionary(w => Path.GetFileName(w.GetProperty("file").GetString()!), w => w.GetProperty("fits").GetBoolean());
        Assert.Equal(tags.Length, ours.Count);

        // pip's vendored packaging: the tags this interpreter accepts, and each file's tags
        var pip = k.S.Exec(Path.Combine(venv, "bin", "python"), ["-c", """
            import os, sys
            from pip._vendor.packaging.tags import sys_tags
            from pip._vendor.packaging.utils import parse_wheel_filename
            ok = set(sys_tags())
            for f in sorted(os.listdir(sys.argv[1])):
                print(f, any(t in ok for t in parse_wheel_filename(f)[3]))
            """, house]);
        Expect.Ok(pip);
        var theirs = pip.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => p[1] == "True");
        // cp3Y-none-any: packaging >= 22 (pip >= 24.1) accepts it, the packaging 21.3 of older
        // pips does not; we follow the current one.
        var cpNoneAny = $"w14-1.14-cp{ver}-none-any.whl";
        Assert.True(ours[cpNoneAny]);
        if (!VendoredPackagingAtLeast22(venv))
            theirs[cpNoneAny] = true;
        Assert.Equal(theirs.OrderBy(p => p.Key), ours.OrderBy(p => p.Key));
        Assert.Contains(true, theirs.Values);
        Assert.Contains(false, theirs.Values);
    }

    static bool VendoredPackagingAtLeast22(string venv)
    {
        using var box = new Sandbox();
        var r = box.Exec(Path.Combine(venv, "bin", "python"), ["-c", "from pip._vendor import packaging; print(packaging.__version__.split('.')[0])"]);
        return int.Parse(r.Stdout.Trim()) >= 22;
    }

    [Fact]
    public void Wheelhouses_are_the_links_pip_says_it_looks_in()
    {
        using var k = new KpySandbox();
        var env = Venv(k, out var venv);
        string D(string n) { var d = Path.Combine(k.S.Dir, n); Directory.CreateDirectory(d); return d; }
        var (gen, avx, user, legacy, global, site, env1) = (D("generic"), D("x86-64-v3"), D("user"), D("legacy"), D("global"), D("site"), D("fromenv"));
        // DRAC's form: one PIP_CONFIG_FILE, a multi-line find-links
        var drac = Path.Combine(k.S.Dir, "pip-avx2.conf");
        File.WriteAllText(drac, $"# site wheelhouses\n[global]\nfind-links = {avx}\n\t{gen}\n\n[list]\nformat = columns\n");
        Directory.CreateDirectory(Path.Combine(k.S.Home, ".config", "pip"));
        File.WriteAllText(Path.Combine(k.S.Home, ".config", "pip", "pip.conf"), $"[install]\nfind_links: file://{user}\n");
        Directory.CreateDirectory(Path.Combine(k.S.Home, ".pip"));
        File.WriteAllText(Path.Combine(k.S.Home, ".pip", "pip.conf"), $"[global]\nfind-links = {legacy}\n");
        Directory.CreateDirectory(Path.Combine(k.S.Dir, "xdg", "pip"));
        File.WriteAllText(Path.Combine(k.S.Dir, "xdg", "pip", "pip.conf"), $"[global]\nfind-links = {global}\n");
        env["XDG_CONFIG_DIRS"] = Path.Combine(k.S.Dir, "xdg");

        List<string> Ours(Dictionary<string, string?> e)
        {
            var r = k.S.Exec(Repo.Tool("kpy"), ["wheels", "--json"], extraEnv: e);
            Expect.Ok(r);
            JsonSchemaCheck.Valid("docs/schema/kpy-wheels.schema.json", r.Stdout);
            using var doc = JsonDocument.Parse(r.Stdout);
            var houses = doc.RootElement.GetProperty("wheelhouses").EnumerateArray().ToList();
            Assert.Equal(Path.Combine(k.Pipdir, "wheels"), houses[0].GetProperty("location").GetString());
            return [.. houses.Skip(1).Select(h => h.GetProperty("location").GetString()!)];
        }
        List<string> Pips(Dictionary<string, string?> e)
        {
            var r = k.S.Exec(Path.Combine(venv, "bin", "pip"), ["install", "--dry-run", "--no-index", "nothing-here"], extraEnv: e);
            var line = r.Stdout.Split('\n').FirstOrDefault(l => l.StartsWith("Looking in links: "));
            return line is null ? [] : [.. line["Looking in links: ".Length..].Split(", ").Select(l => l.Replace("file://", ""))];
        }
        void Same(Dictionary<string, string?> e, string[] expected)
        {
            Assert.Equal(expected, Pips(e));
            Assert.Equal(expected, Ours(e));
        }

        Same(env, [user]);                                   // user file over global; [install] over [global]
        File.WriteAllText(Path.Combine(venv, "pip.conf"), $"[global]\nfind-links = {site}\n");
        Same(env, [user]);                                   // a later file's [global] does not beat [install]
        File.WriteAllText(Path.Combine(venv, "pip.conf"), $"[install]\nfind-links = {site}\n");
        Same(env, [site]);                                   // the venv's own pip.conf over the user's
        Same(new(env) { ["PIP_CONFIG_FILE"] = drac }, [site]); // ... and over PIP_CONFIG_FILE's [global]
        File.Delete(Path.Combine(venv, "pip.conf"));
        Same(new(env) { ["PIP_CONFIG_FILE"] = drac }, [avx, gen]); // the user's files are skipped then
        Same(new(env) { ["PIP_CONFIG_FILE"] = drac, ["PIP_FIND_LINKS"] = $"{env1} {gen}" }, [env1, gen]);
        File.Delete(Path.Combine(k.S.Home, ".config", "pip", "pip.conf"));
        Same(env, [legacy]);
        Same(new(env) { ["PIP_CONFIG_FILE"] = "/dev/null" }, []);
    }

    [Fact]
    public void Table_lists_matching_names_newest_first_and_says_why_a_wheel_does_not_fit()
    {
        using var k = new KpySandbox();
        var pipWheels = Path.Combine(k.Pipdir, "wheels");
        DemoWheel.WriteTo(pipWheels, "2.31.0+computecanada", name: "requests");
        DemoWheel.WriteTo(pipWheels, "2.9.0", name: "requests");
        DemoWheel.WriteTo(pipWheels, "2.31.1rc1", name: "requests");
        DemoWheel.WriteTo(pipWheels, "1.0", name: "requests-toolbelt");
        DemoWheel.WriteTo(pipWheels, "1.0", name: "numpy", tag: "cp27-cp27mu-manylinux1_x86_64");
        var drac = Path.Combine(k.S.Dir, "cvmfs", "generic");
        DemoWheel.WriteTo(drac, "1.26.4+computecanada", name: "numpy");
        var env = new Dictionary<string, string?> { ["PIP_FIND_LINKS"] = drac };

        var r = k.S.Exec(Repo.Tool("kpy"), ["wheels", "Requests*"], extraEnv: env);
        Expect.Ok(r);
        var rows = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)).ToList();
        Assert.Equal(["NAME", "VERSION", "FITS", "WHEELHOUSE"], rows[0]);
        Assert.Equal(["requests 2.31.1rc1", "requests 2.31.0+computecanada", "requests 2.9.0", "requests_toolbelt 1.0"],
            rows.Skip(1).Select(c => $"{c[0]} {c[1]}"));
        Assert.All(rows.Skip(1), c => Assert.Equal("yes", c[2]));
        Assert.Contains("kpy: for Python 3.", r.Stderr);

        var n = k.S.Exec(Repo.Tool("kpy"), ["wheels", "numpy"], extraEnv: env);
        Expect.Ok(n);
        Assert.Matches($@"numpy\s+1\.26\.4\+computecanada\s+yes\s+{drac}\n", n.Stdout);
        Assert.Matches(@"numpy\s+1\.0\s+no: for cp27-cp27mu, not cp3\d+-cp3\d+", n.Stdout);

        var none = k.S.Exec(Repo.Tool("kpy"), ["wheels", "torch"], extraEnv: new Dictionary<string, string?>(env) { ["PIP_FIND_LINKS"] = $"{drac} https://example.org/wheels /no/such/dir" });
        Expect.Ok(none);
        Assert.Equal("", none.Stdout);
        Assert.Contains("kpy: https://example.org/wheels (from PIP_FIND_LINKS) is a web page: its wheels are not listed", none.Stderr);
        Assert.Contains("kpy: /no/such/dir (from PIP_FIND_LINKS) does not exist", none.Stderr);
        Assert.Contains($"kpy: no wheel matches torch in {pipWheels}, {drac}", none.Stderr);

        Expect.Error(k.Kpy("wheels", "--all"), "kpy", 2, "unknown option '--all'");
    }
}
