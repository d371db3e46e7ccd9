using System.Text;
using Kslurm.Json;
using Kslurm.Venv;

namespace Kslurm.Tests.Venv;

/// <summary>The venv record (.kpy.json): what a later kpy adds survives a rewrite by this one.</summary>
[Trait("Tier", "Unit")]
public class VenvMetaTests
{
    // As a person (or a later kpy) would leave it: fields this kpy does not know, one of them nested.
    const string HandEdited = """
        {
          "format": 1,
          "name": "mine",
          "python_version": "3.11.2",
          "cuda": "12.2",
          "modules": ["StdEnv/2023", "python/3.11"],
          "build": {"host": "login1", "flags": ["-O2", "-march=x86-64-v3"], "ok": true, "n": 3, "ratio": 1.5},
          "original_paths": [],
          "note": null
        }
        """;

    [Fact]
    public void Unknown_fields_of_a_hand_edited_record_survive_a_rewrite()
    {
        var dir = Directory.CreateTempSubdirectory("kpy-meta-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, VenvMeta.FileName), HandEdited);
            var meta = VenvMeta.ReadFrom(dir)!;
            Assert.Equal("mine", meta.Name);
            meta.Name = "renamed";
            meta.SavedAs = "renamed";
            meta.WriteTo(dir);

            var again = JsonText.Parse(File.ReadAllBytes(Path.Combine(dir, VenvMeta.FileName))) as JsonObject;
            Assert.NotNull(again);
            Assert.Equal("renamed", again.String("name"));
            Assert.Equal("12.2", again.String("cuda"));
            var build = again.Object("build")!;
            Assert.Equal("login1", build.String("host"));
            Assert.Equal(["-O2", "-march=x86-64-v3"], build.Array("flags")!.OfType<string>());
            Assert.Equal(true, build["ok"]);
            Assert.Equal(3L, build.Long("n"));
            Assert.Equal(1.5, build["ratio"]);
            Assert.True(again.ContainsKey("note"));
            Assert.Null(again["note"]);
            // the known fields are written as before, the unknown ones after them
            var keys = again.Select(kv => kv.Key).ToList();
            Assert.True(keys.IndexOf("cuda") > keys.IndexOf("saved_as"), string.Join(",", keys));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_record_without_unknown_fields_is_written_as_before()
    {
        var m = new VenvMeta { Name = "x", PythonVersion = "3.11.2" };
        var parsed = VenvMeta.Parse(m.ToBytes(), "test");
        Assert.Equal(Encoding.UTF8.GetString(m.ToBytes()), Encoding.UTF8.GetString(parsed.ToBytes()));
    }
}
