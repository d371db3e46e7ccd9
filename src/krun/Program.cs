using Kslurm.Tools;
using Kslurm.Cli;

return Entry.Run("krun", args, Krun.Run);
