using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Kslurm.Files;

namespace Kslurm.Processes;

/// <summary>What a captured child printed and how it ended.</summary>
public sealed record Captured(int ExitCode, string Stdout, string Stderr)
{
    public bool Ok => ExitCode == 0;
}

/// <summary>
/// Runs other programs (srun, sbatch, python, ...) from an argv list, never through a shell, so
/// the user's arguments arrive byte for byte. Children start in our current directory.
/// </summary>
public static class ChildProcess
{
    /// <summary>
    /// Runs with our stdin/stdout/stderr and returns the child's exit code (128+N when killed by
    /// signal N). Ctrl-C from the terminal reaches the child directly (same process group); we
    /// only survive it, and pass SIGTERM/SIGHUP on, so the child decides how to end.
    /// </summary>
    /// <param name="stdoutToStderr">send the child's stdout to our stderr, when our stdout is
    /// reserved for a result (e.g. kapp pull printing the image path)</param>
    public static int Run(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? env = null, bool stdoutToStderr = false)
    {
        var pid = Spawn.Start(Resolve(argv[0]), argv, Environ(env), stdout: stdoutToStderr ? 2 : -1);
        using var _ = new SignalForwarding(pid);
        return Spawn.Wait(pid);
    }

    /// <summary>
    /// Starts a child that runs alongside us (we may poll something meanwhile); it has our
    /// stdin/stdout/stderr, and SIGTERM/SIGHUP sent to us are passed on until it is waited for.
    /// </summary>
    public static RunningChild Start(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? env = null)
        => new(Spawn.Start(Resolve(argv[0]), argv, Environ(env)));

    public sealed class RunningChild : IDisposable
    {
        readonly SignalForwarding _forward;
        int? _code;

        internal RunningChild(int pid)
        {
            Pid = pid;
            _forward = new SignalForwarding(pid);
        }

        public int Pid { get; }

        /// <summary>Blocks until the child ends; its exit code (128+N for signal N).</summary>
        public int Wait() => _code ??= Spawn.Wait(Pid);

        /// <summary>The exit code if the child has ended, without blocking.</summary>
        public int? Poll() => _code ??= Spawn.TryWait(Pid);

        public void Signal(int signal) => Libc.Kill(Pid, signal);

        public void Dispose() => _forward.Dispose();
    }

    /// <summary>
    /// Like <see cref="Run"/>, but the child's stderr passes through us (byte for byte, as it
    /// comes) so we can read the end of it afterwards, e.g. to explain a refusal from Slurm.
    /// </summary>
    public static (int ExitCode, string StderrTail) RunTeeStderr(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? env = null)
    {
        var (read, write) = Spawn.Pipe();
        int pid;
        try { pid = Spawn.Start(Resolve(argv[0]), argv, Environ(env), stderr: write); }
        finally { Libc.Close(write); }
        using var _ = new SignalForwarding(pid);
        var tail = new StringBuilder();
        var copy = Task.Run(() =>
        {
            using var from = Reader(read);
            using var ours = Console.OpenStandardError();
            var buf = new byte[16 * 1024];
            var chars = new char[buf.Length];
            var decoder = new UTF8Encoding(false).GetDecoder();
            int n;
            while ((n = from.Read(buf, 0, buf.Length)) > 0)
            {
                ours.Write(buf, 0, n);
                ours.Flush();
                tail.Append(chars, 0, decoder.GetChars(buf, 0, n, chars, 0));
                if (tail.Length > 64 * 1024)
                    tail.Remove(0, tail.Length - 32 * 1024);
            }
        });
        var code = Spawn.Wait(pid);
        copy.Wait();
        return (code, tail.ToString());
    }

    /// <summary>Runs with stdout and stderr captured (read concurrently: no pipe deadlock).</summary>
    public static Captured Capture(IReadOnlyList<string> argv, string? stdin = null, IReadOnlyDictionary<string, string?>? env = null)
    {
        var path = Resolve(argv[0]);
        var (outR, outW) = Spawn.Pipe();
        var (errR, errW) = Spawn.Pipe();
        (int R, int W) inp = stdin is null ? (-1, -1) : Spawn.Pipe();
        int pid;
        try
        {
            pid = Spawn.Start(path, argv, Environ(env), stdin: inp.R, stdout: outW, stderr: errW);
        }
        catch
        {
            foreach (var fd in new[] { outR, errR, inp.W })
                if (fd >= 0) Libc.Close(fd);
            throw;
        }
        finally
        {
            foreach (var fd in new[] { outW, errW, inp.R })
                if (fd >= 0) Libc.Close(fd);
        }
        var stdout = Task.Run(() => ReadAll(outR));
        var stderr = Task.Run(() => ReadAll(errR));
        if (stdin is not null)
        {
            try
            {
                using var w = new FileStream(new SafeFileHandle(inp.W, ownsHandle: true), FileAccess.Write, 1);
                w.Write(new UTF8Encoding(false).GetBytes(stdin));
            }
            catch (IOException)
            {
                // The child exited without reading all of its input; its exit code tells the rest.
            }
        }
        var code = Spawn.Wait(pid);
        return new Captured(code, stdout.GetAwaiter().GetResult(), stderr.GetAwaiter().GetResult());
    }

