using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// A login-node world for kpy: private HOME, pipdir, scratch ($TMPDIR) and a wheelhouse with the
/// demo wheel; the system Python (/usr/bin/python3), not a developer's pyenv.
/// </summary>
public sealed class KpySandbox : IDisposable
{
    public KpySandbox()
    {
        S = new Sandbox();
        S.Env["PATH"] = $"{Repo.Dist}:/usr/local/bin:/usr/bin:/bin";
        Pipdir = Path.Combine(S.Dir, "project", "pipdir");
        Wheelhouse = Path.Combine(S.Dir, "wheelhouse");
        DemoWheel.WriteTo(Wheelhouse);
        Expect.Ok(S.Tool("kslurm", "config", "pipdir", Pipdir));
    }

    public Sandbox S { get; }
    public string Pipdir { get; }
    public string Wheelhouse { get; }
    public string Archives => Path.Combine(Pipdir, "venv_archives");
    public string LiveRoot => Path.Combine(S.Env["TMPDIR"]!, $"kpy-{Environment.UserName}");

    public Result Kpy(params string[] args) => S.Tool("kpy", args);

    /// <summary>Runs a bash script with kpy's shell integration loaded, as in an interactive ~/.bashrc.</summary>
    public Result Bash(string script, IDictionary<string, string?>? env = null)
        => S.Exec("bash", ["-c", "set -u\neval \"$(kpy init bash)\"\n" + script], extraEnv: env);

    /// <summary>Creates NAME with the demo package installed from the wheelhouse, and saves it.</summary>
    public string CreateDemo(string name, bool save = true)
    {
        var r = Bash($"""
            kpy create {name} >/dev/null 2>&1 || exit 10
            pip install --no-index --find-links {ShellQuote.Quote(Wheelhouse)} kslurmdemo >/dev/null || exit 11
            {(save ? $"kpy save {name} || exit 12" : "")}
            """);
        Expect.Ok(r);
        return Path.Combine(LiveRoot, name);
    }

    public void Dispose() => S.Dispose();
}
