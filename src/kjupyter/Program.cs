using Kslurm.Tools;
using Kslurm.Cli;

return Entry.Run("kjupyter", args, KjupyterMain.Run);
