namespace Kslurm.Cli;

/// <summary>
/// Build facts. The version comes from the repository's VERSION file through a file generated at
/// build time (Common.csproj), not from assembly attributes: reading those needs reflection,
/// which would cost every binary a few hundred KB.
/// </summary>
public static partial class BuildInfo;
