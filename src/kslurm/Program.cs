using Kslurm.Tools;
using Kslurm.Cli;

return Entry.Run("kslurm", args, KslurmMain.Run);
