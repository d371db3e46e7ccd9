namespace Kslurm.Files;

/// <summary>Housekeeping of state folders that grow by one file per job (kbatch scripts, Jupyter logs).</summary>
public static class StaleFiles
{
    /// <summary>Deletes the files of <paramref name="dir"/> unchanged for <paramref name="days"/> days that <paramref name="remove"/> (given the file name) picks.</summary>
    public static void Prune(string dir, int days, Func<string, bool> remove)
    {
        if (!Directory.Exists(dir))
            return;
        var cutoff = DateTime.UtcNow.AddDays(-days);
        foreach (var f in Directory.EnumerateFiles(dir))
            if (File.GetLastWriteTimeUtc(f) < cutoff && remove(Path.GetFileName(f)))
                AtomicFile.TryDelete(f);
    }
}
