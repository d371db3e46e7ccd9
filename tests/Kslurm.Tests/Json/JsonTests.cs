using Kslurm.Json;
using System.Diagnostics;
using System.Text;

namespace Kslurm.Tests.Json;

/// <summary>
/// JsonText (src/Common/Json/JsonText.cs) against Python's json module, which wrote the records the Python
/// kslurm left behind and writes Jupyter's kernel.json files: what Python writes we read, what we
/// write Python reads back to the same value, and malformed text is one error naming line and column.
/// </summary>
[Trait("Tier", "Unit")]
public sealed class JsonTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kslurm-json-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>Values Python serialises several ways (ASCII-escaped or not, indented or not).</summary>
    const string PythonValues = """
        [
          {"name": "venv", "path": "/project/def-lab/me/.kslurm/venv_archives/a b.tar.gz", "size": 123456789012, "ok": True, "none": None},
          {"unicode": "ünï cödé ✓ 日本", "emoji": "😀 (a surrogate pair when escaped)", "ctl": "tab\tnl\ncr\r\x01\x1f\x7f", "ls": "\u2028\u2029", "quote": "\"'\\/"},
          {"ints": [0, -1, 9007199254740993, -9223372036854775808, 9223372036854775807], "floats": [0.5, -2.5e-07, 1e+300, 3.141592653589793, 0.1]},
          {"nested": {"a": [[[]], {}, [{"b": [1, {"c": None}]}]]}, "empty": "", "dup_order": {"z": 1, "a": 2, "m": 3}},
          {"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Python (kpy: a b)", "language": "python",
           "env": {"PATH": "/a:/b", "KSLURM": "1"}, "metadata": {"debugger": True}}
        ]
        """;

    static string Python(string script, params string[] args)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"python3 failed: {e}");
        return o.Result;
    }

    [Fact]
    public void What_python_writes_we_read_and_what_we_write_python_reads_back_the_same()
    {
        // 1. Python writes each value four ways
        Python("""
            import json, sys, os
            values = eval(sys.argv[2], {"True": True, "False": False, "None": None})
            for i, v in enumerate(values):
                for name, kw in {"ascii": {}, "utf8": {"ensure_ascii": False}, "indent": {"indent": 1},
                                 "compact": {"separators": (",", ":"), "ensure_ascii": False}}.items():
                    with open(os.path.join(sys.argv[1], f"py-{i}-{name}.json"), "w", encoding="utf-8") as f:
                        json.dump(v, f, **kw)
            """, _dir, PythonValues);
        var written = Directory.GetFiles(_dir, "py-*.json");
        Assert.Equal(20, written.Length);

        // 2. we read each and write it back, indented and compact
        foreach (var f in written)
        {
            var value = JsonText.Parse(File.ReadAllBytes(f), f);
            File.WriteAllText(f.Replace("py-", "ours-indented-"), JsonText.Write(value), new UTF8Encoding(false));
            File.WriteAllText(f.Replace("py-", "ours-compact-"), JsonText.Write(value, indented: false), new UTF8Encoding(false));
        }

        // 3. Python compares: same value (keys in the same order, too), and our text is strict JSON
        var report = Python("""
            import json, sys, glob, os
            bad = []
            def strict(text):
                return json.loads(text, parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
            for ours in sorted(glob.glob(os.path.join(sys.argv[1], "ours-*.json"))):
                orig = os.path.join(sys.argv[1], "py-" + os.path.basename(ours).split("-", 2)[2])
                a = json.load(open(orig, encoding="utf-8"))
                b = strict(open(ours, encoding="utf-8").read())
                if a != b or json.dumps(a) != json.dumps(b):
                    bad.append(f"{os.path.basename(ours)}: {json.dumps(b)[:200]} != {json.dumps(a)[:200]}")
            print("\n".join(bad) if bad else "same")
            """, _dir);
        Assert.Equal("same", report.Trim());
    }

    [Fact]
    public void Values_come_back_as_the_documented_types()
    {
        var o = Assert.IsType<JsonObject>(JsonText.Parse("""{"s": "x", "i": 42, "big": 9223372036854775808, "d": 1.5, "e": 1E2, "t": true, "n": null, "a": [1]}"""));
        Assert.Equal("x", o.String("s"));
        Assert.Equal(42L, o.Long("i"));
        Assert.IsType<double>(o["big"]); // beyond long: a double, never an overflow
        Assert.Equal(1.5, o["d"]);
        Assert.Equal(100.0, o["e"]);
        Assert.Equal(true, o["t"]);
        Assert.True(o.ContainsKey("n") && o["n"] is null);
        Assert.Equal([1L], o.Array("a")!);
        Assert.Equal(["s", "i", "big", "d", "e", "t", "n", "a"], o.Select(kv => kv.Key)); // insertion order kept
    }

    [Fact]
    public void A_repeated_key_keeps_its_first_place_and_last_value()
    {
        var o = (JsonObject)JsonText.Parse("""{"a": 1, "b": 2, "a": 3}""")!;
        Assert.Equal(["a", "b"], o.Select(kv => kv.Key));
        Assert.Equal(3L, o.Long("a")); // as Python's json.loads
    }

    [Fact]
    public void Escapes_decode_including_surrogate_pairs()
    {
        Assert.Equal("😀 é \" \\ / \b\f\n\r\t", JsonText.Parse("\"\\ud83d\\ude00 \\u00e9 \\\" \\\\ \\/ \\b\\f\\n\\r\\t\""));
        Assert.Equal("\"\\u0001\\u007f\\u2028 ü\\n\"", JsonText.Quote("\u0001\u007f\u2028 ü\n"));
    }

    [Theory]
    [InlineData("", "json:1:1: unexpected end")]
    [InlineData("{\"a\": 1,}", "json:1:9: expected a string key")]
    [InlineData("[1, 2,]", "json:1:7: unexpected ']'")]
    [InlineData("{'a': 1}", "json:1:2: expected a string key")]
    [InlineData("[01]", "json:1:3: expected ']', found '1'")]
    [InlineData("[1.]", "json:1:4: bad number")]
    [InlineData("[.5]", "json:1:2: unexpected '.'")]
    [InlineData("-", "json:1:2: bad number")]
    [InlineData("NaN", "json:1:1: unexpected 'N'")]
    [InlineData("[Infinity]", "json:1:2: unexpected 'I'")]
    [InlineData("tru", "json:1:1: unexpected 't'")]
    [InlineData("\"a\tb\"", "json:1:3: control character in a string")]
    [InlineData("\"\\x41\"", "json:1:2: bad escape '\\x'")]
    [InlineData("\"\\u12\"", "json:1:2: bad \\u escape")]
    [InlineData("\"open", "json:1:6: unterminated string")]
    [InlineData("{\"a\": 1} {", "json:1:10: unexpected text after the value")]
    [InlineData("// comment\n{}", "json:1:1: unexpected '/'")]
    [InlineData("{\n  \"a\": [1,\n        2\n  }\n}", "json:4:3: expected ']', found '}'")]
    public void Malformed_text_is_one_error_with_line_and_column(string text, string message)
    {
        var e = Assert.Throws<JsonException>(() => JsonText.Parse(text));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Errors_name_the_source_and_bad_utf8_is_refused()
    {
        Assert.Equal("kernel.json:1:2: expected a string key", Assert.Throws<JsonException>(() => JsonText.Parse("{1}", "kernel.json")).Message);
        Assert.Equal("state.json: not valid UTF-8",
            Assert.Throws<JsonException>(() => JsonText.Parse((ReadOnlySpan<byte>)[0x22, 0xff, 0x22], "state.json")).Message);
    }

    [Fact]
    public void Deep_nesting_is_an_error_not_a_stack_overflow()
    {
        var e = Assert.Throws<JsonException>(() => JsonText.Parse(new string('[', 100_000)));
        Assert.EndsWith("nested too deeply", e.Message);
        Assert.Equal(new string('[', 200) + new string(']', 200), JsonText.Write(JsonText.Parse(new string('[', 200) + new string(']', 200)), indented: false));
    }

    [Fact]
    public void What_json_cannot_hold_is_refused_when_writing()
    {
        Assert.Throws<ArgumentException>(() => JsonText.Write(double.NaN));
        Assert.Throws<ArgumentException>(() => JsonText.Write(new { a = 1 }));
        Assert.Equal("[\n  1,\n  \"two\",\n  [\n    \"a\",\n    \"b\"\n  ]\n]", JsonText.Write(new object?[] { 1, "two", new[] { "a", "b" } }));
        Assert.Equal("{}", JsonText.Write(new JsonObject()));
    }
}
