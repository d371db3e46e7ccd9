using Kslurm;
using Kslurm.Tools;

return Entry.Run("kbatch", args, Kbatch.Run);
