namespace Kslurm.Tests.KslurmTool;

/// <summary>
/// `kslurm completions bash|zsh|fish` loaded into the real shells, asked what they offer at each
/// position, with a store laid out as the tools (and the Python kslurm) leave it: saved venvs in
/// both formats, images pulled by digest and by the old tool, aliases, Jupyter session records,
/// and a template from the user's settings.
/// </summary>
[Trait("Tier", "Binary")]
public sealed class CompletionTests : IDisposable
{
    readonly Sandbox _s = new();
    readonly string _pipdir;

    public CompletionTests()
    {
        _s.Env["PATH"] = Repo.Dist + ":" + _s.Env["PATH"]; // the scripts call `kslurm` as a user's shell would
        _pipdir = Path.Combine(_s.Dir, "project", ".kslurm");
        Expect.Ok(_s.Tool("kslurm", "config", "pipdir", _pipdir));
        Expect.Ok(_s.Tool("kslurm", "config", "templates.mygpu.cpus", "8"));

        var archives = Path.Combine(_pipdir, "venv_archives");
        Directory.CreateDirectory(archives);
        foreach (var f in new[] { "analysis.tar.zst", "analysis-old.tar.gz", "torch2.tar.zst", ".torch3.tar.zst.tmp-1-2" })
            File.WriteAllText(Path.Combine(archives, f), "");

        // images: one pulled by digest (uris link -> images/<hex>.sif), one raw file as the Python kslurm left it
        var store = Path.Combine(_pipdir, "containers");
        var hex = new string('a', 64);
        Directory.CreateDirectory(Path.Combine(store, "images"));
        File.WriteAllText(Path.Combine(store, "images", hex + ".sif"), "");
        var ubuntu = Path.Combine(store, "uris", "docker", "library", "ubuntu", "22.04.sif");
        Directory.CreateDirectory(Path.GetDirectoryName(ubuntu)!);
        File.CreateSymbolicLink(ubuntu, $"../../../../images/{hex}.sif");
        var tool = Path.Combine(store, "uris", "docker", "ghcr.io", "lab", "tool", "1.2.sif");
        Directory.CreateDirectory(Path.GetDirectoryName(tool)!);
        File.WriteAllText(tool, "");
        Directory.CreateDirectory(Path.Combine(store, "aliases"));
        File.CreateSymbolicLink(Path.Combine(store, "aliases", "ub"), "../uris/docker/library/ubuntu/22.04.sif");

        var sessions = Path.Combine(_s.Home, ".local", "state", "kslurm", "jupyter");
        Directory.CreateDirectory(sessions);
        File.WriteAllText(Path.Combine(sessions, "4242.json"), "{}");
        File.WriteAllText(Path.Combine(sessions, "4243.log"), "");
        File.WriteAllText(Path.Combine(sessions, "pending-x.sh"), "");

        Directory.CreateDirectory(Path.Combine(_s.Dir, "work", "data"));
        File.WriteAllText(Path.Combine(_s.Dir, "work", "train.py"), "");
    }

    public void Dispose() => _s.Dispose();

    string Script(string shell)
    {
        var path = Path.Combine(_s.Dir, $"completions.{shell}");
        var r = _s.Tool("kslurm", "completions", shell);
        Expect.Ok(r);
        File.WriteAllText(path, r.Stdout);
        return path;
    }

    string Work => Path.Combine(_s.Dir, "work");

    /// <summary>bash: source the script, set COMP_* as readline would, call the function, print COMPREPLY.</summary>
    string[] Bash(string line)
    {
        const string body = """
            source "$1"
            COMP_LINE=$2; COMP_POINT=${#2}
            # COMP_WORDS as readline splits them: blanks, and the COMP_WORDBREAKS characters : and =
            read -ra COMP_WORDS <<< "${2//[:=]/ & }"
            [[ $2 == *' ' || $2 == *[:=] ]] && COMP_WORDS+=("")
            COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
            _kslurm_complete
            printf '%s\n' "${COMPREPLY[@]}"
            """;
        return Lines(_s.Exec("bash", ["--norc", "-c", body, "bash", Script("bash"), line], cwd: Work));
    }

    /// <summary>fish: `complete -C` lists what Tab would offer for a command line.</summary>
    string[] Fish(string line)
        => Lines(_s.Exec("fish", ["--no-config", "-c", "source $argv[1]; complete -C $argv[2]", Script("fish"), line], cwd: Work))
            .Select(l => l.Split('\t')[0]).ToArray();

    /// <summary>zsh: an interactive zsh in a pseudo-terminal (zpty) gets the line and a Tab; the matches it adds are echoed.</summary>
    string[] Zsh(string line)
        => Lines(_s.Exec("zsh", ["-f", Path.Combine(Repo.Root, "tests", "Kslurm.Tests", "KslurmTool", "zsh-complete.zsh"), Script("zsh"), line],
            cwd: Work, timeoutMs: 30_000));