    /// <summary>
    /// Runs and hands every line of stdout and stderr to a callback as it arrives (e.g. to watch a
    /// job's log for a URL) while the child keeps running.
    /// </summary>
    public static int Stream(IReadOnlyList<string> argv, Action<string, bool> onLine,
        IReadOnlyDictionary<string, string?>? env = null, CancellationToken cancel = default)
    {
        var (outR, outW) = Spawn.Pipe();
        var (errR, errW) = Spawn.Pipe();
        int pid;
        try { pid = Spawn.Start(Resolve(argv[0]), argv, Environ(env), stdout: outW, stderr: errW); }
        finally
        {
            Libc.Close(outW);
            Libc.Close(errW);
        }
        using var _ = new SignalForwarding(pid);
        var gate = new object();
        Task Pump(int fd, bool isErr) => Task.Run(() =>
        {
            using var r = new StreamReader(Reader(fd), new UTF8Encoding(false));
            while (r.ReadLine() is { } line)
                lock (gate) onLine(line, isErr);
        });
        var a = Pump(outR, false);
        var b = Pump(errR, true);
        int code;
        using (cancel.Register(() => Libc.Kill(pid, 15)))
            code = Spawn.Wait(pid);
        Task.WaitAll(a, b);
        return code;
    }

    /// <summary>
    /// The child's stdout as a stream (e.g. `gzip -dc FILE`). At the end of the stream the child's
    /// exit is checked: a failure raises <see cref="InvalidDataException"/> with its stderr, so a
    /// reader never mistakes a broken input for a short one. Disposing early stops the child.
    /// </summary>
    public static Stream ReadFrom(IReadOnlyList<string> argv)
    {
        var path = Resolve(argv[0]);
        var (outR, outW) = Spawn.Pipe();
        var (errR, errW) = Spawn.Pipe();
        int pid;
        try { pid = Spawn.Start(path, argv, Environ(null), stdout: outW, stderr: errW); }
        finally
        {
            Libc.Close(outW);
            Libc.Close(errW);
        }
        return new ChildOutput(pid, Reader(outR), Task.Run(() => ReadAll(errR)), argv[0]);
    }

    sealed class ChildOutput(int pid, FileStream output, Task<string> stderr, string name) : Stream
    {
        bool _done;

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var n = output.Read(buffer);
            if (n == 0 && buffer.Length > 0 && !_done)
            {
                _done = true;
                var code = Spawn.Wait(pid);
                if (code != 0)
                    throw new InvalidDataException($"{name}: {stderr.GetAwaiter().GetResult().Trim()} (exit code {code})");
            }
            return n;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_done)
            {
                _done = true;
                Libc.Kill(pid, 15);
                output.Dispose();
                Spawn.Wait(pid);
            }
            output.Dispose();
            base.Dispose(disposing);
        }

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    /// <summary>
    /// Replaces this process with the program (execve): the child gets our pid, terminal and
    /// signals, and its exit code is ours. Used when running the command is our last act.
    /// </summary>
    public static int Exec(IReadOnlyList<string> argv, IReadOnlyDictionary<string, string?>? env = null)
    {
        var path = Resolve(argv[0]);
        var envp = Environ(env);
        Console.Out.Flush();
        Console.Error.Flush();
        Spawn.ResetSignalsForExec();
        Libc.Execve(path, [.. argv, null], envp);
        var errno = Marshal.GetLastPInvokeError();
        throw new KslurmException($"cannot run {argv[0]}: {Libc.ErrorText(errno)}");
    }

    /// <summary>Finds a program on PATH (or checks an explicit path) the way a shell does.</summary>
    public static string? Which(string name, string? path = null)
    {
        if (name.Contains('/'))
            return IsExecutable(name) ? name : null;
        path ??= Environment.GetEnvironmentVariable("PATH");
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

    static string Resolve(string name) => Which(name) ?? throw NotFound(name);

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

    /// <summary>
    /// The child's environment: ours plus overrides (null removes). Built from the managed view,
    /// since Environment.SetEnvironmentVariable does not change the native one.
    /// </summary>
    static string?[] Environ(IReadOnlyDictionary<string, string?>? overrides)
    {
        var vars = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (System.Collections.DictionaryEntry e in Environment.GetEnvironmentVariables())
            vars[(string)e.Key] = (string?)e.Value ?? "";
        if (overrides is not null)
            foreach (var (k, v) in overrides)
                if (v is null) vars.Remove(k); else vars[k] = v;
        return [.. vars.Select(kv => $"{kv.Key}={kv.Value}"), null];
    }

    static FileStream Reader(int fd) => new(new SafeFileHandle(fd, ownsHandle: true), FileAccess.Read, 1);

    static string ReadAll(int fd)
    {
        using var r = new StreamReader(Reader(fd), new UTF8Encoding(false));
        return r.ReadToEnd();
    }

    /// <summary>While a child runs: survive Ctrl-C (the child got it too) and pass termination on.</summary>
    sealed class SignalForwarding : IDisposable
    {
        readonly List<PosixSignalRegistration> _regs = [];

        public SignalForwarding(int child)
        {
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true));
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGQUIT, c => c.Cancel = true));
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; Libc.Kill(child, 15); }));
            _regs.Add(PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => { c.Cancel = true; Libc.Kill(child, 1); }));
        }

        public void Dispose()
        {
            foreach (var r in _regs)
                r.Dispose();
        }
    }
}
