using Kslurm.Archive;
using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Processes;
using Kslurm.Shell;

namespace Kslurm.Venv;

/// <summary>
/// A saved venv's SquashFS image (`kpy save --image`): `<pipdir>/venv_archives/NAME.sqfs` beside
/// its archive, which stays the source of truth. The image holds the archive's record as its
/// `.kpy.json`, byte for byte: a load mounts it only while the two agree, so an image left behind
/// by an interrupted save is never used. A load mounts it read-only with squashfuse (no root) at
/// `<live root>/.NAME.image`, and `NAME` becomes a link to it once it is mounted (a second task
/// of the node never sees an empty folder).
/// </summary>
public sealed partial class VenvStore
{
    public string ImagePath(string name) => Path.Combine(ArchiveDir, VenvName.Check(name) + ".sqfs");

    string MountPoint(string label) => Path.Combine(LiveRoot, $".{label}.image");

    /// <summary>
    /// mksquashfs when this save writes an image: asked for (`--image`, an error without it), or
    /// the name has one already (kept matching; without mksquashfs here the old image goes, with a note).
    /// </summary>
    string? ImageTool(string name, bool asked)
    {
        if (asked)
            return RequireMksquashfs();
        if (!File.Exists(ImagePath(name)))
            return null;
        if (ChildProcess.Which("mksquashfs") is { } tool)
            return tool;
        RemoveImage(name);
        Note($"mksquashfs is not installed here: removed the image of {name} (it would no longer match); save with --image where it is");
        return null;
    }

    /// <summary>The venv in its relocatable form before it is archived (archive and image hold the same tree).</summary>
    void MakeRelocatable(string venv, string name)
    {
        var report = RelocatableVenv.MakeInPlace(venv, name);
        if (report.StillAbsolute.Count > 0)
            Output.Warn(Tool, $"{string.Join(", ", report.StillAbsolute.Take(3))}{(report.StillAbsolute.Count > 3 ? $" and {report.StillAbsolute.Count - 3} more" : "")} "
                + $"still name {venv} (editable installs?): from a mounted image they point there; `kpy load --unpack` rewrites them");
    }

    /// <summary>The image after the archive: if it cannot be written, the old one goes (it would not match).</summary>
    void SaveImage(string mksquashfs, string venv, string name, byte[] record)
    {
        var started = DateTime.UtcNow;
        try
        {
            WriteImage(mksquashfs, venv, name, record);
            Note($"image of {name}: {Format.Bytes(new FileInfo(ImagePath(name)).Length)} in {(DateTime.UtcNow - started).TotalSeconds:0.0} s -> {ImagePath(name)}");
        }
        catch (Exception e) when (e is IOException or KslurmException)
        {
            RemoveImage(name);
            throw new KslurmException($"saved {name}, but not its image: {(e is KslurmException ? e.Message : e.GetBaseException().Message)}",
                "loads unpack the archive until a `kpy save -f --image` works");
        }
    }

    void RemoveImage(string name)
    {
        var image = ImagePath(name);
        if (File.Exists(image))
        {
            File.Delete(image);
            AtomicFile.SyncDirectory(ArchiveDir);
        }
    }

    /// <summary>Mounts NAME's image as its live folder when it has one and squashfuse works here; says why not otherwise.</summary>
    bool Mount(SavedVenv saved, string label, string dir)
    {
        if (saved.Legacy || !File.Exists(ImagePath(saved.Name)))
            return false;
        if (label != saved.Name)
        {
            Note($"an image mounts under its own name only: unpacking {saved.Name} as {label}");
            return false;
        }
        var started = DateTime.UtcNow;
        if (TryMount(saved, label, dir) is { } why)
        {
            Note($"not mounting {saved.Name}'s image ({why}): unpacking instead");
            return false;
        }
        Note($"{label} mounted read-only at {dir} from its image ({(DateTime.UtcNow - started).TotalSeconds:0.00} s)");
        return true;
    }

