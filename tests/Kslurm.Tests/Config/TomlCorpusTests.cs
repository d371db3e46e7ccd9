using System.Text.Json;
using Xunit.Abstractions;
using Kslurm.Config;

namespace Kslurm.Tests.Config;

/// <summary>
/// The official toml-test corpus through Tomlyn, as kslurm reads settings: every valid file of the
/// TOML 1.0 and 1.1 lists parses to the expected values, every invalid file is rejected, except the
/// TOML 1.0 files that TOML 1.1 made valid (Tomlyn reads 1.1).
/// </summary>
[Trait("Tier", "Unit")]
public sealed class TomlCorpusTests(ITestOutputHelper output)
{
    /// <summary>Invalid in TOML 1.0, valid in 1.1: accepted, and the reason why.</summary>
    static readonly Dictionary<string, string> ValidSince11 = new()
    {
        ["invalid/datetime/no-secs.toml"] = "TOML 1.1: the seconds of a time may be left out",
        ["invalid/local-datetime/no-secs.toml"] = "TOML 1.1: the seconds of a time may be left out",
        ["invalid/local-time/no-secs.toml"] = "TOML 1.1: the seconds of a time may be left out",
        ["invalid/inline-table/linebreak-01.toml"] = "TOML 1.1: inline tables may span lines",
        ["invalid/inline-table/linebreak-02.toml"] = "TOML 1.1: inline tables may span lines",
        ["invalid/inline-table/linebreak-03.toml"] = "TOML 1.1: inline tables may span lines",
        ["invalid/inline-table/linebreak-04.toml"] = "TOML 1.1: inline tables may span lines",
        ["invalid/inline-table/trailing-comma.toml"] = "TOML 1.1: inline tables may end with a comma",
        ["invalid/string/basic-byte-escapes.toml"] = "TOML 1.1: \\xHH escapes in basic strings",
    };

    [Fact]
    public void Corpus_valid_files_parse_to_expected_values_and_invalid_files_are_rejected()
    {
        var dir = TomlCorpus.Locate();
        var v10 = TomlCorpus.Files(dir, "1.0.0");
        var v11 = TomlCorpus.Files(dir, "1.1.0");
        var valid = v10.Valid.Union(v11.Valid).ToList();
        var invalid = v10.Invalid.Union(v11.Invalid).ToList();
        var failures = new List<string>();
        int validPassed = 0, invalidPassed = 0, exempted = 0;

        foreach (var file in valid)
        {
            try
            {
                var table = TomlCorpus.Parse(dir, file);
                using var json = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(dir, Path.ChangeExtension(file, ".json"))));
                if (TomlTreeAssert.CompareJson(json.RootElement, table) is { } diff)
                    failures.Add($"{file}: {diff}");
                else
                    validPassed++;
            }
            catch (Exception e)
            {
                failures.Add($"{file}: {e.GetType().Name}: {e.Message}");
            }
        }

        foreach (var file in invalid)
        {
            ValidSince11.TryGetValue(file, out var reason);
            if (reason is not null && v11.Invalid.Contains(file))
                failures.Add($"{file}: listed as valid since TOML 1.1, but the 1.1 list has it as invalid");
            try
            {
                TomlCorpus.Parse(dir, file);
                if (reason is null)
                    failures.Add($"{file}: accepted, but must be rejected");
                else
                    exempted++;
            }
            catch (TomlFileException e)
            {
                if (reason is null)
                    invalidPassed++;
                else
                    failures.Add($"{file}: rejected ({e.Message}), but {reason}");
            }
            catch (Exception e)
            {
                failures.Add($"{file}: rejected with {e.GetType().Name} instead of a settings error: {e.Message}");
            }
        }

        var summary = $"valid {validPassed}/{valid.Count}, invalid rejected {invalidPassed}/{invalid.Count - ValidSince11.Count}, " +
                      $"valid since 1.1 accepted {exempted}/{ValidSince11.Count}";
        output.WriteLine(summary);
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{summary}\n{string.Join('\n', failures)}");
    }
}
