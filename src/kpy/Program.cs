using Kslurm.Tools;
using Kslurm.Cli;

return Entry.Run("kpy", args, KpyMain.Run);