    /// <summary>A venv mounted from its image is its saved copy: there is nothing to save, and no way to.</summary>
    static void RefuseReadOnly(string venv)
    {
        if (Libc.Access(venv, 2 /* W_OK */) != 0)
            throw new KslurmException($"{venv} is read-only (mounted from its image?): there is nothing to save",
                $"to change it, load a copy: kpy load --unpack {Path.GetFileName(venv)}");
    }

    /// <summary>Checked before a save writes anything: an image needs mksquashfs.</summary>
    static string RequireMksquashfs()
        => ChildProcess.Which("mksquashfs") ?? throw new KslurmException("mksquashfs is not installed (needed for --image)",
            "install squashfs-tools (apt-get install squashfs-tools, dnf install squashfs-tools), or load a module that has it");

    /// <summary>
    /// Writes NAME's image from the venv folder with <paramref name="record"/> as its `.kpy.json`:
    /// a temp name beside it, fsync, rename (the caller holds the name's lock).
    /// </summary>
    void WriteImage(string mksquashfs, string venv, string name, byte[] record)
    {
        var dest = ImagePath(name);
        AtomicFile.RemoveStaleTemps(dest);
        var tmp = AtomicFile.TempBeside(dest);
        var recordFile = tmp + ".json";
        try
        {
            File.WriteAllBytes(recordFile, record);
            // -all-root: the image is the same whoever mounts it; level 3: saving costs about what
            // the archive does, and reading zstd is as fast at any level. -mem 32M: peak RSS 51 MB
            // for a 30k-entry venv and 98 MB at 200k entries (256M: 175 / 161 MB), same speed.
            var r = ChildProcess.Capture([mksquashfs, venv, tmp, "-comp", "zstd", "-Xcompression-level", "3", "-no-xattrs",
                "-all-root", "-noappend", "-quiet", "-no-progress", "-mem", "32M",
                "-p", $"{VenvMeta.FileName} f 444 0 0 cat {ShellQuote.Quote(recordFile)}",
                "-e", VenvMeta.FileName]);
            if (r.ExitCode != 0)
                throw new KslurmException($"could not write the image of {name}: mksquashfs: {FirstLine(r.Stderr + r.Stdout)}");
            if (!AtomicFile.Publish(tmp, dest))
                throw new KslurmException($"could not write the image of {name}: cannot sync {tmp}");
        }
        catch
        {
            AtomicFile.TryDelete(tmp);
            throw;
        }
        finally
        {
            AtomicFile.TryDelete(recordFile);
        }
    }

