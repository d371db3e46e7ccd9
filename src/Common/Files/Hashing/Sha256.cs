using System.Buffers.Binary;
using System.Numerics;

namespace Kslurm.Files;

/// <summary>
/// SHA-256 (FIPS 180-4), fed in pieces. Our own rather than System.Security.Cryptography, which
/// would pull the platform crypto shim into every binary; we only need it to check registry
/// digests, where a plain implementation is fast enough (the network is slower).
/// </summary>
public sealed class Sha256 : BlockHash
{
    static readonly uint[] K =
    [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ];

    readonly uint[] _h = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19];

    protected override bool BigEndianLength => true;

    protected override byte[] Digest()
    {
        var digest = new byte[32];
        for (var i = 0; i < 8; i++)
            BinaryPrimitives.WriteUInt32BigEndian(digest.AsSpan(i * 4), _h[i]);
        return digest;
    }

    public static byte[] Hash(ReadOnlySpan<byte> data)
    {
        var h = new Sha256();
        h.Append(data);
        return h.Finish();
    }

    public static string HashHex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(Hash(data));

    /// <summary>Lower-case hex digest of a stream read to its end.</summary>
    public static string HashHex(Stream stream)
    {
        var h = new Sha256();
        var buf = new byte[256 * 1024];
        int n;
        while ((n = stream.Read(buf, 0, buf.Length)) > 0)
            h.Append(buf.AsSpan(0, n));
        return Convert.ToHexStringLower(h.Finish());
    }

    public static string HashFileHex(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
        return HashHex(fs);
    }

    // Message schedule in a stack buffer, eight rounds per loop step with the working variables
    // renamed instead of shifted, no bounds checks.
    protected override unsafe void Compress(ReadOnlySpan<byte> block)
    {
        uint* w = stackalloc uint[64];
        for (var i = 0; i < 16; i++)
            w[i] = BinaryPrimitives.ReadUInt32BigEndian(block[(i * 4)..]);
        for (var i = 16; i < 64; i++)
        {
            var x = w[i - 15];
            var y = w[i - 2];
            w[i] = w[i - 16] + (BitOperations.RotateRight(x, 7) ^ BitOperations.RotateRight(x, 18) ^ (x >> 3))
                + w[i - 7] + (BitOperations.RotateRight(y, 17) ^ BitOperations.RotateRight(y, 19) ^ (y >> 10));
        }
        uint a = _h[0], b = _h[1], c = _h[2], d = _h[3], e = _h[4], f = _h[5], g = _h[6], h = _h[7];
        fixed (uint* k = K)
        {
            for (var i = 0; i < 64; i += 8)
            {
                Round(a, b, c, ref d, e, f, g, ref h, k[i + 0] + w[i + 0]);
                Round(h, a, b, ref c, d, e, f, ref g, k[i + 1] + w[i + 1]);
                Round(g, h, a, ref b, c, d, e, ref f, k[i + 2] + w[i + 2]);
                Round(f, g, h, ref a, b, c, d, ref e, k[i + 3] + w[i + 3]);
                Round(e, f, g, ref h, a, b, c, ref d, k[i + 4] + w[i + 4]);
                Round(d, e, f, ref g, h, a, b, ref c, k[i + 5] + w[i + 5]);
                Round(c, d, e, ref f, g, h, a, ref b, k[i + 6] + w[i + 6]);
                Round(b, c, d, ref e, f, g, h, ref a, k[i + 7] + w[i + 7]);
            }
        }
        _h[0] += a; _h[1] += b; _h[2] += c; _h[3] += d;
        _h[4] += e; _h[5] += f; _h[6] += g; _h[7] += h;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static void Round(uint a, uint b, uint c, ref uint d, uint e, uint f, uint g, ref uint h, uint kw)
    {
        var t1 = h + (BitOperations.RotateRight(e, 6) ^ BitOperations.RotateRight(e, 11) ^ BitOperations.RotateRight(e, 25))
            + ((e & f) ^ (~e & g)) + kw;
        d += t1;
        h = t1 + (BitOperations.RotateRight(a, 2) ^ BitOperations.RotateRight(a, 13) ^ BitOperations.RotateRight(a, 22))
            + ((a & b) ^ (a & c) ^ (b & c));
    }
}
