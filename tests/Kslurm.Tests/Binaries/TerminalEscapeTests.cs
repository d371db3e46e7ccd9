namespace Kslurm.Tests.Binaries;

/// <summary>
/// Text we did not write never reaches a terminal raw: a record planted in a shared pipdir, or a
/// reference typed (or pasted) with escapes, cannot clear, retitle or recolour a user's terminal.
/// Control characters come out as visible \xHH escapes.
/// </summary>
[Trait("Tier", "Binary")]
public class TerminalEscapeTests
{
    static readonly char[] Raw = ['\e', '\a', '\u009b', '\u202e'];

    static void NoRawControls(string text)
    {
        foreach (var c in Raw)
            Assert.DoesNotContain(c.ToString(), text);
    }

    /// <summary>
    /// A kpy archive built the way kpy writes one (tar + zstd, the record `.kpy.json` first), by
    /// Python's tarfile and the zstd program, with escapes in every text field of the record.
    /// </summary>
    static void PlantArchive(string archives, string name)
    {
        Directory.CreateDirectory(archives);
        var tar = Path.Combine(archives, name + ".tar");
        using var s = new Sandbox();
        var py = s.Exec("python3", ["-c", """
            import io, json, sys, tarfile
            record = {"format": 1, "name": "evil",
                      "python_version": "3.11\x1b]0;pwned\x07\x1b[2J",
                      "base_interpreter": "/usr/bin/python3\x1b[31m",
                      "modules": ["gcc/12\x1b[2J", "\u202eevil", "csi\x9b2J"],
                      "created": "2026-01-01T00:00:00Z", "saved": "2026-01-02T00:00:00Z",
                      "original_paths": ["/tmp/evil\x07"], "files": 2, "kpy_version": "\x1b[5mblink"}
            data = json.dumps(record).encode()
            with tarfile.open(sys.argv[1], "w", format=tarfile.PAX_FORMAT) as t:
                info = tarfile.TarInfo(".kpy.json"); info.size = len(data); info.mode = 0o644
                t.addfile(info, io.BytesIO(data))
                d = tarfile.TarInfo("bin"); d.type = tarfile.DIRTYPE; d.mode = 0o755
                t.addfile(d)
            """, tar]);
        Expect.Ok(py);
        Expect.Ok(s.Exec("zstd", ["-q", "--rm", tar, "-o", tar + ".zst"]));
    }

    [Fact]
    public void Kpy_list_and_info_escape_what_a_planted_record_says()
    {
        using var s = new Sandbox();
        var pipdir = Path.Combine(s.Dir, "pipdir");
        Expect.Ok(s.Tool("kslurm", "config", "pipdir", pipdir));
        PlantArchive(Path.Combine(pipdir, "venv_archives"), "evil");

        var list = s.Tool("kpy", "list");
        Expect.Ok(list);
        NoRawControls(list.Stdout + list.Stderr);
        Assert.Contains(@"3.11\x1b]0;pwned\x07\x1b[2J", list.Stdout);
        Assert.Contains(@"gcc/12\x1b[2J \u202eevil csi\x9b2J", list.Stdout);
        Assert.Equal(2, list.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length); // header + one row

        var info = s.Tool("kpy", "info", "evil");
        Expect.Ok(info);
        NoRawControls(info.Stdout + info.Stderr);
        Assert.Contains(@"python:      3.11\x1b]0;pwned\x07\x1b[2J", info.Stdout);
        Assert.Contains(@"interpreter: /usr/bin/python3\x1b[31m", info.Stdout);
        Assert.Contains(@"saved from:  /tmp/evil\x07", info.Stdout);
        Assert.Contains(@"kpy:         \x1b[5mblink", info.Stdout);
    }

    [Theory]
    [InlineData("path", "\e[2Jx")]
    [InlineData("pull", "ubuntu:\e]0;title\a1")]
    [InlineData("run", "a\e[31m")]
    [InlineData("image", "rm", "x\u009b2J")]
    public void Kapp_errors_escape_a_typed_reference(params string[] args)
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "pipdir", Path.Combine(s.Dir, "pipdir")));
        var r = s.Tool("kapp", args);
        Assert.NotEqual(0, r.Code);
        Assert.Contains("kapp: error: ", r.Stderr);
        NoRawControls(r.Stdout + r.Stderr);
        Assert.Matches(@"\\x(1b|07|9b)", r.Stderr);
    }
}
