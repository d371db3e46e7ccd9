namespace Kslurm;

/// <summary>One TOML config file (the user's or the site's): read, and rewritten atomically under a lock.</summary>
public sealed class ConfigFile
{
    ConfigFile(string path, TomlTable root, bool exists)
    {
        Path = path;
        Root = root;
        Exists = exists;
    }

    public string Path { get; }
    public TomlTable Root { get; private set; }
    public bool Exists { get; }

    public static ConfigFile Load(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (FileNotFoundException) { return new ConfigFile(path, new TomlTable(), false); }
        catch (DirectoryNotFoundException) { return new ConfigFile(path, new TomlTable(), false); }
        catch (UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot read {Paths.Pretty(path)}: permission denied",
                "ask the owner of the file to make it readable, or point KSLURM_SITE_CONFIG elsewhere");
        }
        return new ConfigFile(path, Parse(path, bytes), true);
    }

    static TomlTable Parse(string path, byte[] bytes)
    {
        try
        {
            return Toml.Parse(bytes, Paths.Pretty(path));
        }
        catch (TomlException e)
        {
            throw new KslurmException($"{e.Message}", $"fix the file by hand, or move it away to start afresh");
        }
    }

    /// <summary>
    /// Read-modify-write under the file's lock, so two jobs changing settings at once both land.
    /// The change runs against the file as it is now on disk, not as we read it earlier.
    /// </summary>
    public void Update(Action<TomlTable> change)
    {
        var dir = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        try
        {
            Directory.CreateDirectory(dir);
            using var _ = FileLock.Acquire(Path + ".lock", TimeSpan.FromSeconds(30), m => Output.Note("kslurm", m));
            var current = Load(Path).Root;
            change(current);
            AtomicFile.WriteAllText(Path, Header + Toml.Write(current));
            Root = current;
        }
        catch (UnauthorizedAccessException)
        {
            throw new KslurmException($"cannot write {Paths.Pretty(Path)}: permission denied",
                "you need write access to that folder (site files are usually owned by the admin or lab manager)");
        }
    }

    const string Header = "# kslurm settings. Edit by hand or with `kslurm config KEY VALUE`.\n";
}
