using Kslurm;
using Kslurm.Tools;

return Entry.Run("kjupyter", args, KjupyterMain.Run);
