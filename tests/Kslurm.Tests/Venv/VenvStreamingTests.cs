using System.Text;
using Kslurm.Venv;

namespace Kslurm.Tests.Venv;

/// <summary>
/// Large files are relocated a chunk at a time (bounded memory): the result must be the same,
/// byte for byte, as rewriting the whole text at once, wherever the chunk boundaries fall.
/// </summary>
[Trait("Tier", "Unit")]
public class VenvStreamingTests
{
    static byte[] Streamed(PathRewriter paths, byte[] text, ShellSyntax shell, int chunk, out bool changed)
    {
        var output = new MemoryStream();
        changed = paths.Rewrite(new MemoryStream(text), output, shell, chunk);
        return output.ToArray();
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Chunked_rewrite_equals_the_whole_text_rewrite_at_every_chunk_size(int syntax)
    {
        var shell = (ShellSyntax)syntax; // None, Sh, Csh, Fish (the enum is internal)
        var paths = new PathRewriter(["/old/venv", "/gpfs/old/venv"], "/new dir/v");
        // matches at boundaries, near misses, URLs, quotes and comments (quoting depends on them)
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(
            "X=/old/venv/bin # '/old/venv' \"/old/venv/lib\"\n/old/venv2 /old/venv-x a/old/venv file:///old/venv/src " +
            "/gpfs/old/venv/x\\ '/old/venv\n#/old/venv\ncaf\u00e9/old/venv /old/ven", 40)));
        var whole = paths.Rewrite(text, shell);
        Assert.NotNull(whole);
        foreach (var chunk in new[] { 1, 2, 3, 7, 16, 64, 100, 333, 4096 })
        {
            var streamed = Streamed(paths, text, shell, chunk, out var changed);
            Assert.True(changed);
            Assert.True(whole.AsSpan().SequenceEqual(streamed), $"chunk {chunk}");
        }
    }

    [Fact]
    public void A_text_without_the_old_path_streams_through_unchanged()
    {
        var paths = new PathRewriter(["/old/venv"], "/new/v");
        var text = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("/old/venv2 /old/ve nv\n", 500)));
        var streamed = Streamed(paths, text, ShellSyntax.None, 50, out var changed);
        Assert.False(changed);
        Assert.Equal(text, streamed);
    }

    static byte[] Large(string head, string line, int size, string tail)
    {
        var sb = new StringBuilder(head);
        while (sb.Length < size)
            sb.Append(line);
        return Encoding.UTF8.GetBytes(sb.Append(tail).ToString());
    }

    // The stream form against the in-memory one, on files of several MiB (chunks of 1 MiB).
    static (bool Changed, byte[] Content) Both(VenvRelocation r, string rel, byte[] content, out byte[]? inMemory)
    {
        inMemory = r.RewriteFile(rel, content);
        var output = new MemoryStream();
        var changed = r.RewriteFile(rel, new MemoryStream(content), () => output);
        return (changed, output.ToArray());
    }

    [Fact]
    public void Large_script_gets_its_interpreter_line_and_every_path_rewritten_like_a_small_one()
    {
        var r = new VenvRelocation(["/old/venv"], "/project/def-lab/a/much/longer/path/for/the/venv/than/before/so/that/its/shebang/is/longer/than/what/linux/reads");
        var content = Large("#!/old/venv/bin/python3 -u\n", "x = '/old/venv/lib'  # padding padding padding\n", 5 << 20, "END /old/venv\n");
        var (changed, streamed) = Both(r, "bin/tool", content, out var inMemory);
        Assert.True(changed);
        Assert.NotNull(inMemory);
        Assert.Equal(inMemory, streamed);
        Assert.StartsWith("#!/bin/sh\n'''exec' \"/project/def-lab/", Encoding.UTF8.GetString(streamed, 0, 100));
    }

    [Fact]
    public void Large_python_source_of_unchanged_size_gets_one_more_newline()
    {
        var r = new VenvRelocation(["/old/venv"], "/new/vvvv"); // same length
        var content = Large("P = '/old/venv'\n", "# padding padding padding padding padding padding\n", 3 << 20, "Q = '/old/venv/x'\n");
        var (changed, streamed) = Both(r, "lib/python3.11/site-packages/big.py", content, out var inMemory);
        Assert.True(changed);
        Assert.Equal(inMemory, streamed);
        Assert.Equal(content.Length + 1, streamed.Length);
    }

    [Fact]
    public void Large_binaries_and_texts_without_the_path_are_left_alone_and_nothing_is_opened()
    {
        var r = new VenvRelocation(["/old/venv"], "/new/v");
        var text = Large("", "just text, no path here at all, padding padding padding\n", 3 << 20, "");
        var nulLate = Large("/old/venv\n", "padding padding padding padding padding padding\n", 3 << 20, "\0/old/venv");
        var elf = Large("\x7f" + "ELF/old/venv", "padding\n", 2 << 20, "");
        foreach (var (rel, content) in new[] { ("data.txt", text), ("data.txt", nulLate), ("lib/x", elf), ("lib/x.so", text) })
        {
            var opened = false;
            Assert.False(r.RewriteFile(rel, new MemoryStream(content), () => { opened = true; return new MemoryStream(); }), rel);
            Assert.False(opened, rel);
        }
    }

    [Fact]
    public void A_path_split_across_the_one_MiB_chunk_boundary_is_found_and_rewritten()
    {
        var r = new VenvRelocation(["/old/venv"], "/new/v");
        foreach (var offset in new[] { 3, 5, 9, 10 })
        {
            var sb = new StringBuilder(new string('a', (1 << 20) - offset)).Append(" /old/venv/x\n").Append('b', 1 << 20);
            var content = Encoding.UTF8.GetBytes(sb.ToString());
            var (changed, streamed) = Both(r, "notes.txt", content, out var inMemory);
            Assert.True(changed, $"offset {offset}");
            Assert.Equal(inMemory, streamed);
        }
    }
}
