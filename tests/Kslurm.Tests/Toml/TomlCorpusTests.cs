using System.Text;
using System.Text.Json;
using Kslurm;
using Xunit.Abstractions;

namespace Kslurm.Tests.Toml;

/// <summary>The official toml-test corpus, TOML 1.0 subset: every listed file must behave.</summary>
public sealed class TomlCorpusTests(ITestOutputHelper output)
{
    [Fact]
    public void Corpus_valid_files_parse_to_expected_json_and_invalid_files_are_rejected()
    {
        var (dir, valid, invalid) = TomlCorpus.Files();
        var failures = new List<string>();
        int validPassed = 0, invalidPassed = 0;

        foreach (var file in valid)
        {
            try
            {
                var table = TomlCorpus.Parse(dir, file);
                var jsonPath = Path.Combine(dir, Path.ChangeExtension(file, ".json"));
                using var json = JsonDocument.Parse(File.ReadAllBytes(jsonPath));
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
            try
            {
                TomlCorpus.Parse(dir, file);
                failures.Add($"{file}: accepted, but must be rejected");
            }
            catch (TomlException)
            {
                invalidPassed++;
            }
            catch (Exception e)
            {
                failures.Add($"{file}: rejected with {e.GetType().Name} instead of TomlException: {e.Message}");
            }
        }

        var summary = $"valid {validPassed}/{valid.Count}, invalid {invalidPassed}/{invalid.Count}; " +
                      $"passed {validPassed + invalidPassed} of {valid.Count + invalid.Count}";
        output.WriteLine(summary);
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{summary}\n{string.Join('\n', failures)}");
    }

    [Fact]
    public void Corpus_valid_files_survive_a_write_and_parse_round_trip()
    {
        var (dir, valid, _) = TomlCorpus.Files();
        var failures = new List<string>();
        foreach (var file in valid)
        {
            string written = "";
            try
            {
                var original = TomlCorpus.Parse(dir, file);
                written = Kslurm.Toml.Write(original);
                var reread = Kslurm.Toml.Parse(written, file + " (rewritten)");
                if (TomlTreeAssert.CompareTrees(original, reread) is { } diff)
                    failures.Add($"{file}: {diff}\n{Indent(written)}");
                // Deterministic: writing the re-read tree gives the very same text.
                else if (Kslurm.Toml.Write(reread) != written)
                    failures.Add($"{file}: second write differs from the first\n{Indent(written)}");
            }
            catch (Exception e)
            {
                failures.Add($"{file}: {e.GetType().Name}: {e.Message}\n{Indent(written)}");
            }
        }
        var summary = $"round trip: passed {valid.Count - failures.Count} of {valid.Count}";
        output.WriteLine(summary);
        foreach (var f in failures) output.WriteLine(f);
        Assert.True(failures.Count == 0, $"{summary}\n{string.Join('\n', failures)}");
    }

    static string Indent(string text) =>
        new StringBuilder().AppendJoin('\n', text.Split('\n').Select(l => "    | " + l)).ToString();
}
