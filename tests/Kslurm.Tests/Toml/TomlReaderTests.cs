using System.Text;
using Kslurm;

namespace Kslurm.Tests.Toml;

public sealed class TomlReaderTests
{
    [Fact]
    public void Missing_equals_reports_source_line_and_column()
    {
        var e = Assert.Throws<TomlException>(() =>
            Kslurm.Toml.Parse("pipdir = \"/x\"\n\n[account]\ncpu \"def-lab\"\n", "config.toml"));
        Assert.Equal(4, e.Line);
        Assert.Equal(5, e.Column);
        Assert.Equal("config.toml", e.SourceName);
        Assert.Equal("expected '=' after key \"cpu\", found '\"'", e.Reason);
        Assert.Equal("config.toml:4:5: expected '=' after key \"cpu\", found '\"'", e.Message);
    }

    [Fact]
    public void Duplicate_key_points_at_the_second_definition()
    {
        var e = Assert.Throws<TomlException>(() => Kslurm.Toml.Parse("a = 1\nb = 2\n  a = 3\n"));
        Assert.Equal((3, 3), (e.Line, e.Column));
        Assert.Equal("3:3: duplicate key \"a\"", e.Message);
    }

    [Fact]
    public void Table_redefinition_points_at_the_key_in_the_header()
    {
        var e = Assert.Throws<TomlException>(() => Kslurm.Toml.Parse("[a.b]\nc = 1\n[a]\n[a.b]\n"));
        Assert.Equal((4, 4), (e.Line, e.Column));
        Assert.Contains("table \"a.b\" is already defined", e.Message);
    }

    [Fact]
    public void Columns_count_code_points_not_utf16_units()
    {
        // "😀" is two UTF-16 units but one column.
        var e = Assert.Throws<TomlException>(() => Kslurm.Toml.Parse("s = \"😀\" x"));
        Assert.Equal((1, 9), (e.Line, e.Column));
    }

    [Fact]
    public void Invalid_utf8_is_rejected_with_its_position()
    {
        var bytes = Encoding.UTF8.GetBytes("a = 1\nb = \"x?\"\n");
        bytes[Array.IndexOf(bytes, (byte)'?')] = 0xC3; // a lead byte with no continuation
        var e = Assert.Throws<TomlException>(() => Kslurm.Toml.Parse(bytes, "bad.toml"));
        Assert.Equal("bad.toml:2:7: invalid UTF-8 byte 0xC3", e.Message);
    }

    [Fact]
    public void Bytes_with_one_bom_parse_but_two_boms_do_not()
    {
        var one = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(Encoding.UTF8.GetBytes("a = 1\n")).ToArray();
        Assert.Equal(1L, Kslurm.Toml.Parse(one)["a"]);
        var two = new byte[] { 0xEF, 0xBB, 0xBF }.Concat(one).ToArray();
        Assert.Throws<TomlException>(() => Kslurm.Toml.Parse(two));
    }

    [Theory]
    [InlineData("a = 9223372036854775808")]          // integer overflow
    [InlineData("a = 0xFFFFFFFFFFFFFFFF")]
    [InlineData("a = \"\\UFFFFFFFF\"")]
    [InlineData("a = 1979-02-29")]
    [InlineData("a = {b = 1,}")]
    [InlineData("a = [1 2]")]
    public void Bad_input_always_throws_TomlException(string text) =>
        Assert.Throws<TomlException>(() => Kslurm.Toml.Parse(text));

    [Fact]
    public void Lone_surrogate_in_a_string_is_rejected()
    {
        // Built at run time: attribute data cannot carry a lone surrogate.
        var e = Assert.Throws<TomlException>(() => Kslurm.Toml.Parse("s = \"" + (char)0xD800 + "\""));
        Assert.Equal((1, 6), (e.Line, e.Column));
    }

    [Fact]
    public void Deep_nesting_fails_cleanly_instead_of_overflowing_the_stack()
    {
        var e = Assert.Throws<TomlException>(() => Kslurm.Toml.Parse("a = " + new string('[', 100_000)));
        Assert.Contains("nested deeper", e.Message);
    }

    [Fact]
    public void Values_get_their_dotnet_types_and_keys_keep_document_order()
    {
        var t = Kslurm.Toml.Parse("""
            zeta = "z"
            int = 0xff
            float = 6.5e-1
            bool = false
            odt = 1979-05-27 07:32:00.999999-07:00
            ldt = 1979-05-27T07:32:00
            ld = 1979-05-27
            lt = 00:32:00.50
            arr = [1, "two", 3.0]
            alpha.beta = 1
            """);
        Assert.Equal(["zeta", "int", "float", "bool", "odt", "ldt", "ld", "lt", "arr", "alpha"], t.Keys.ToArray());
        Assert.Equal("z", t["zeta"]);
        Assert.Equal(255L, t["int"]);
        Assert.Equal(0.65, t["float"]);
        Assert.Equal(false, t["bool"]);
        var odt = Assert.IsType<TomlDateTime>(t["odt"]);
        Assert.Equal(TomlDateTimeKind.OffsetDateTime, odt.Kind);
        Assert.Equal("1979-05-27T07:32:00.999999-07:00", odt.ToString());
        Assert.Equal(new DateTimeOffset(1979, 5, 27, 7, 32, 0, TimeSpan.FromHours(-7)).AddTicks(9_999_990), odt.ToDateTimeOffset());
        Assert.Equal(TomlDateTimeKind.LocalDateTime, ((TomlDateTime)t["ldt"]).Kind);
        Assert.Equal(new DateOnly(1979, 5, 27), ((TomlDateTime)t["ld"]).ToDateOnly());
        var lt = (TomlDateTime)t["lt"];
        Assert.Equal("00:32:00.50", lt.ToString());   // fraction kept as written
        Assert.Equal(new TimeOnly(0, 32, 0, 500), lt.ToTimeOnly());
        Assert.Equal(new object[] { 1L, "two", 3.0 }, ((TomlArray)t["arr"]).ToArray());
        Assert.Equal(1L, ((TomlTable)t["alpha"])["beta"]);
    }

    [Fact]
    public void Multiline_strings_trim_first_newline_and_honour_line_ending_backslash()
    {
        var t = Kslurm.Toml.Parse("a = \"\"\"\r\none \\\r\n   two\r\nthree\"\"\"\nb = '''\nraw \\n'''\n");
        Assert.Equal("one two\nthree", t["a"]);
        Assert.Equal("raw \\n", t["b"]);
    }

    [Fact]
    public void TomlDateTime_parse_and_equality_ignore_spelling_but_not_value()
    {
        var a = TomlDateTime.Parse("1987-07-05t17:45:00.10z");
        var b = TomlDateTime.Parse("1987-07-05T17:45:00.1+00:00");
        Assert.Equal(a, b);
        Assert.Equal(a.GetHashCode(), b.GetHashCode());
        Assert.NotEqual(a, TomlDateTime.Parse("1987-07-05T17:45:00.1+01:00"));
        Assert.Throws<TomlException>(() => TomlDateTime.Parse("1987-07-05T17:45"));
        Assert.Throws<InvalidOperationException>(() => TomlDateTime.Parse("17:45:00").ToDateOnly());
    }
}
