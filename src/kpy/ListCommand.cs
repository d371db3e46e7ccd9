using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>`kpy list`: the saved venvs, with what their records say.</summary>
static class ListCommand
{
    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, "usage: kpy list");
        a.NoMorePositionals(0, "usage: kpy list");
        var store = VenvStore.Current();
        var saved = store.Saved();
        if (saved.Count == 0)
        {
            Output.Note("kpy", $"no saved venvs in {store.ArchiveDir}");
            return 0;
        }
        var live = store.Live().ToHashSet(StringComparer.Ordinal);
        var rows = new List<string[]> { new[] { "NAME", "SIZE", "SAVED", "PYTHON", "MODULES", "HERE", "IMAGE" } };
        foreach (var s in saved)
        {
            VenvMeta? meta = null;
            string python = "?", modules = "";
            try
            {
                meta = VenvStore.ReadRecord(s);
            }
            catch (KslurmException)
            {
                python = "(damaged)";
            }
            if (meta is not null)
            {
                python = meta.PythonVersion ?? "?";
                modules = string.Join(' ', meta.Modules);
            }
            else if (s.Legacy)
            {
                python = "(kslurm .tar.gz)";
            }
            rows.Add([s.Name, Format.Bytes(s.File.Length), Format.Date(meta?.Saved ?? s.File.LastWriteTimeUtc), python, modules, live.Contains(s.Name) ? (store.IsMountedLive(s.Name) ? "mounted" : "yes") : "",
                File.Exists(store.ImagePath(s.Name)) ? Format.Bytes(new FileInfo(store.ImagePath(s.Name)).Length) : ""]);
        }
        Console.Write(Format.Table(rows));
        return 0;
    }
}