    static string[] Lines(Result r)
    {
        Assert.True(r.Code == 0, r.ToString());
        return [.. r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }

    public static TheoryData<string, string[]> Positions => new()
    {
        // subcommands and options of every tool
        { "kpy ", ["activate", "bash", "create", "deactivate", "exec", "export", "freeze", "info", "list", "load", "rm", "save", "wheels", "zsh"] },
        { "kapp image ", ["list", "rm"] },
        { "kslurm ", ["completions", "config", "kapp", "kbatch", "kjupyter", "kpy", "krun", "self", "update"] },
        { "kslurm self ", ["uninstall", "update"] },
        { "kslurm completions ", ["bash", "fish", "zsh"] },
        { "kjupyter st", ["stop"] },
        { "kbatch --w", ["--wait"] },
        { "kpy load analysis --", ["--all-nodes", "--as", "--help", "--no-modules", "--unpack"] },
        { "krun --venv x --no", ["--no-modules"] },
        { "kapp pull docker://x -", ["--alias", "--force", "--help", "--mem", "--time", "-a", "-f", "-h"] },
        // templates after -j (built-in and the user's own)
        { "krun -j myg", ["mygpu"] },
        { "kbatch 4 --job-template=myg", ["--job-template=mygpu"] },
        // saved venvs (both formats, temp files hidden)
        { "kpy load ", ["analysis", "analysis-old", "torch2"] },
        { "kpy rm t", ["torch2"] },
        { "kpy info an", ["analysis", "analysis-old"] },
        { "kpy exec ", ["analysis", "analysis-old", "torch2"] },
        { "kpy export to", ["torch2"] },
        { "kpy freeze an", ["analysis", "analysis-old"] },
        { "krun 2 --venv ", ["analysis", "analysis-old", "torch2"] },
        { "kslurm kjupyter --venv to", ["torch2"] },
        // images and aliases
        { "kapp run ", ["docker://ghcr.io/lab/tool:1.2", "docker://ubuntu:22.04", "ub"] },
        { "kapp exec ub", ["ub", "ubuntu:22.04"] },
        { "kapp shell docker://g", ["docker://ghcr.io/lab/tool:1.2"] },
        { "kapp path ", ["docker://ghcr.io/lab/tool:1.2", "docker://ubuntu:22.04", "ub"] },
        { "kapp image rm docker://u", ["docker://ubuntu:22.04"] },
        { "kapp alias rm ", ["ub"] },
        // Jupyter sessions
        { "kjupyter url ", ["4242", "4243", "browser", "server"] },
        { "kjupyter tunnel ", ["4242", "4243"] },
        { "kjupyter log 42", ["4242", "4243"] },
        { "kjupyter stop ", ["4242", "4243"] },
        { "kjupyter shell 4242", ["4242"] },
        // setting keys
        { "kslurm config ", ["account", "account.cpu", "account.gpu", "jupyter.login_host", "jupyter.login_user", "pipdir", "templates.mygpu.cpus"] },
        { "kslurm config --unset p", ["pipdir"] },
        // a command: file names from the shell
        { "krun 4 3:00 tr", ["train.py"] },
        { "kpy exec analysis -- tr", ["train.py"] },
    };

    [Theory]
    [MemberData(nameof(Positions))]
    public void Bash_offers(string line, string[] expected) => Assert.Equal(Bash(line), BashForm(line, expected));

    [Theory]
    [MemberData(nameof(Positions))]
    public void Fish_offers(string line, string[] expected) => Assert.Equal(Fish(line), expected.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(Positions))]
    public void Zsh_offers(string line, string[] expected) => Assert.Equal(Zsh(line), expected.Order(StringComparer.Ordinal));

    /// <summary>Bash replaces only the part after the last `:` or `=` of the word; it is given that part.</summary>
    static string[] BashForm(string line, string[] expected)
    {
        var cur = line[(line.LastIndexOf(' ') + 1)..];
        var cut = cur.LastIndexOfAny([':', '=']);
        return [.. expected.Select(e => cut >= 0 ? e[(cut + 1)..] : e).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public void Templates_include_the_built_in_ones()
    {
        var names = Lines(_s.Tool("kslurm", "_complete", "templates"));
        Assert.Contains("mygpu", names);
        Assert.True(names.Length > 20, string.Join(' ', names));
        Assert.Equal(names, Fish("krun -j "));
    }

    [Fact]
    public void Names_come_from_local_files_without_slurm_or_network()
    {
        // no sinfo/squeue/curl on PATH, only the binaries: every kind still answers
        var env = new Dictionary<string, string?> { ["PATH"] = Repo.Dist };
        foreach (var kind in new[] { "templates", "venvs", "images", "aliases", "jobs", "keys" })
        {
            var r = _s.Exec(Repo.Tool("kslurm"), ["_complete", kind], extraEnv: env);
            Assert.True(r.Code == 0 && r.Stdout.Length > 0 && r.Stderr.Length == 0, kind + ": " + r);
        }
    }

    [Fact]
    public void A_broken_store_offers_nothing_and_prints_no_error()
    {
        File.WriteAllText(_s.UserConfig, "pipdir = [unclosed\n");
        var r = _s.Tool("kslurm", "_complete", "words", "--", "kpy", "load", "");
        Assert.Equal("", r.Stdout + r.Stderr);
        Assert.Empty(Bash("kpy load "));
        Assert.Equal(["load"], Bash("kpy lo")); // static words still come
    }

    [Fact]
    public void Unknown_shell_is_a_usage_error()
        => Expect.Error(_s.Tool("kslurm", "completions", "tcsh"), "kslurm", 2, "no completions for 'tcsh'");
}
