using Kslurm;

namespace Kslurm.Tests.Toml;

public sealed class TomlWriterTests
{
    [Fact]
    public void Small_config_is_written_like_a_hand_written_file()
    {
        var config = new TomlTable
        {
            ["pipdir"] = "/project/x",
            ["account"] = new TomlTable { ["cpu"] = "def-lab", ["gpu"] = "def-lab_gpu" },
        };
        Assert.Equal("""
            pipdir = "/project/x"

            [account]
            cpu = "def-lab"
            gpu = "def-lab_gpu"

            """, Kslurm.Toml.Write(config));
    }

    [Fact]
    public void Scalars_come_first_then_sections_in_insertion_order()
    {
        var t = new TomlTable
        {
            ["title"] = "Say \"hi\"\n\tbye \\ \u0001",
            ["server"] = new TomlTable { ["ports"] = new TomlArray { 8000L, 8001L } },
            ["count"] = 3, // int is stored as long
            ["ratio"] = 2.0,
            ["big"] = 1e300,
            ["when"] = TomlDateTime.Parse("1979-05-27 07:32:00.500-07:00"),
            ["tags"] = new TomlArray { "a", 1L, new TomlTable { ["x"] = 1L }, new TomlArray() },
            ["odd key"] = true,
            [""] = double.NegativeInfinity,
            ["jobs"] = new TomlArray
            {
                new TomlTable { ["name"] = "a" },
                new TomlTable { ["name"] = "b", ["opts"] = new TomlTable { ["mem"] = "4G" } },
            },
            ["outer"] = new TomlTable { ["inner"] = new TomlTable { ["k"] = "v" } },
            ["empty"] = new TomlTable(),
            ["ünï"] = new TomlTable { ["a.b"] = "dotted name" },
        };
        string written = Kslurm.Toml.Write(t);
        Assert.Equal("""
            title = "Say \"hi\"\n\tbye \\ \u0001"
            count = 3
            ratio = 2.0
            big = 1e+300
            when = 1979-05-27T07:32:00.500-07:00
            tags = ["a", 1, { x = 1 }, []]
            "odd key" = true
            "" = -inf

            [server]
            ports = [8000, 8001]

            [[jobs]]
            name = "a"

            [[jobs]]
            name = "b"

            [jobs.opts]
            mem = "4G"

            [outer.inner]
            k = "v"

            [empty]

            ["ünï"]
            "a.b" = "dotted name"

            """, written);
        Assert.Null(TomlTreeAssert.CompareTrees(t, Kslurm.Toml.Parse(written)));
    }

    [Fact]
    public void Floats_always_read_back_as_floats()
    {
        var t = new TomlTable { ["a"] = 1.0, ["b"] = -0.0, ["c"] = 1e-7, ["d"] = double.NaN, ["e"] = 0.1 };
        Assert.Equal("a = 1.0\nb = -0.0\nc = 1e-07\nd = nan\ne = 0.1\n", Kslurm.Toml.Write(t));
    }

    [Fact]
    public void Unwritable_trees_are_refused()
    {
        Assert.Throws<ArgumentException>(() => new TomlTable { ["m"] = 1.5m });
        Assert.Throws<ArgumentException>(() => Kslurm.Toml.Write(new TomlTable { ["s"] = "\uDC00" }));
        var cyclic = new TomlTable();
        cyclic["self"] = cyclic;
        Assert.Throws<ArgumentException>(() => Kslurm.Toml.Write(cyclic));
    }
}
