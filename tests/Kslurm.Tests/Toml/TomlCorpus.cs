using Kslurm;

namespace Kslurm.Tests.Toml;

/// <summary>Finds the toml-test corpus and lists the files that apply to TOML 1.0.</summary>
internal static class TomlCorpus
{
    public const string EnvVar = "KSLURM_TOML_TEST_DIR";
    const string ListFile = "files-toml-1.0.0";

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
            if (File.Exists(Path.Combine(fromEnv, ListFile))) return fromEnv;
            Assert.Fail($"{EnvVar}={fromEnv} does not contain {ListFile}; point it at toml-test's tests/ directory");
        }
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "toml-test", "tests");
            if (File.Exists(Path.Combine(candidate, ListFile))) return candidate;
        }
        Assert.Fail($"toml-test corpus not found: set {EnvVar} to toml-test's tests/ directory, or put it at " +
                    $"<repo>/../shared/toml-test/tests (searched upwards from {AppContext.BaseDirectory})");
        return null!;
    }

    /// <summary>Relative paths (e.g. "valid/bool/bool.toml") of the .toml files in the 1.0 list.</summary>
    public static (string Dir, List<string> Valid, List<string> Invalid) Files()
    {
        var dir = Locate();
        var tomlFiles = File.ReadAllLines(Path.Combine(dir, ListFile))
            .Select(l => l.Trim())
            .Where(l => l.EndsWith(".toml", StringComparison.Ordinal))
            .ToList();
        var valid = tomlFiles.Where(f => f.StartsWith("valid/", StringComparison.Ordinal)).ToList();
        var invalid = tomlFiles.Where(f => f.StartsWith("invalid/", StringComparison.Ordinal)).ToList();
        Assert.True(valid.Count > 0 && invalid.Count > 0, $"{ListFile} in {dir} lists no valid or no invalid files");
        return (dir, valid, invalid);
    }

    /// <summary>Parses a corpus file from its raw bytes, so UTF-8 errors are seen as such.</summary>
    public static TomlTable Parse(string dir, string relative) =>
        Kslurm.Toml.Parse(File.ReadAllBytes(Path.Combine(dir, relative)), relative);
}
