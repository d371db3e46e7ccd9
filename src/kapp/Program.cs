using Kslurm;
using Kslurm.Tools;

return Entry.Run("kapp", args, KappMain.Run);
