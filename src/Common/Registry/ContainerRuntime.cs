using Kslurm.Processes;

namespace Kslurm.Registry;

/// <summary>Apptainer, or Singularity where a site still has only that (same command line for what we use).</summary>
public static class ContainerRuntime
{
    public static string Find()
        => ChildProcess.Which("apptainer") ?? ChildProcess.Which("singularity")
           ?? throw new KslurmException("neither apptainer nor singularity is on PATH",
               "load it first: module load apptainer");
}
