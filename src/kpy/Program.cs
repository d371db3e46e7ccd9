using Kslurm;
using Kslurm.Tools;

return Entry.Run("kpy", args, KpyMain.Run);
