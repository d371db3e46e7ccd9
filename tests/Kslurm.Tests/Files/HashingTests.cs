using System.Text;
using Kslurm.Files;
using Kslurm.Processes;

namespace Kslurm.Tests.Files;

/// <summary>Our SHA-256 and MD5 against the standard vectors and the coreutils programs.</summary>
[Trait("Tier", "Unit")]
public class HashingTests
{
    [Theory]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")]
    [InlineData("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
        "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")]
    public void Sha256_standard_vectors(string input, string hex)
        => Assert.Equal(hex, Sha256.HashHex(Encoding.ASCII.GetBytes(input)));

    [Fact]
    public void Sha256_of_a_million_a()
    {
        var h = new Sha256();
        var chunk = Encoding.ASCII.GetBytes(new string('a', 1000));
        for (var i = 0; i < 1000; i++)
            h.Append(chunk);
        Assert.Equal("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0", Convert.ToHexStringLower(h.Finish()));
    }

    [Theory]
    [InlineData("", "d41d8cd98f00b204e9800998ecf8427e")]
    [InlineData("a", "0cc175b9c0f1b6a831c399e269772661")]
    [InlineData("abc", "900150983cd24fb0d6963f7d28e17f72")]
    [InlineData("message digest", "f96b697d7cb7938d525a2f31aaf161d0")]
    [InlineData("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f")]
    [InlineData("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a")]
    public void Md5_rfc1321_vectors(string input, string hex)
        => Assert.Equal(hex, Md5.HashHex(Encoding.ASCII.GetBytes(input)));

    [Fact]
    public void Md5_names_images_as_snakemake_does()
        => Assert.Equal("aaea631dfcf687b6ead83198bc08c49d", Md5.HashHex("docker://ubuntu:22.04"));

    /// <summary>Every length around the block and padding boundaries, fed in odd pieces.</summary>
    [Fact]
    public void Piecewise_equals_whole_at_every_boundary()
    {
        var rng = new Random(42);
        for (var len = 0; len < 300; len++)
        {
            var data = new byte[len];
            rng.NextBytes(data);
            var s = new Sha256();
            var m = new Md5();
            for (var at = 0; at < len;)
            {
                var n = Math.Min(len - at, rng.Next(1, 70));
                s.Append(data.AsSpan(at, n));
                m.Append(data.AsSpan(at, n));
                at += n;
            }
            Assert.Equal(Sha256.Hash(data), s.Finish());
            Assert.Equal(Md5.Hash(data), m.Finish());
        }
    }

    [Theory]
    [InlineData(0), InlineData(55), InlineData(56), InlineData(64), InlineData(1000), InlineData(3 * 1024 * 1024 + 17)]
    public void Random_data_matches_sha256sum_and_md5sum(int size)
    {
        var dir = Directory.CreateTempSubdirectory("kslurm-hash-").FullName;
        var file = Path.Combine(dir, "data");
        var data = new byte[size];
        new Random(size).NextBytes(data);
        File.WriteAllBytes(file, data);
        var sha = ChildProcess.Capture(["sha256sum", file]);
        var md5 = ChildProcess.Capture(["md5sum", file]);
        Assert.Equal(sha.Stdout.Split(' ')[0], Sha256.HashFileHex(file));
        Assert.Equal(md5.Stdout.Split(' ')[0], Md5.HashHex(data));
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public void Finished_hash_cannot_be_fed()
    {
        var h = new Sha256();
        h.Finish();
        Assert.Throws<InvalidOperationException>(() => h.Append([1]));
    }
}
