using System.Text.RegularExpressions;

namespace Kslurm.Tests.Kpy;

/// <summary>
/// How kpy load creates the venv's entries (docs/decisions.md, "Unsteady loads are the file
/// system's"): on ext4 right after a delete, two threads allocating inodes at once collide, so
/// one thread makes every folder and file of the venv.
/// </summary>
[Trait("Tier", "Binary")]
public class KpyLoadSyscallTests
{
    [Fact]
    public void One_thread_makes_every_folder_and_file_of_the_venv()
    {
        using var k = new KpySandbox();
        k.CreateDemo("one");
        var trace = Path.Combine(k.S.Dir, "trace");
        Expect.Ok(k.S.Exec("strace", ["-f", "-qq", "-o", trace, "-e", "trace=mkdir,mkdirat,openat",
            Repo.Tool("kpy"), "load", "one", "--as", "two"]));

        // Folders inside the folder being unpacked (its own mkdir, by the main thread, excepted), and
        // files created relative to a folder's handle. strace pads the process id to five columns.
        var creates = new Regex("""^(\d+)\s+(?:mkdirat\((?!AT_FDCWD)|mkdir\("[^"]*/\.two\.tmp-[^"/]*/|openat\((?!AT_FDCWD)[^,]*, "[^"]*", [^)]*O_CREAT)""");
        var threads = File.ReadLines(trace).Select(l => creates.Match(l)).Where(m => m.Success)
            .GroupBy(m => m.Groups[1].Value).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(threads.Count == 1, "entries created by several threads: " + string.Join(", ", threads.Select(t => $"{t.Key}: {t.Value}")));
        Assert.True(threads.Single().Value > 100, $"only {threads.Single().Value} creates seen: is the trace pattern out of date?");
        Assert.True(File.Exists(Path.Combine(k.LiveRoot, "two", "bin", "activate")));
    }
}
