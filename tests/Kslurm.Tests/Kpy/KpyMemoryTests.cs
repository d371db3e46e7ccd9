using System.Text;
using Kslurm.Shell;

namespace Kslurm.Tests.Kpy;

/// <summary>Login nodes cap memory per user: save and load stay under 100 MB whatever the venv holds.</summary>
[Trait("Tier", "Binary")]
public class KpyMemoryTests
{
    const long LimitKb = 100 * 1024;

    // Runs kpy under /usr/bin/time; returns the peak RSS in KB.
    static long PeakKb(KpySandbox k, IDictionary<string, string?>? env, params string[] args)
    {
        var report = Path.Combine(k.S.Dir, "rss");
        var r = k.S.Exec("/usr/bin/time", ["-f", "%M", "-o", report, Repo.Tool("kpy"), .. args], extraEnv: env);
        Expect.Ok(r);
        return long.Parse(File.ReadAllText(report).Trim());
    }

    [Fact]
    public void Saving_and_loading_large_files_stays_under_100_MB_and_large_text_files_are_still_relocated()
    {
        using var k = new KpySandbox();
        var venv = k.CreateDemo("heavy", save: false);
        var site = Directory.GetDirectories(Path.Combine(venv, "lib"), "python3*")[0] + "/site-packages/heavy";
        Directory.CreateDirectory(site);
        var random = new Random(15);
        var blob = new byte[40 << 20];
        for (var i = 0; i < 3; i++)
        {
            random.NextBytes(blob); // incompressible: the compressor gets no help
            File.WriteAllBytes(Path.Combine(site, $"_blob{i}.so"), blob);
        }
        // A text file above the in-memory limit (2 MiB) that names the venv's folder: relocated on load.
        var line = $"{venv}/bin/python\n";
        var text = new StringBuilder(line);
        while (text.Length < 6 << 20)
            text.Append("# padding padding padding padding padding padding padding padding padding\n");
        text.Append(line);
        File.WriteAllText(Path.Combine(site, "paths.txt"), text.ToString());

        var save = PeakKb(k, new Dictionary<string, string?> { ["VIRTUAL_ENV"] = venv }, "save", "heavy");
        Assert.True(save < LimitKb, $"kpy save peaked at {save / 1024} MB");
        var load = PeakKb(k, null, "load", "heavy", "--as", "copy");
        Assert.True(load < LimitKb, $"kpy load peaked at {load / 1024} MB");

        var copy = Path.Combine(k.LiveRoot, "copy");
        var copySite = Directory.GetDirectories(Path.Combine(copy, "lib"), "python3*")[0] + "/site-packages/heavy";
        for (var i = 0; i < 3; i++)
            Assert.True(File.ReadAllBytes(Path.Combine(site, $"_blob{i}.so")).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(copySite, $"_blob{i}.so"))));
        var moved = File.ReadAllText(Path.Combine(copySite, "paths.txt"));
        Assert.StartsWith($"{copy}/bin/python\n", moved);
        Assert.EndsWith($"{copy}/bin/python\n", moved);
        Assert.DoesNotContain(venv + "/", moved);
        Expect.Ok(k.S.Exec("bash", ["-c", $"{ShellQuote.Quote(copy)}/bin/python -c 'import kslurmdemo'"]));
    }

    // A text file of this size that names the venv's folder, with the folder at its start, in
    // its middle and at its end.
    static string WriteBigText(string path, string venv, int size)
    {
        var line = $"{venv}/bin/python\n";
        var text = new StringBuilder(line);
        while (text.Length < size / 2)
            text.Append("# padding padding padding padding padding padding padding padding padding\n");
        text.Append($"'{venv}/lib' and file://{venv}/src\n");
        while (text.Length < size)
            text.Append("# padding padding padding padding padding padding padding padding padding\n");
        text.Append(line);
        File.WriteAllText(path, text.ToString());
        return text.ToString();
    }

    [Fact]
    public void A_30_MB_text_file_is_relocated_in_bounded_memory_when_saving_under_a_new_name_and_when_loading()
    {
        using var k = new KpySandbox();
        var venv = k.CreateDemo("heavy", save: false);
        var rel = Path.GetRelativePath(venv, Directory.GetDirectories(Path.Combine(venv, "lib"), "python3*")[0]) + "/site-packages/heavy";
        Directory.CreateDirectory(Path.Combine(venv, rel));
        var original = WriteBigText(Path.Combine(venv, rel, "paths.txt"), venv, 32 << 20);
        WriteBigText(Path.Combine(venv, rel, "paths.py"), venv, 24 << 20);

        // Saving under another name moves the folder on this node and rewrites it in place.
        var save = PeakKb(k, new Dictionary<string, string?> { ["VIRTUAL_ENV"] = venv }, "save", "renamed");
        Assert.True(save < LimitKb, $"kpy save (rename) peaked at {save / 1024} MB");
        var renamed = Path.Combine(k.LiveRoot, "renamed");
        Assert.False(Directory.Exists(venv));
        Assert.Equal(original.Replace(venv + "/", renamed + "/"), File.ReadAllText(Path.Combine(renamed, rel, "paths.txt")));

        var load = PeakKb(k, null, "load", "renamed", "--as", "copy");
        Assert.True(load < LimitKb, $"kpy load peaked at {load / 1024} MB");
        var copy = Path.Combine(k.LiveRoot, "copy");
        Assert.Equal(original.Replace(venv + "/", copy + "/"), File.ReadAllText(Path.Combine(copy, rel, "paths.txt")));
        var py = File.ReadAllText(Path.Combine(copy, rel, "paths.py"));
        Assert.StartsWith($"{copy}/bin/python\n", py);
        Assert.DoesNotContain(renamed + "/", py);
        Assert.DoesNotContain(venv + "/", py);
        Expect.Ok(k.S.Exec("bash", ["-c", $"{ShellQuote.Quote(copy)}/bin/python -c 'import kslurmdemo'"]));
    }
}