    /// <summary>
    /// Mounts NAME's image as LABEL's live folder (caller holds LABEL's live lock, and the folder is
    /// not there). Null when mounted; otherwise why not (the caller unpacks instead and says so).
    /// </summary>
    string? TryMount(SavedVenv saved, string label, string dir)
    {
        var image = ImagePath(saved.Name);
        // squashfuse_ll (same package, FUSE's low-level API) read a cold venv faster here
        if ((ChildProcess.Which("squashfuse_ll") ?? ChildProcess.Which("squashfuse")) is not { } squashfuse)
            return "squashfuse is not installed";
        if (ChildProcess.Which("fusermount3") is null && ChildProcess.Which("fusermount") is null)
            return "fusermount3 is not installed (package fuse3)";
        if (Libc.Access("/dev/fuse", 6 /* R_OK|W_OK */) != 0)
            return "/dev/fuse is not usable here";
        var mnt = MountPoint(label);
        Directory.CreateDirectory(mnt, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        // auto_unmount: the mount goes when squashfuse dies (libfuse 3 asks fusermount3 to watch it)
        var r = ChildProcess.Capture([squashfuse, "-o", "ro,auto_unmount", image, mnt]);
        if (r.ExitCode != 0 && (r.Stderr + r.Stdout).Contains("auto_unmount", StringComparison.Ordinal))
            r = ChildProcess.Capture([squashfuse, "-o", "ro", image, mnt]);
        if (r.ExitCode != 0)
        {
            TryRemoveDir(mnt);
            return "squashfuse failed: " + FirstLine(r.Stderr + r.Stdout);
        }
        byte[]? inImage = null;
        try { inImage = File.ReadAllBytes(Path.Combine(mnt, VenvMeta.FileName)); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        var inArchive = ArchiveFile.ReadLeading(saved.Path, VenvMeta.FileName);
        if (inImage is null || inArchive is null || !inImage.AsSpan().SequenceEqual(inArchive))
        {
            Fusermount(mnt, lazy: true);
            TryRemoveDir(mnt);
            return "it is older than the archive";
        }
        // NAME -> .NAME.image, by one rename: whoever sees NAME sees the mounted venv
        var link = Path.Combine(LiveRoot, $".{label}.link-{Environment.ProcessId}");
        AtomicFile.TryDelete(link);
        File.CreateSymbolicLink(link, Path.GetFileName(mnt));
        if (Libc.Rename(link, dir) != 0)
        {
            var errno = System.Runtime.InteropServices.Marshal.GetLastPInvokeError();
            AtomicFile.TryDelete(link);
            Fusermount(mnt, lazy: true);
            TryRemoveDir(mnt);
            return $"cannot link {dir}: {Libc.ErrorText(errno)}";
        }
        return null;
    }

    /// <summary>
    /// Clears what a mounted LABEL left when its squashfuse died (job killed, node cleanup): the
    /// dead mount, its folder, the dangling link. Caller holds LABEL's live lock.
    /// </summary>
    void ClearDeadMount(string label, string dir)
    {
        var mnt = MountPoint(label);
        if (IsMounted(mnt))
            Fusermount(mnt, lazy: true);
        TryRemoveDir(mnt);
        if (new FileInfo(dir).LinkTarget is not null && !Directory.Exists(dir))
            AtomicFile.TryDelete(dir);
    }

    /// <summary>Whether LABEL's live folder on this node is a mounted image.</summary>
    public bool IsMountedLive(string label)
        => new FileInfo(LivePath(label)).LinkTarget == $".{label}.image" && IsMounted(MountPoint(label));

    /// <summary>
    /// Unmounts LABEL's image on this node (`kpy deactivate`); false when it was not mounted (an
    /// unpacked venv stays: it may hold changes). A venv still in use stays mounted (an error).
    /// </summary>
    public bool Unmount(string label)
    {
        var dir = LivePath(label);
        var mnt = MountPoint(label);
        using var _ = LockLive(label);
        if (new FileInfo(dir).LinkTarget != Path.GetFileName(mnt))
            return false;
        if (IsMounted(mnt))
        {
            var (code, err) = Fusermount(mnt, lazy: !Directory.Exists(mnt)); // a dead one (ENOTCONN) is only detached
            if (code != 0)
                throw new KslurmException($"cannot unmount {label} ({dir}): {FirstLine(err)}",
                    err.Contains("busy", StringComparison.OrdinalIgnoreCase) ? "a program still runs from it: end it first" : null);
        }
        AtomicFile.TryDelete(dir);
        TryRemoveDir(mnt);
        return true;
    }

    static (int Code, string Err) Fusermount(string mnt, bool lazy)
    {
        var tool = ChildProcess.Which("fusermount3") ?? ChildProcess.Which("fusermount") ?? "fusermount3";
        var r = ChildProcess.Capture(lazy ? [tool, "-u", "-z", mnt] : [tool, "-u", mnt]);
        return (r.ExitCode, r.Stderr + r.Stdout);
    }

    /// <summary>From /proc/self/mounts (a dead FUSE mount cannot be stat'ed, but is listed).</summary>
    static bool IsMounted(string path)
    {
        var escaped = path.Replace("\\", "\\134").Replace(" ", "\\040").Replace("\t", "\\011").Replace("\n", "\\012");
        try
        {
            foreach (var line in File.ReadLines("/proc/self/mounts"))
            {
                var parts = line.Split(' ');
                if (parts.Length > 1 && parts[1] == escaped)
                    return true;
            }
        }
        catch (IOException) { }
        return false;
    }

    static void TryRemoveDir(string dir)
    {
        try { if (Directory.Exists(dir)) Directory.Delete(dir); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }

    static string FirstLine(string s)
    {
        var line = s.Trim().Split('\n')[0].Trim();
        return line.Length == 0 ? "no message" : Output.Safe(line);
    }
}
