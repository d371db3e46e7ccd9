using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace Kslurm.Files;

/// <summary>
/// MD5 (RFC 1321). Not for security: Snakemake names its image files by the md5 of the container
/// URI, and kapp makes the same names so Snakemake finds images kapp pulled.
/// </summary>
public sealed class Md5 : BlockHash
{
    static readonly uint[] K = BuildK();
    static readonly int[] S =
    [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ];

    readonly uint[] _h = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476];
    readonly uint[] _m = new uint[16];

    // K[i] = floor(|sin(i + 1)| * 2^32), as the RFC defines it (exact in double precision).
    static uint[] BuildK()
    {
        var k = new uint[64];
        for (var i = 0; i < 64; i++)
            k[i] = (uint)(long)Math.Floor(Math.Abs(Math.Sin(i + 1)) * 4294967296.0);
        return k;
    }

    protected override bool BigEndianLength => false;

    protected override byte[] Digest()
    {
        var digest = new byte[16];
        for (var i = 0; i < 4; i++)
            BinaryPrimitives.WriteUInt32LittleEndian(digest.AsSpan(i * 4), _h[i]);
        return digest;
    }

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var h = new Md5();
        h.Append(data);
        return h.Finish();
    }

    public static string HashHex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(Hash(data));

    /// <summary>md5 hex of the UTF-8 bytes of a string (Snakemake's image file names).</summary>
    public static string HashHex(string text) => HashHex(Encoding.UTF8.GetBytes(text));

    protected override void Compress(ReadOnlySpan<byte> block)
    {
        var m = _m;
        for (var i = 0; i < 16; i++)
            m[i] = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * 4)..]);
        uint a = _h[0], b = _h[1], c = _h[2], d = _h[3];
        for (var i = 0; i < 64; i++)
        {
            uint f;
            int g;
            switch (i >> 4)
            {
                case 0: f = (b & c) | (~b & d); g = i; break;
                case 1: f = (d & b) | (~d & c); g = (5 * i + 1) & 15; break;
                case 2: f = b ^ c ^ d; g = (3 * i + 5) & 15; break;
                default: f = c ^ (b | ~d); g = (7 * i) & 15; break;
            }
            var t = d;
            d = c;
            c = b;
            b += BitOperations.RotateLeft(a + f + K[i] + m[g], S[i]);
            a = t;
        }
        _h[0] += a; _h[1] += b; _h[2] += c; _h[3] += d;
    }
}
