using Kslurm.Tools;
using Kslurm.Cli;

return Entry.Run("kbatch", args, Kbatch.Run);
