using System.Runtime.InteropServices;
using Kslurm.Archive;

namespace Kslurm.Tests.Archive;

[Trait("Tier", "Unit")]
public class ZstdNativeTests
{
    [Fact]
    public void ResolverLoadsTheRuntimeSoname()
    {
        // Under the JIT "libzstd" must resolve to libzstd.so.1 (present without libzstd-dev).
        nint h = NativeLibraryResolver.Resolve("libzstd", typeof(ZstdCompressStream).Assembly, null);
        Assert.NotEqual(0, h);
        Assert.True(NativeLibrary.TryGetExport(h, "ZSTD_decompressStream", out _));
        Assert.Equal(0, NativeLibraryResolver.Resolve("libsomethingelse", typeof(ZstdCompressStream).Assembly, null));
    }

    [Fact]
    public void BindingWorks()
    {
        Assert.True(ZstdNative.VersionNumber() >= 10400, $"libzstd {ZstdNative.VersionNumber()}");
        Assert.True(ZstdNative.MaxCLevel() >= 19);
        Assert.True(ZstdNative.MinCLevel() < 0);
    }
}
