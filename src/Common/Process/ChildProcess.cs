using System.ComponentModel;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Kslurm;

/// <summary>What a captured child printed and how it ended.</summary>
public sealed record Captured(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>
/// Runs other programs (srun, sbatch, python, ...) from an argv list, never through a shell, so
/// the user's arguments arrive byte for byte.
/// </summary>
public static class ChildProcess
{
    /// <summary>
    /// Runs with our stdin/stdout/stderr and returns the child's exit code (128+N when killed by
    /// signal N). Ctrl-C from the terminal reaches the child directly (same process group); we
    /// only survive it, and pass SIGTERM/SIGHUP on, so the child decides how to end.
    /// </summary>
    public static int Run(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? env = null, string? cwd = null)
    {
        var psi = Prepare(argv, env, cwd);
        using var p = Start(psi, argv[0]);
        using var forward = new SignalForwarding(p);
        p.WaitForExit();
        return p.ExitCode;
    }

    /// <summary>
    /// Like <see cref="Run"/>, but the child's stderr passes through us (byte for byte, as it
    /// comes) so we can read the end of it afterwards, e.g. to explain a refusal from Slurm.
    /// </summary>
    public static (int ExitCode, string StderrTail) RunTeeStderr(IReadOnlyList<string> argv,
        IReadOnlyDictionary<string, string?>? env = null, string? cwd = null)
    {
        var psi = Prepare(argv, env, cwd);
        psi.RedirectStandardError = true;
        using var p = Start(psi, argv[0]);
        using var forward = new SignalForwarding(p);
        var tail = new StringBuilder();
        var copy = Task.Run(() =>
        {
            using var ours = Console.OpenStandardError();
            var buf = new byte[16 * 1024];
            var decoder = new UTF8Encoding(false).GetDecoder();
            var chars = new char[buf.Length];
            int n;
            while ((n = p.StandardError.BaseStream.Read(buf, 0, buf.Length)) > 0)
            {
                ours.Write(buf, 0, n);
                ours.Flush();
                var c = decoder.GetChars(buf, 0, n, chars, 0);
                tail.Append(chars, 0, c);
                if (tail.Length > 64 * 1024)
                    tail.Remove(0, tail.Length - 32 * 1024);
            }
        });
        p.WaitForExit();
        copy.Wait();
        return (p.ExitCode, tail.ToString());
    }

    /// <summary>Runs with stdout and stderr captured (read concurrently: no pipe deadlock).</summary>
    public static Captured Capture(IReadOnlyList<string> argv, string? stdin = null,
        IReadOnlyDictionary<string, string?>? env = null, string? cwd = null)
    {
        var psi = Prepare(argv, env, cwd);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        psi.RedirectStandardInput = stdin is not null;
        psi.StandardOutputEncoding = psi.StandardErrorEncoding = new UTF8Encoding(false);
        using var p = Start(psi, argv[0]);
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            try
            {
                p.StandardInput.Write(stdin);
                p.StandardInput.Close();
            }
            catch (IOException)
            {
                // The child exited without reading all of its input; its exit code tells the rest.
            }
        }
        p.WaitForExit();
        return new Captured(p.ExitCode, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>
    /// Runs and hands every line of stdout and stderr to a callback as it arrives (e.g. to watch a
    /// job's log for a URL) while the child keeps running.
    /// </summary>
    public static int Stream(IReadOnlyList<string> argv, Action<string, bool> onLine,
        IReadOnlyDictionary<string, string?>? env = null, string? cwd = null, CancellationToken cancel = default)
    {
        var psi = Prepare(argv, env, cwd);
        psi.RedirectStandardOutput = true;
        psi.RedirectStandardError = true;
        using var p = Start(psi, argv[0]);
        using var forward = new SignalForwarding(p);
        var gate = new object();
        async Task Pump(StreamReader r, bool isErr)
        {
            while (await r.ReadLineAsync() is { } line)
                lock (gate) onLine(line, isErr);
        }
        var a = Pump(p.StandardOutput, false);
        var b = Pump(p.StandardError, true);
        using (cancel.Register(() => Signal(p, 15)))
            p.WaitForExit();
        Task.WaitAll(a, b);
        return p.ExitCode;
    }

    /// <summary>
    /// Replaces this process with the program (execve): the child gets our pid, terminal and
    /// signals, and its exit code is ours. Used when running the command is our last act.
    /// </summary>
    public static int Exec(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? env = null)
    {
        var path = Resolve(argv[0]);
        var vars = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            vars[(string)e.Key] = (string?)e.Value ?? "";
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) vars.Remove(k); else vars[k] = v;
        var envp = vars.Select(kv => $"{kv.Key}={kv.Value}").Append(null).ToArray();
        var args = argv.Cast<string?>().Append(null).ToArray();
        Console.Out.Flush();
        Console.Error.Flush();
        Libc.Execve(path, args, envp);
        var errno = Marshal.GetLastPInvokeError();
        throw new KslurmException($"cannot run {argv[0]}: {Libc.ErrorText(errno)}");
    }

    /// <summary>Finds a program on PATH (or checks an explicit path) the way a shell does.</summary>
    public static string? Which(string name)
    {
        if (name.Contains('/'))
            return IsExecutable(name) ? name : null;
        var path = Environment.GetEnvironmentVariable("PATH");
        if (string.IsNullOrEmpty(path))
            path = "/usr/local/bin:/usr/bin:/bin";
        foreach (var dir in path.Split(':'))
        {
            var candidate = Path.Combine(dir.Length == 0 ? "." : dir, name);
            if (IsExecutable(candidate))
                return candidate;
        }
        return null;
    }

    static string Resolve(string name)
        => Which(name) ?? throw NotFound(name);

    static bool IsExecutable(string path)
    {
        try
        {
            if (!File.Exists(path))
                return false;
            const UnixFileMode anyExec = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            return (File.GetUnixFileMode(path) & anyExec) != 0;
        }
        catch (IOException) { return false; }
        catch (UnauthorizedAccessException) { return false; }
    }

    static KslurmException NotFound(string name) => name switch
    {
        "srun" or "salloc" or "sbatch" or "squeue" or "scancel" or "sacct" or "sacctmgr" or "sshare" or "sinfo" or "scontrol"
            => new KslurmException($"{name} not found on PATH", "run this on a Slurm login node, or load the site's slurm module"),
        _ => new KslurmException($"{name} not found on PATH", $"install {name} or add its folder to PATH"),
    };

    static ProcessStartInfo Prepare(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? env, string? cwd)
    {
        if (argv.Count == 0)
            throw new ArgumentException("empty command line", nameof(argv));
        var psi = new ProcessStartInfo { FileName = argv[0], UseShellExecute = false };
        for (var i = 1; i < argv.Count; i++)
            psi.ArgumentList.Add(argv[i]);
        if (cwd is not null)
            psi.WorkingDirectory = cwd;
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        return psi;
    }

    static System.Diagnostics.Process Start(ProcessStartInfo psi, string name)
    {
        try
        {
            return System.Diagnostics.Process.Start(psi) ?? throw NotFound(name);
        }
        catch (Win32Exception e) when (e.NativeErrorCode == Libc.ENOENT)
        {
            throw NotFound(name);
        }
        catch (Win32Exception e)
        {
            throw new KslurmException($"cannot run {name}: {e.Message}");
        }
    }

    static void Signal(System.Diagnostics.Process p, int signal)
    {
        try
        {
            if (!p.HasExited)
                Libc.Kill(p.Id, signal);
        }
        catch (InvalidOperationException) { }
    }

    /// <summary>While a child runs: survive Ctrl-C (the child got it too) and pass termination on.</summary>
    sealed class SignalForwarding : IDisposable
    {
        readonly List<PosixSignalRegistration> _regs = [];

        public SignalForwarding(System.Diagnostics.Process child)
        {
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true));
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true));
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Signal(child, 15); }));
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; Signal(child, 1); }));
        }

        public void Dispose()
        {
            foreach (var r in _regs)
                r.Dispose();
        }
    }
}
