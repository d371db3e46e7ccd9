using Kslurm.Host;

namespace Kslurm.Tests.Host;

/// <summary>
/// Every program that runs another kslurm program (kslurm krun, krun --venv, kjupyter's kernels
/// and sessions, kapp's build job, kpy's shell line) finds it one way: Paths.Sibling.
/// Dispatch through the real binaries: Foundation/DispatchTests.
/// </summary>
[Trait("Tier", "Unit")]
public sealed class SiblingTests : IDisposable
{
    readonly string _bin = Directory.CreateTempSubdirectory("kslurm-sibling-").FullName;

    public void Dispose() => Directory.Delete(_bin, recursive: true);

    [Fact]
    public void A_sibling_is_the_program_in_the_same_folder()
    {
        var kpy = Path.Combine(_bin, "kpy");
        File.WriteAllText(kpy, "");
        Assert.Equal(kpy, Paths.Sibling("kpy", "krun", _bin));
    }

    [Fact]
    public void A_missing_sibling_is_one_clear_error()
    {
        // kpy on PATH would not do either (it may be another release): only the folder counts
        var e = Assert.Throws<KslurmException>(() => Paths.Sibling("kpy", "kjupyter", _bin));
        Assert.Equal($"kpy is not installed next to kjupyter (looked for {Path.Combine(_bin, "kpy")})", e.Message);
        Assert.Equal("reinstall kslurm so that all its programs sit in one folder", e.Hint);
        Assert.Equal(1, e.ExitCode);
    }
}
