using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Kslurm.Archive;

/// <summary>
/// Maps the logical library name "libzstd" to the runtime soname libzstd.so.1 when Common runs
/// under the JIT (unit tests, `dotnet run`). The default probe would look for libzstd.so, which
/// only exists where libzstd-dev is installed. Published NativeAOT tools link libzstd.a directly
/// (DirectPInvoke), so this resolver is never consulted there.
/// NOTE: .NET allows only one resolver per assembly; any other native library Common needs must
/// be added to <see cref="Resolve"/> rather than registering a second resolver.
/// </summary>
internal static class NativeLibraryResolver
{
    [ModuleInitializer]
    [SuppressMessage("Usage", "CA2255:The 'ModuleInitializer' attribute should not be used in libraries",
        Justification = "The resolver must be in place before the first P/Invoke into libzstd, whichever " +
                        "entry point of the library the host calls first; it has no other side effect.")]
    internal static void Register()
    {
        // Published tools: nothing to resolve, and the reflection below would cost every start
        // (kpy --help) an assembly lookup and the random seed of string hashing.
        if (!RuntimeFeature.IsDynamicCodeSupported)
            return;
        try
        {
            NativeLibrary.SetDllImportResolver(typeof(NativeLibraryResolver).Assembly, Resolve);
        }
        catch (InvalidOperationException)
        {
            // A resolver is already set (a host did it first): keep theirs.
        }
    }

    internal static nint Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (name == "libzstd" && NativeLibrary.TryLoad("libzstd.so.1", assembly, searchPath, out nint handle))
            return handle;
        // Zero means "not handled": the runtime falls back to its normal probing.
        return 0;
    }
}
