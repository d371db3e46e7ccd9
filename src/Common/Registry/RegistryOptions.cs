using System.Runtime.InteropServices;

namespace Kslurm.Registry;

/// <summary>How <see cref="RegistryClient"/> talks to registries; the defaults suit kapp.</summary>
public sealed class RegistryOptions
{
    /// <summary>os/arch[/variant] to pick from multi-platform images; null = this machine's.</summary>
    public string? Platform { get; set; }

    /// <summary>A Docker config.json to read credentials from, instead of the usual places.</summary>
    public string? DockerConfigPath { get; set; }

    /// <summary>Explicit credentials (win over the environment and config files).</summary>
    public string? Username { get; set; }
    public string? Password { get; set; }

    /// <summary>Registries on 127.0.0.1, localhost or [::1] are spoken to over plain HTTP.</summary>
    public bool PlainHttpForLoopback { get; set; } = true;

    /// <summary>Attempts per blob (a dropped connection resumes where it stopped).</summary>
    public int Attempts { get; set; } = 3;

    /// <summary>Pause before the second attempt; doubled for each further one.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(2);

    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often Download reports the bytes so far (through its progress callback).</summary>
    public TimeSpan ProgressInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The curl program (name on PATH or a path).</summary>
    public string CurlProgram { get; set; } = "curl";

    /// <summary>Where curl's private config and header files go (default: the temp folder).</summary>
    public string? TempDirectory { get; set; }

    /// <summary>Environment lookup (tests replace it; credentials and HOME come from here).</summary>
    public Func<string, string?> GetEnvironment { get; set; } = Environment.GetEnvironmentVariable;

    /// <summary>This machine as a registry platform, e.g. linux/amd64 or linux/arm64.</summary>
    public static string HostPlatform => "linux/" + RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        Architecture.Arm => "arm/v7",
        Architecture.X86 => "386",
        Architecture.Ppc64le => "ppc64le",
        Architecture.S390x => "s390x",
        Architecture.RiscV64 => "riscv64",
        Architecture.LoongArch64 => "loong64",
        var other => other.ToString().ToLowerInvariant(),
    };
}
