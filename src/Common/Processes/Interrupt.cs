using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Kslurm.Files;

namespace Kslurm.Processes;

/// <summary>
/// SIGTERM (Slurm's time limit, scancel) and SIGHUP handled like Ctrl-C. While a command watches,
/// none of them ends the process on the spot: the children we run are stopped, and the next
/// <see cref="Check"/> throws, so every finally block on the way out removes its scratch files.
/// A command that does not get there within a few seconds (a long wait) is ended anyway.
/// </summary>
public static class Interrupt
{
    static volatile int _signal;
    static int _held; // Interlocked
    static readonly ConcurrentDictionary<int, byte> Children = new();
    static readonly CancellationTokenSource Signalled = new();

    /// <summary>Handle the signals until disposed.</summary>
    public static IDisposable Watch() => new Watching();

    /// <summary>Cancelled once a watched signal came: for loops that wait (on a job) rather than
    /// call <see cref="Check"/>.</summary>
    public static CancellationToken Token => Signalled.Token;

    /// <summary>
    /// Signals are ignored until disposed: for a few steps that must not stop half-way (an
    /// update's renames take microseconds, and stopping between two would mix versions).
    /// </summary>
    public static IDisposable Hold() => new Holding();

    /// <summary>The watched signal that came (2 SIGINT, 15 SIGTERM, 1 SIGHUP), or 0.</summary>
    public static int Received => _signal;

    /// <summary>Throws <see cref="StoppedBySignalException"/> once a watched signal came.</summary>
    public static void Check()
    {
        if (_signal != 0)
            throw new StoppedBySignalException(_signal);
    }

    // Spawn reports the children it starts and reaps, so a signal can stop the running ones.
    internal static void Started(int pid) => Children[pid] = 0;
    internal static void Ended(int pid) => Children.TryRemove(pid, out _);

    sealed class Watching : IDisposable
    {
        readonly PosixSignalRegistration[] _regs;

        public Watching() => _regs =
        [
            PosixSignalRegistration.Create(PosixSignal.SIGINT, c => Raise(c, 2)),
            PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => Raise(c, 15)),
            PosixSignalRegistration.Create(PosixSignal.SIGHUP, c => Raise(c, 1)),
        ];

        static void Raise(PosixSignalContext c, int signal)
        {
            c.Cancel = true;
            if (_signal != 0 || Volatile.Read(ref _held) > 0)
                return;
            _signal = signal;
            Signalled.Cancel();
            foreach (var pid in Children.Keys)
                Libc.Kill(pid, 15); // Ctrl-C reached them already; a SIGTERM sent to us alone did not
            // The way out runs through Check; should it not come (a wait, a long local step), end anyway.
            new Thread(() =>
            {
                Thread.Sleep(5000);
                Console.Out.Flush();
                Environment.Exit(128 + signal);
            }) { IsBackground = true }.Start();
        }

        public void Dispose()
        {
            foreach (var r in _regs)
                r.Dispose();
        }
    }

    sealed class Holding : IDisposable
    {
        readonly PosixSignalRegistration[] _regs;

        public Holding()
        {
            Interlocked.Increment(ref _held); // a Watch active meanwhile ignores them too
            _regs = [.. new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGHUP, PosixSignal.SIGQUIT }
                .Select(s => PosixSignalRegistration.Create(s, c => c.Cancel = true))];
        }

        public void Dispose()
        {
            foreach (var r in _regs)
                r.Dispose();
            Interlocked.Decrement(ref _held);
        }
    }
}

/// <summary>A watched signal arrived: the command ends with 128 + its number, as a shell reports.</summary>
public sealed class StoppedBySignalException(int signal) : OperationCanceledException($"stopped by signal {signal}")
{
    public int Signal { get; } = signal;
}
