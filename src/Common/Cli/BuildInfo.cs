using System.Reflection;

namespace Kslurm;

public static class BuildInfo
{
    /// <summary>The release version (from the repository's VERSION file at build time).</summary>
    public static string Version { get; } =
        (typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0")
        .Split('+')[0];
}
