using System.Runtime.InteropServices;
using Kslurm.Files;

namespace Kslurm.Install;

/// <summary>
/// The bin folder of an install: who may change it, and the file operations an update needs
/// that .NET lacks (hard links for the backups that make a half-done update reversible).
/// </summary>
public static partial class InstallFolder
{
    const int W_OK = 2, X_OK = 1;

    /// <summary>
    /// Refuses, naming the owner, when this user cannot create and rename files in the folder
    /// (a lab's shared install): only its owner (or root) can update or remove it.
    /// </summary>
    public static void RequireWritable(string dir, string action)
    {
        if (Libc.Access(dir, W_OK | X_OK) == 0)
            return;
        var owner = FileStat.TryLStat(dir) is { } st ? UserName(st.Uid) : "its owner";
        var me = Environment.UserName;
        throw new KslurmException($"cannot {action} the kslurm install in {dir}: it belongs to {owner}, and you ({me}) cannot write there",
            owner == me ? $"make {dir} writable again (chmod u+w {dir}), then retry"
                        : $"ask {owner} (the owner of {dir}) to run `kslurm self {action}`; or install your own copy in ~/bin with the installer");
    }

    /// <summary>The login name of a uid (through NSS, so LDAP/SSSD users too), else the number.</summary>
    public static string UserName(uint uid)
    {
        var pw = Libc.GetPwUid(uid);
        // struct passwd starts with char *pw_name.
        var name = pw == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(pw));
        return string.IsNullOrEmpty(name) ? $"uid {uid}" : name;
    }

    /// <summary>A second name for a file (a backup that costs no space); false where links are unsupported.</summary>
    public static bool TryHardLink(string existing, string newPath) => Libc.Link(existing, newPath) == 0;

    /// <summary>Writes a file's data to disk before it is renamed into place.</summary>
    public static void Flush(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
        fs.Flush(flushToDisk: true);
    }
}
