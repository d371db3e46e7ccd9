namespace Kslurm.Tests;

/// <summary>One call of a fake Slurm command: its name, argv (without the name), working folder,
/// environment, and for sbatch a copy of the script file it was given.</summary>
public sealed record SlurmCall(string Command, IReadOnlyList<string> Args, string Cwd,
    IReadOnlyDictionary<string, string> Env, string? Script)
{
    public override string ToString() => $"{Command} {string.Join(' ', Args.Select(a => $"[{a}]"))} (in {Cwd})";
}

/// <summary>
/// The binary tier's Slurm (tests/README.md): sbatch, srun, salloc, squeue, scontrol, sacct and
/// scancel as one small bash script, first on the sandbox's PATH. Each call is recorded
/// (NUL-separated, so any argv survives), then answered as the test said (<see cref="Answer"/>),
/// or by default: sbatch prints a job id, srun runs the command after its `--` here, as the node
/// would; the others print nothing and succeed. For what kslurm hands to Slurm, not for what Slurm
/// does with it: that is the cluster tier's job.
/// </summary>
public sealed class FakeSlurm
{
    public static readonly string[] Commands = ["sbatch", "srun", "salloc", "squeue", "scontrol", "sacct", "scancel"];
    public const string JobId = "4242";

    const string Script = """
        #!/bin/bash
        # A fake Slurm client command, written by tests/Kslurm.Tests/Support/FakeSlurm.cs.
        root="$(cd "$(dirname "$0")/.." && pwd)"
        name="$(basename "$0")"
        rec="$root/calls/$(date +%s%N)-$$"
        mkdir -p "$rec"
        printf '%s\0' "$PWD" "$name" "$@" > "$rec/argv"
        env -0 > "$rec/env"
        if [ "$name" = sbatch ]; then
          for a in "$@"; do [ -f "$a" ] && { cp "$a" "$rec/script"; break; }; done
        fi
        ans="$root/answers/$name"
        if [ -e "$ans.exit" ]; then
          [ -e "$ans.out" ] && cat "$ans.out"
          [ -e "$ans.err" ] && cat "$ans.err" >&2
          exit "$(cat "$ans.exit")"
        fi
        case "$name" in
          sbatch) echo @JOBID@ ;;
          srun) while [ $# -gt 0 ] && [ "$1" != -- ]; do shift; done
                [ $# -gt 1 ] && { shift; exec "$@"; } ;;
        esac
        exit 0
        """;

    public FakeSlurm(Sandbox s)
    {
        Root = Path.Combine(s.Dir, "fake-slurm");
        var bin = Path.Combine(Root, "bin");
        Directory.CreateDirectory(bin);
        Directory.CreateDirectory(Path.Combine(Root, "calls"));
        Directory.CreateDirectory(Path.Combine(Root, "answers"));
        var fake = Path.Combine(Root, "fake-slurm.sh");
        File.WriteAllText(fake, Script.Replace("@JOBID@", JobId) + "\n");
        File.SetUnixFileMode(fake, (UnixFileMode)0b111_101_101);
        foreach (var c in Commands)
            File.CreateSymbolicLink(Path.Combine(bin, c), fake);
        s.Env["PATH"] = $"{bin}:{Repo.Dist}:/usr/local/bin:/usr/bin:/bin";
    }

    public string Root { get; }

    /// <summary>From now on, <paramref name="command"/> prints this and exits with this code.</summary>
    public void Answer(string command, int exit, string stdout = "", string stderr = "")
    {
        var a = Path.Combine(Root, "answers", command);
        File.WriteAllText(a + ".out", stdout);
        File.WriteAllText(a + ".err", stderr);
        File.WriteAllText(a + ".exit", exit.ToString());
    }

    /// <summary>Every call so far, oldest first.</summary>
    public IReadOnlyList<SlurmCall> Calls =>
        Directory.GetDirectories(Path.Combine(Root, "calls")).Order(StringComparer.Ordinal).Select(Read).ToList();

    public IReadOnlyList<SlurmCall> CallsOf(string command) => Calls.Where(c => c.Command == command).ToList();

    static SlurmCall Read(string dir)
    {
        var argv = File.ReadAllText(Path.Combine(dir, "argv")).Split('\0')[..^1];
        var env = File.ReadAllText(Path.Combine(dir, "env")).Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(kv => kv.Split('=', 2)).Where(kv => kv.Length == 2)
            .GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.Last()[1]);
        var script = Path.Combine(dir, "script");
        return new SlurmCall(argv[1], argv[2..], argv[0], env, File.Exists(script) ? File.ReadAllText(script) : null);
    }
}
