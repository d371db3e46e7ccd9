using System.Buffers.Binary;
using System.Text.Json;
using Kslurm.Venv;

namespace Kslurm.Tests.Kpy;

/// <summary>A venv's record through save and load, as kpy and a person leave it.</summary>
[Trait("Tier", "Binary")]
public class KpyRecordTests
{
    [Fact]
    public void A_field_added_by_hand_travels_through_save_and_load()
    {
        using var k = new KpySandbox();
        var dir = k.CreateDemo("rec", save: false);
        var record = Path.Combine(dir, ".kpy.json");
        // what a later kpy (or a person) adds: insert a field before the closing brace
        var text = File.ReadAllText(record).TrimEnd();
        Assert.EndsWith("}", text);
        File.WriteAllText(record, text[..^1].TrimEnd() + ",\n  \"gpu_arch\": \"sm_80\"\n}\n");

        Expect.Ok(k.Bash("kpy activate rec 2>/dev/null; kpy save rec"));
        Assert.Contains("\"gpu_arch\": \"sm_80\"", File.ReadAllText(record)); // the live record, rewritten by save
        Expect.Ok(k.Bash("kpy load rec --as copy >/dev/null"));
        Assert.Contains("\"gpu_arch\": \"sm_80\"", File.ReadAllText(Path.Combine(k.LiveRoot, "copy", ".kpy.json")));
    }

    [Fact]
    public void Info_shows_the_count_from_the_record_of_an_archive_saved_before_the_trailer()
    {
        using var k = new KpySandbox();
        // what kpy 0.7.0 wrote: the count in the record, no trailer
        var src = Path.Combine(k.S.Dir, "old");
        Directory.CreateDirectory(Path.Combine(src, "bin"));
        File.WriteAllText(Path.Combine(src, "pyvenv.cfg"), "home = /usr/bin\nversion = 3.11.2\n");
        File.WriteAllText(Path.Combine(src, ".kpy.json"),
            "{\"format\": 1, \"name\": \"old\", \"python_version\": \"3.11.2\", \"files\": 4, \"original_paths\": [\"/tmp/old\"]}\n");
        Directory.CreateDirectory(k.Archives);
        Expect.Ok(k.S.Exec("tar", ["--zstd", "-cf", Path.Combine(k.Archives, "old.tar.zst"), "-C", src, ".kpy.json", "pyvenv.cfg", "bin"]));
        var info = k.Kpy("info", "old");
        Expect.Ok(info);
        Assert.Contains("files:       4\n", info.Stdout);
    }

    // The content size a zstd frame header declares (kpy's frames always declare it).
    static long FirstFrameContentSize(byte[] a)
    {
        Assert.Equal(0xFD2FB528u, BinaryPrimitives.ReadUInt32LittleEndian(a));
        var fhd = a[4];
        int fcsFlag = fhd >> 6, single = (fhd >> 5) & 1, dict = fhd & 3;
        var at = 5 + (single == 1 ? 0 : 1) + dict switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 };
        return fcsFlag switch
        {
            0 => single == 1 ? a[at] : -1,
            1 => BinaryPrimitives.ReadUInt16LittleEndian(a.AsSpan(at)) + 256,
            2 => BinaryPrimitives.ReadUInt32LittleEndian(a.AsSpan(at)),
            _ => (long)BinaryPrimitives.ReadUInt64LittleEndian(a.AsSpan(at)),
        };
    }

    [Fact]
    public void The_trailer_counts_every_entry_of_the_archive_the_record_fingerprints_the_installed_packages_and_has_a_frame_of_its_own()
    {
        using var k = new KpySandbox();
        var dir = k.CreateDemo("cnt", save: false);
        // links of every kind, an empty folder, a symlinked folder (not followed), no live record
        Directory.CreateDirectory(Path.Combine(dir, "share", "empty"));
        File.CreateSymbolicLink(Path.Combine(dir, "share", "to-bin"), Path.Combine(dir, "bin"));
        File.CreateSymbolicLink(Path.Combine(dir, "share", "dangling"), "/nonexistent/x");
        File.CreateSymbolicLink(Path.Combine(dir, "share", "cfg"), "../pyvenv.cfg");
        Expect.Ok(k.S.Exec("ln", [Path.Combine(dir, "pyvenv.cfg"), Path.Combine(dir, "share", "hard.cfg")]));
        File.Delete(Path.Combine(dir, ".kpy.json"));

        Expect.Ok(k.S.Exec(Repo.Tool("kpy"), ["save", "cnt"], extraEnv: new Dictionary<string, string?> { ["VIRTUAL_ENV"] = dir }));
        var archive = Path.Combine(k.Archives, "cnt.tar.zst");
        var listed = k.S.Exec("tar", ["--zstd", "-tf", archive]);
        Expect.Ok(listed);
        var entries = listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var shown = k.S.Exec("tar", ["--zstd", "-xOf", archive, ".kpy.json"]);
        Expect.Ok(shown);
        using var meta = JsonDocument.Parse(shown.Stdout);
        Assert.False(meta.RootElement.TryGetProperty("files", out _)); // counted while writing: see below
        Assert.Equal(VenvState.Fingerprint(dir), meta.RootElement.GetProperty("saved_state").GetString());
        Assert.Contains(k.Kpy("info", "cnt").Stdout.Split('\n'), l => l.StartsWith("files:") && l.EndsWith($" {entries.Length}"));
        // The count is the archive's last 24 bytes, a zstd skippable frame (tar --zstd read past it above).
        var tail = File.ReadAllBytes(archive)[^24..];
        Assert.Equal(0x184D2A5Eu, BinaryPrimitives.ReadUInt32LittleEndian(tail));
        Assert.Equal(16u, BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(4)));
        Assert.Equal(entries.Length, BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(16)));

        // The record alone in the first frame: listing and loading decode a few hundred bytes of it.
        var recordBytes = System.Text.Encoding.UTF8.GetByteCount(shown.Stdout);
        Assert.Equal(512 + (recordBytes + 511) / 512 * 512, FirstFrameContentSize(File.ReadAllBytes(archive)));

        Expect.Ok(k.Bash("kpy load cnt --as copy >/dev/null"));
        var copy = Path.Combine(k.LiveRoot, "copy");
        using var live = JsonDocument.Parse(File.ReadAllText(Path.Combine(copy, ".kpy.json")));
        Assert.Equal("copy", live.RootElement.GetProperty("name").GetString());
        Assert.Equal(VenvState.Fingerprint(copy), live.RootElement.GetProperty("saved_state").GetString());
    }
}
