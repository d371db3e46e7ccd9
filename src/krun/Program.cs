using Kslurm;
using Kslurm.Tools;

return Entry.Run("krun", args, Krun.Run);
