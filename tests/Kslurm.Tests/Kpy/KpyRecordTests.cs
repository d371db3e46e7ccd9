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
}
