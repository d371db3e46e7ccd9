using Tomlyn.Model;
using Kslurm.Config;

namespace Kslurm.Tests.Config;

/// <summary>Finds the toml-test corpus and lists its files for TOML 1.0 and 1.1.</summary>
internal static class TomlCorpus
{
    public const string EnvVar = "KSLURM_TOML_TEST_DIR";
    static readonly string[] ListFiles = ["files-toml-1.0.0", "files-toml-1.1.0"];

    /// <summary>
    /// The corpus "tests" directory: $KSLURM_TOML_TEST_DIR, else shared/toml-test/tests found by
    /// walking up from the test assembly (the corpus sits next to the repository). A missing corpus
    /// fails the test: a silently skipped conformance test would hide regressions.
    /// </summary>
    public static string Locate()
    {
        var fromEnv = Environment.GetEnvironmentVariable(EnvVar);
        if (!string.IsNullOrEmpty(fromEnv))
        {
            if (ListFiles.All(l => File.Exists(Path.Combine(fromEnv, l)))) return fromEnv;
            Assert.Fail($"{EnvVar}={fromEnv} does not contain {string.Join(" and ", ListFiles)}; point it at toml-test's tests/ directory");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "toml-test", "tests");
            if (ListFiles.All(l => File.Exists(Path.Combine(candidate, l)))) return candidate;
        }
        Assert.Fail($"toml-test corpus not found: set {EnvVar} to toml-test's tests/ directory, or put it at " +
                    $"<repo>/../shared/toml-test/tests (searched upwards from {AppContext.BaseDirectory})");
        return null!;
    }

    /// <summary>Relative paths (e.g. "valid/bool/bool.toml") of the .toml files of one version's list.</summary>
    public static (List<string> Valid, List<string> Invalid) Files(string dir, string version)
    {
        var tomlFiles = File.ReadAllLines(Path.Combine(dir, $"files-toml-{version}"))
            .Select(l => l.Trim())
            .Where(l => l.EndsWith(".toml", StringComparison.Ordinal))
            .ToList();
        var valid = tomlFiles.Where(f => f.StartsWith("valid/", StringComparison.Ordinal)).ToList();
        var invalid = tomlFiles.Where(f => f.StartsWith("invalid/", StringComparison.Ordinal)).ToList();
        Assert.True(valid.Count > 0 && invalid.Count > 0, $"files-toml-{version} in {dir} lists no valid or no invalid files");
        return (valid, invalid);
    }

    /// <summary>Parses a corpus file from its raw bytes the way kslurm reads settings (syntax validated first).</summary>
    public static TomlTable Parse(string dir, string relative) =>
        TomlText.Parse(File.ReadAllBytes(Path.Combine(dir, relative)), relative).Model;
}
