namespace Kslurm.Tests;

/// <summary>Where the repository, its published binaries (dist/) and release output (out/) are.</summary>
public static class Repo
{
    public static string Root { get; } = FindRoot();

    public static string Dist => Environment.GetEnvironmentVariable("KSLURM_DIST") is { Length: > 0 } d ? d : Path.Combine(Root, "dist");

    public static string Out => Path.Combine(Root, "out");

    public static string Version => File.ReadAllText(Path.Combine(Root, "VERSION")).Trim();

    public static readonly string[] Tools = ["krun", "kbatch", "kjupyter", "kpy", "kapp", "kslurm"];

    public static string Tool(string name)
    {
        var path = Path.Combine(Dist, name);
        if (!File.Exists(path))
            throw new InvalidOperationException($"{path} does not exist: run `make test` (or ./build.sh publish) so the tests drive the published binaries");
        return path;
    }

    /// <summary>A process that runs TOOL with ARGS and every signal at its default, as from a
    /// terminal: a test run started in the background (`nohup ... &`) hands SIGINT and SIGHUP down
    /// ignored, and exec keeps them so. env execs the tool: the process id is the tool's.</summary>
    public static System.Diagnostics.ProcessStartInfo StartAtDefaultSignals(string tool, params string[] args)
        => new("/usr/bin/env", ["--default-signal", Tool(tool), .. args]);

    /// <summary>Copies the executable SOURCE to DEST (mode 755) in a child process. Copying in this
    /// process would leave a writable descriptor that a child forked at that moment by another test
    /// still holds, so executing DEST right after fails now and then with "Text file busy".</summary>
    public static void CopyExecutable(string source, string dest)
    {
        using var p = System.Diagnostics.Process.Start("/usr/bin/install", ["-m", "755", source, dest]);
        p.WaitForExit();
        if (p.ExitCode != 0)
            throw new InvalidOperationException($"install {source} {dest} exited {p.ExitCode}");
    }

    static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "kslurm.slnx")))
                return dir.FullName;
        throw new InvalidOperationException("cannot find the repository root (kslurm.slnx) above " + AppContext.BaseDirectory);
    }
}
