namespace Kslurm.Tests.Kpy;

/// <summary>
/// `kpy create NAME -r FILE [--save]`: the venv built from the wheelhouses (DRAC's advice: inside
/// the job, `--no-index`), from a requirements file or a pyproject.toml, with wheels the tests
/// write (a DRAC-style `+computecanada` one among them).
/// </summary>
[Trait("Tier", "Binary")]
public class KpyCreateTests
{
    static Dictionary<string, string?> InJob(KpySandbox k)
        => new() { ["SLURM_JOB_ID"] = "4242", ["SLURM_TMPDIR"] = Directory.CreateDirectory(Path.Combine(k.S.Dir, "node")).FullName };

    static KpySandbox WithSiteWheels(out string site)
    {
        var k = new KpySandbox();
        site = Path.Combine(k.S.Dir, "cvmfs", "wheelhouse");
        DemoWheel.WriteTo(site, "2.31.0+computecanada", name: "requests");
        DemoWheel.WriteTo(Path.Combine(k.Pipdir, "wheels"), "0.5", name: "mytool", requires: "requests~=2.31");
        // how DRAC names its wheelhouses: a pip config file in PIP_CONFIG_FILE
        var conf = Path.Combine(k.S.Dir, "pip.conf");
        File.WriteAllText(conf, $"[global]\nfind-links = {site}\n");
        k.S.Env["PIP_CONFIG_FILE"] = conf;
        return k;
    }

    [Fact]
    public void Requirements_file_in_a_job_builds_from_the_wheelhouses_and_saves()
    {
        using var k = WithSiteWheels(out _);
        var req = Path.Combine(k.S.Dir, "requirements.txt");
        File.WriteAllText(req, "mytool>=0.5\n");
        var env = InJob(k);
        var r = k.S.Exec(Repo.Tool("kpy"), ["create", "built", "-r", req, "--save"], extraEnv: env);
        Expect.Ok(r);
        Assert.Contains("kpy: saved built", r.Stderr);
        var live = Path.Combine(env["SLURM_TMPDIR"]!, "kpy", "built");
        var list = k.S.Exec(Path.Combine(live, "bin", "python"), ["-m", "pip", "list"]);
        Assert.Matches(@"requests\s+2\.31\.0\+computecanada", list.Stdout);
        Assert.Matches(@"mytool\s+0\.5", list.Stdout);
        // saved in the same step: what freeze reads back is what was installed
        Assert.Equal("mytool~=0.5.0\nrequests~=2.31.0\n",
            string.Concat(k.Kpy("freeze", "built").Stdout.Split('\n').Skip(1).Select(l => l.Length > 0 ? l + "\n" : "")));
    }

    [Theory]
    [InlineData("[project]\nname = \"x\"\nversion = \"1\"\ndependencies = [\"requests ~= 2.31.0\", \"mytool\"]\n")]
    [InlineData("[tool.poetry]\nname = \"x\"\n\n[tool.poetry.dependencies]\npython = \"^3.8\"\nrequests = \"~2.31\"\nmytool = { version = \"^0.5\" }\n")]
    public void Pyproject_dependencies_pep621_or_poetry(string toml)
    {
        using var k = WithSiteWheels(out _);
        var file = Path.Combine(k.S.Dir, "pyproject.toml");
        File.WriteAllText(file, toml);
        var env = InJob(k);
        Expect.Ok(k.S.Exec(Repo.Tool("kpy"), ["create", "proj", "-r", file], extraEnv: env));
        var list = k.S.Exec(Path.Combine(env["SLURM_TMPDIR"]!, "kpy", "proj", "bin", "python"), ["-m", "pip", "list"]);
        Assert.Matches(@"requests\s+2\.31\.0\+computecanada", list.Stdout);
        Assert.Matches(@"mytool\s+0\.5", list.Stdout);
    }

    [Fact]
    public void A_requirement_no_wheelhouse_has_is_one_error_naming_it_and_where_it_looked()
    {
        using var k = WithSiteWheels(out var site);
        var req = Path.Combine(k.S.Dir, "requirements.txt");
        File.WriteAllText(req, "mytool\ntorch>=2\n");
        var env = InJob(k);
        var r = k.S.Exec(Repo.Tool("kpy"), ["create", "nope", "-r", req, "--save"], extraEnv: env);
        Expect.ErrorAtEnd(r, "kpy", 1, $"no wheel for torch>=2 in {Path.Combine(k.Pipdir, "wheels")}, {site} (inside a job pip uses no index)");
        Assert.Contains("kpy: hint: see what is there with `kpy wheels torch`", r.Stderr);
        Assert.False(Directory.Exists(Path.Combine(env["SLURM_TMPDIR"]!, "kpy", "nope")), "the half-built venv is removed");
        Assert.False(File.Exists(Path.Combine(k.Archives, "nope.tar.zst")), "nothing is saved");

        Expect.Error(k.Kpy("create", "x", "-r", Path.Combine(k.S.Dir, "missing.txt")), "kpy", 1, "missing.txt does not exist");
        var bad = Path.Combine(k.S.Dir, "pyproject.toml");
        File.WriteAllText(bad, "[project]\nname = \"x\"\n");
        Expect.Error(k.Kpy("create", "x", "-r", bad), "kpy", 1, "lists no dependencies");
        Assert.False(Directory.Exists(Path.Combine(k.LiveRoot, "x")));
    }
}

/// <summary>The DRAC recipe for real: the venv built and saved inside a Slurm job, used on the login node.</summary>
[Collection("slurm")]
[Trait("Tier", "Cluster")]
public class KpyCreateClusterTests
{
    [Fact]
    public void Create_and_save_inside_a_real_job()
    {
        using var u = new ClusterUser();
        var pipdir = Path.Combine(u.Home, "pipdir");
        DemoWheel.WriteTo(Path.Combine(pipdir, "wheels"), "2.31.0+computecanada", name: "requests");
        DemoWheel.WriteTo(Path.Combine(pipdir, "wheels"));
        var req = Path.Combine(u.Home, "requirements.txt");
        File.WriteAllText(req, "requests~=2.31.0\nkslurmdemo\n");
        new Sandbox().Exec("chown", ["-R", $"{u.Name}:", u.Home]);
        Expect.Ok(u.Tool("kslurm", "config", "pipdir", pipdir));
        u.Env["TMPDIR"] = Path.Combine(u.Home, "login-tmp");
        var job = u.Tool("krun", "0:05", Cluster.Tool("kpy"), "create", "jobenv", "-r", req, "--save");
        Expect.Ok(job);
        var run = u.Tool("krun", "--venv", "jobenv", "0:05", "kslurm-demo");
        Expect.Ok(run);
        Assert.Contains("/kpy/jobenv\n", run.Stdout);
        var freeze = u.Tool("kpy", "freeze", "jobenv");
        Expect.Ok(freeze);
        Assert.EndsWith("kslurmdemo~=1.0.0\nrequests~=2.31.0\n", freeze.Stdout);
    }
}
