using System.Text.RegularExpressions;
using static Kslurm.Tests.Venv.VenvLab;
using Kslurm.Venv;

namespace Kslurm.Tests.Venv;

/// <summary>
/// Archives saved by the Python kslurm carry no metadata, and its rebase was partial: after a load,
/// bin/activate (quoted VIRTUAL_ENV line) and plain python shebangs name the load path, while
/// activate.csh/.fish and pip's trampolines still name the creation path. Both must go.
/// </summary>
[Trait("Tier", "Unit")]
public class VenvOldArchiveTests
{
    [Fact]
    public void Mixed_old_paths_of_a_python_kslurm_archive_are_all_found_and_replaced()
    {
        using var lab = new VenvLab();
        var p1 = Path.Combine(lab.Dir, string.Concat(Enumerable.Repeat("created-here-", 10)), "venv"); // long: pip trampolines
        var p2 = Path.Combine(lab.Dir, "loaded", "venv");
        var p3 = Path.Combine(lab.Dir, "now here", "venv");
        lab.Create(Creator.Virtualenv, p1);
        File.WriteAllText(Path.Combine(p1, "bin", "tool"), $"#!{p1}/bin/python\nimport sys\nprint(sys.prefix)\n");
        File.SetUnixFileMode(Path.Combine(p1, "bin", "tool"), (UnixFileMode)0b111_101_101);

        // what the Python kslurm's load did at p2 (§3.6 of the behaviour notes)
        Directory.CreateDirectory(Path.GetDirectoryName(p2)!);
        lab.RunOk("/bin/cp", "-a", p1, p2);
        var activate = Path.Combine(p2, "bin", "activate");
        File.WriteAllText(activate, Regex.Replace(File.ReadAllText(activate), "^VIRTUAL_ENV='[^']*'$", $"VIRTUAL_ENV='{p2}'", RegexOptions.Multiline));
        foreach (var f in Directory.GetFiles(Path.Combine(p2, "bin")))
        {
            var info = new FileInfo(f);
            if (info.LinkTarget is not null || (info.UnixFileMode & UnixFileMode.UserExecute) == 0)
                continue;
            var text = File.ReadAllText(f);
            if (Regex.IsMatch(text, "^#!/\\S*python"))
                File.WriteAllText(f, Regex.Replace(text, "^#!/\\S*", $"#!{p2}/bin/python"));
        }
        Directory.Delete(p1, recursive: true);

        // saved (tar of p2), extracted at p3 on another node
        Directory.CreateDirectory(Path.GetDirectoryName(p3)!);
        lab.RunOk("/bin/cp", "-a", p2, p3);
        Directory.Delete(p2, recursive: true);

        var olds = VenvRelocation.GuessOldPaths(p3);
        Assert.Equal([p2, p1], olds);
        Assert.Equal(p2, VenvRelocation.GuessOldPath(p3));
        VenvRelocation.RelocateInPlace(p3, new VenvRelocation(olds, p3));

        Assert.Empty(TextFilesMentioning(p3, p1));
        Assert.Empty(TextFilesMentioning(p3, p2));
        Assert.Equal(p3 + "\n", lab.RunOk(Path.Combine(p3, "bin", "tool")).Stdout);
        Assert.Contains($"from {p3}/lib/", lab.RunOk(Path.Combine(p3, "bin", "pip"), "--version").Stdout);
        Assert.Contains("VE=" + p3, lab.Bash($"source {Q(p3 + "/bin/activate")}; echo \"VE=$VIRTUAL_ENV\"").Stdout);
        if (Which("fish") is { } fish)
            Assert.Contains("VE=" + p3, lab.Box.Exec(fish, ["--no-config", "-c", $"source {Q(p3 + "/bin/activate.fish")}; echo \"VE=$VIRTUAL_ENV\""]).Stdout);
        if (Which("tcsh") is { } tcsh)
            Assert.Contains("VE=" + p3, lab.Box.Exec(tcsh, ["-f", "-c", $"source {Q(p3 + "/bin/activate.csh")}\necho \"VE=$VIRTUAL_ENV\""]).Stdout);
    }
}
