using System.Buffers.Binary;

namespace Kslurm.Files;

/// <summary>
/// What MD5 and SHA-256 share: 64-byte blocks fed in pieces, and the final padding (0x80, zeros,
/// the bit length in 8 bytes). Subclasses compress a block and write the digest.
/// </summary>
public abstract class BlockHash
{
    readonly byte[] _block = new byte[64];
    int _fill;
    long _length;
    bool _done;

    /// <summary>SHA-256 writes the length big-endian, MD5 little-endian.</summary>
    protected abstract bool BigEndianLength { get; }

    protected abstract void Compress(ReadOnlySpan<byte> block);

    protected abstract byte[] Digest();

    public void Append(ReadOnlySpan<byte> data)
    {
        if (_done)
            throw new InvalidOperationException("hash already finished");
        _length += data.Length;
        if (_fill > 0)
        {
            var n = Math.Min(64 - _fill, data.Length);
            data[..n].CopyTo(_block.AsSpan(_fill));
            _fill += n;
            data = data[n..];
            if (_fill < 64)
                return;
            Compress(_block);
            _fill = 0;
        }
        while (data.Length >= 64)
        {
            Compress(data[..64]);
            data = data[64..];
        }
        data.CopyTo(_block);
        _fill = data.Length;
    }

    /// <summary>The digest; the object cannot be fed afterwards.</summary>
    public byte[] Finish()
    {
        var bits = (ulong)_length * 8;
        Span<byte> pad = stackalloc byte[72];
        pad.Clear();
        pad[0] = 0x80;
        var padLen = (_fill < 56 ? 56 : 120) - _fill;
        if (BigEndianLength)
            BinaryPrimitives.WriteUInt64BigEndian(pad[padLen..], bits);
        else
            BinaryPrimitives.WriteUInt64LittleEndian(pad[padLen..], bits);
        Append(pad[..(padLen + 8)]);
        _done = true;
        return Digest();
    }
}
