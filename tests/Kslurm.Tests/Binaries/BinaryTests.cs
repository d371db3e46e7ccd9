using System.Text.RegularExpressions;

namespace Kslurm.Tests.Binaries;

/// <summary>Every published binary: portable (glibc 2.17, libc-only), small, and answers --help/--version.</summary>
[Trait("Tier", "Binary")]
public class BinaryTests
{
    public static TheoryData<string> Tools => new(Repo.Tools);

    [Theory, MemberData(nameof(Tools))]
    public void Needs_at_most_glibc_2_17(string tool)
    {
        using var s = new Sandbox();
        var r = s.Exec("objdump", ["-T", Repo.Tool(tool)]);
        Expect.Ok(r);
        var versions = Regex.Matches(r.Stdout, @"GLIBC_(\d+)\.(\d+)")
            .Select(m => new Version(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value)))
            .ToList();
        Assert.NotEmpty(versions);
        Assert.Equal(new Version(2, 17), versions.Max());
    }

    [Theory, MemberData(nameof(Tools))]
    public void Links_only_libc_family_libraries(string tool)
    {
        using var s = new Sandbox();
        var r = s.Exec("ldd", [Repo.Tool(tool)]);
        Expect.Ok(r);
        var allowed = new Regex(@"^(linux-vdso\.so\.1|/lib64/ld-linux-x86-64\.so\.2|ld-linux-x86-64\.so\.2|lib(c|m|dl|rt|pthread)\.so\.\d+)$");
        foreach (var line in r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var lib = line.Split(' ')[0];
            Assert.True(allowed.IsMatch(lib), $"{tool} links {lib}:\n{r.Stdout}");
        }
    }

    [Theory, MemberData(nameof(Tools))]
    public void Is_at_most_5_MB(string tool)
        => Assert.InRange(new FileInfo(Repo.Tool(tool)).Length, 1, 5_000_000); // decimal MB

    // docs/decisions.md "Start-up over size": a PIE (ELF type 3) would bring back ~200 dirty pages per start.
    [Theory, MemberData(nameof(Tools))]
    public void Is_a_fixed_address_executable(string tool)
    {
        var header = new byte[18];
        using (var f = File.OpenRead(Repo.Tool(tool))) f.ReadExactly(header);
        Assert.Equal(2, BitConverter.ToUInt16(header, 16)); // e_type ET_EXEC
    }

    [Theory, MemberData(nameof(Tools))]
    public void Help_prints_usage_and_exits_0(string tool)
    {
        using var s = new Sandbox();
        var r = s.Tool(tool, "--help");
        Expect.Ok(r);
        Assert.Contains($"usage: {tool}", r.Stdout);
        Assert.Equal("", r.Stderr);
        var shortForm = s.Tool(tool, "-h");
        Assert.Equal(r.Stdout, shortForm.Stdout);
    }

    [Theory, MemberData(nameof(Tools))]
    public void Version_matches_VERSION_file(string tool)
    {
        using var s = new Sandbox();
        var r = s.Tool(tool, "--version");
        Expect.Ok(r);
        Assert.Equal($"{tool} {Repo.Version}\n", r.Stdout);
    }

    // krun, kbatch and kjupyter hand --options to Slurm; the tools with sub-commands reject them.
    [Theory, InlineData("kpy"), InlineData("kapp"), InlineData("kslurm")]
    public void Unknown_option_is_a_one_line_usage_error(string tool)
    {
        using var s = new Sandbox();
        Expect.Error(s.Tool(tool, "--no-such-option"), tool, 2, "--no-such-option");
    }
}
