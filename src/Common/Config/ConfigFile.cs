using Tomlyn.Model;
using Kslurm.Cli;
using Kslurm.Files;
using Kslurm.Host;

namespace Kslurm.Config;

/// <summary>One TOML config file (the user's or the site's): read, and edited in place atomically under a lock.</summary>
public sealed class ConfigFile
{
    ConfigFile(string path, TomlText toml, bool exists)
    {
        Path = path;
        Toml = toml;
        Exists = exists;
    }

    public string Path { get; }
    public TomlText Toml { get; private set; }
    public TomlTable Root => Toml.Model;
    public bool Exists { get; }

    /// <summary>A settings file is small: anything bigger is not one (and is never read whole).</summary>
    public const int MaxBytes = 1 << 20;

    public static ConfigFile Load(string path)
    {
        var bytes = Read(path);
        return bytes is null
            ? new ConfigFile(path, TomlText.Parse("", Paths.Pretty(path)), false)
            : new ConfigFile(path, TomlText.Parse(bytes, Paths.Pretty(path)), true);
    }

    /// <summary>"FILE:LINE:COLUMN" of a key's value, for messages; the file alone if not found.</summary>
    public string Where(string[] path)
        => TomlKey.All(Toml.Syntax).FirstOrDefault(k => k.Path.AsSpan().SequenceEqual(path))?.Where(Paths.Pretty(Path))
           ?? Paths.Pretty(Path);

    /// <summary>
    /// The file's bytes, or null when there is none. Only a regular file of at most
    /// <see cref="MaxBytes"/> is read: a named pipe would block, a link to /dev/zero never end.
    /// A dangling symlink reads as no file.
    /// </summary>
    static byte[]? Read(string path)
    {
        var real = RealPath(path);
        var pretty = Paths.Pretty(path);
        FileStat? stat;
        try
        {
            stat = FileStat.TryLStat(real);
        }
        catch (IOException)
        {
            throw new KslurmException($"cannot read {pretty}: permission denied",
                "ask the owner of the file to make it readable, or point KSLURM_SITE_CONFIG elsewhere");
        }
        if (stat is null)
            return null;
        CheckRegular(stat.Value, pretty);
        try
        {
            using var fs = new FileStream(real, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.None);
            var buffer = new byte[Math.Min(stat.Value.Size, MaxBytes) + 1];
            int total = 0, n;
            while (total < buffer.Length && (n = fs.Read(buffer, total, buffer.Length - total)) > 0)
                total += n;
            if (total > MaxBytes)
                throw TooLarge(pretty);
            return buffer[..total];
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        catch (UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot read {pretty}: permission denied",
                "ask the owner of the file to make it readable, or point KSLURM_SITE_CONFIG elsewhere");
        }
    }

    static void CheckRegular(FileStat stat, string pretty)
    {
        var hint = "kslurm keeps its settings in a regular text file; move this away and run `kslurm config` again";
        switch (stat.Kind)
        {
            case FileKind.Regular:
                if (stat.Size > MaxBytes)
                    throw TooLarge(pretty);
                return;
            case FileKind.Directory:
                throw new KslurmException($"{pretty} is a folder, not a settings file", hint);
            default:
                var what = stat.Kind switch
                {
                    FileKind.Fifo => "a named pipe",
                    FileKind.Socket => "a socket",
                    FileKind.CharDevice or FileKind.BlockDevice => "a device",
                    _ => "not a regular file",
                };
                throw new KslurmException($"{pretty} is {what}, not a settings file", hint);
        }
    }

    static KslurmException TooLarge(string pretty)
        => new($"{pretty} is larger than {MaxBytes / 1024 / 1024} MiB, too large for a settings file", "check what the file is; kslurm reads settings only from a small TOML file");

    /// <summary>The file a symlink finally points to (written through, so dotfile links stay links).</summary>
    static string RealPath(string path)
    {
        try
        {
            return File.ResolveLinkTarget(path, returnFinalTarget: true)?.FullName ?? path;
        }
        catch (FileNotFoundException) { return path; }
        catch (DirectoryNotFoundException) { return path; }
        catch (IOException e)
        {
            throw new KslurmException($"cannot follow the symbolic link {Paths.Pretty(path)}: {e.Message}", "fix or remove the link");
        }
        catch (UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot read {Paths.Pretty(path)}: permission denied");
        }
    }

    /// <summary>
    /// Read-modify-write under the file's lock, so two jobs changing settings at once both land.
    /// The change runs against the file as it is now on disk, not as we read it earlier, and edits
    /// its text: what it does not touch stays byte for byte.
    /// </summary>
    public void Update(Action<ConfigEdit> change)
    {
        var pretty = Paths.Pretty(Path);
        var real = RealPath(Path);
        if (real != Path && !File.Exists(real) && !Directory.Exists(real))
            throw new KslurmException($"{pretty} is a symbolic link to {real}, which does not exist",
                $"create that file, or remove the link (rm {pretty}) to start a new one");
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(real))!;
        try
        {
            Directory.CreateDirectory(dir);
            using var _ = FileLock.Acquire(real + ".lock", TimeSpan.FromSeconds(30), m => Output.Note("kslurm", m));
            // Temp files of writers that were killed: we hold the lock, so none is live.
            foreach (var stale in Directory.EnumerateFiles(dir, $".{System.IO.Path.GetFileName(real)}.tmp-*"))
                AtomicFile.TryDelete(stale);
            var current = Load(real);
            var edit = new ConfigEdit(current.Exists ? current.Toml : TomlText.Parse(Header, pretty), pretty);
            var before = edit.Text;
            change(edit);
            if (edit.Text == before)
                return;
            AtomicFile.WriteAllText(real, edit.Text);
            Toml = TomlText.Parse(edit.Text, pretty);
        }
        catch (UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot write {pretty}: permission denied",
                "you need write access to that folder (site files are usually owned by the admin or lab manager)");
        }
        catch (IOException e)
        {
            throw new KslurmException($"cannot write {pretty}: {e.Message}");
        }
    }

    const string Header = "# kslurm settings. Edit by hand or with `kslurm config KEY VALUE`.\n\n";
}
