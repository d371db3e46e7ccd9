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

    // build/startup-order.txt puts the methods run before a tool answers side by side (docs/decisions.md
    // "Start-up code side by side"). A method renamed since drops out of it silently, so ours must
    // still exist, and every tool's Main must be listed (CoreLib's names change only with the ILCompiler).
    [Fact]
    public void Start_up_order_names_methods_the_binaries_have()
    {
        var listed = File.ReadAllLines(Path.Combine(Repo.Root, "build", "startup-order.txt"));
        var ours = listed.Where(n => n.StartsWith("Kslurm_") || Repo.Tools.Any(t => n.StartsWith(t + "_"))).ToList();
        using var s = new Sandbox();
        var defined = new HashSet<string>();
        foreach (var tool in Repo.Tools)
        {
            var symbols = Path.Combine(Repo.Root, "src", tool, "bin", "Release", "net10.0", "linux-x64", "publish", tool + ".dbg");
            var r = s.Exec("nm", ["--defined-only", symbols]);
            Expect.Ok(r);
            defined.UnionWith(r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split(' ')[^1]));
            Assert.Contains($"{tool}_Program___Main__", listed);
        }
        var missing = ours.Where(n => !defined.Contains(n)).ToList();
        Assert.True(missing.Count == 0,
            $"build/startup-order.txt names {missing.Count} methods no binary has ({string.Join(", ", missing.Take(3))}): run build/startup-order.sh after ./build.sh publish");
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
