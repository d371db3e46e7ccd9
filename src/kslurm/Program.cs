using Kslurm;
using Kslurm.Tools;

return Entry.Run("kslurm", args, KslurmMain.Run);
