using Kslurm.Cli;
using Kslurm.Venv;

namespace Kslurm.Tools;

/// <summary>`kpy info NAME`: everything recorded about a saved venv.</summary>
static class InfoCommand
{
    const string Usage = "usage: kpy info NAME";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        var saved = VenvStore.Current().Require(a.OnePositional("NAME", Usage));
        var name = saved.Name;
        var meta = VenvStore.ReadRecord(saved);
        var o = Console.Out;
        // The record comes from an archive that may sit in a shared pipdir: nothing in it reaches the terminal raw.
        static string S(string? t) => Output.Safe(t ?? "?");
        o.WriteLine($"name:        {S(name)}");
        o.WriteLine($"archive:     {S(saved.Path)}");
        o.WriteLine($"size:        {Format.Bytes(saved.File.Length)}");
        var store = VenvStore.Current();
        if (File.Exists(store.ImagePath(name)))
            o.WriteLine($"image:       {S(store.ImagePath(name))} ({Format.Bytes(new FileInfo(store.ImagePath(name)).Length)}; loads mount it where squashfuse works)");
        if (meta is null)
        {
            o.WriteLine("format:      Python kslurm .tar.gz (no record; paths are fixed up from bin/activate on load)");
            return 0;
        }
        o.WriteLine($"saved:       {(meta.Saved is { } s ? Format.Date(s) : "?")}");
        o.WriteLine($"created:     {(meta.Created is { } c ? Format.Date(c) : "?")}");
        o.WriteLine($"python:      {S(meta.PythonVersion)}");
        o.WriteLine($"interpreter: {S(meta.BaseInterpreter)}");
        o.WriteLine($"modules:     {S(string.Join(' ', meta.Modules))}");
        o.WriteLine($"files:       {VenvStore.Entries(saved, meta)?.ToString() ?? "?"}");
        o.WriteLine($"saved from:  {S(string.Join(", ", meta.OriginalPaths))}");
        o.WriteLine($"kpy:         {S(meta.KpyVersion)} (format {meta.Format})");
        return 0;
    }
}
