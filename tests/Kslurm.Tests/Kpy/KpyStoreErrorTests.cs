namespace Kslurm.Tests.Kpy;

/// <summary>
/// The venv store's errors are one error wherever a tool asks it: the same line and hint from
/// every kpy command, the job tools' --venv (before submitting: -t needs no Slurm) and kjupyter's kernels.
/// </summary>
public class KpyStoreErrorTests
{
    static readonly string[][] NamingAVenv =
    [
        ["kpy", "load", "ghost"],
        ["kpy", "info", "ghost"],
        ["kpy", "rm", "ghost"],
        ["kpy", "freeze", "ghost"],
        ["kpy", "export", "ghost"],
        ["kpy", "exec", "ghost", "--", "true"],
        ["krun", "-t", "--venv", "ghost", "0:05", "true"],
        ["kbatch", "-t", "--venv", "ghost", "0:05", "true"],
        ["kjupyter", "-t", "--venv", "ghost", "0:05"],
        ["kjupyter", "kernel", "install", "k", "--venv", "ghost"],
    ];

    static (string Error, string Hint) LastTwo(Result r, string tool)
    {
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length >= 2, r.ToString());
        return (lines[^2].Replace($"{tool}: ", ""), lines[^1].Replace($"{tool}: ", ""));
    }

    [Fact]
    public void A_venv_not_saved_is_one_error_with_one_hint_from_every_tool()
    {
        using var k = new KpySandbox();
        foreach (var argv in NamingAVenv)
        {
            var r = k.S.Tool(argv[0], argv[1..]);
            Expect.Error(r, argv[0], 1, "no saved venv called ghost");
            Assert.Equal(("error: no saved venv called ghost",
                $"hint: nothing is saved in {k.Archives} yet; save a venv with it active: kpy save ghost"), LastTwo(r, argv[0]));
        }
        k.CreateDemo("real");
        foreach (var argv in NamingAVenv)
        {
            var r = k.S.Tool(argv[0], argv[1..]);
            Expect.Error(r, argv[0], 1, "no saved venv called ghost");
            Assert.Equal(("error: no saved venv called ghost", "hint: saved venvs: real"), LastTwo(r, argv[0]));
        }
    }

    [Fact]
    public void Pipdir_not_set_is_one_error_from_every_store()
    {
        using var k = new KpySandbox();
        Expect.Ok(k.S.Tool("kslurm", "config", "--unset", "pipdir"));
        string[][] needingPipdir =
        [
            ["kpy", "list"],
            ["kpy", "load", "x"],
            ["krun", "-t", "--venv", "x", "0:05", "true"],
            ["kapp", "image", "list"],
            ["kapp", "path", "ubuntu:22.04"],
            ["kjupyter", "kernel", "install", "k", "--image", "ubuntu:22.04"],
        ];
        var seen = new HashSet<(string, string)>();
        foreach (var argv in needingPipdir)
        {
            var r = k.S.Tool(argv[0], argv[1..]);
            Expect.Error(r, argv[0], 1, "pipdir is not set");
            seen.Add(LastTwo(r, argv[0]));
        }
        var only = Assert.Single(seen);
        Assert.StartsWith("hint: set it with: kslurm config pipdir DIR", only.Item2);
    }
}
