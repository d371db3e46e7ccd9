using Kslurm.Tools;
using Kslurm.Cli;

return Entry.Run("kapp", args, KappMain.Run);
