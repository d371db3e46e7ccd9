namespace Kslurm.Tools;

/// <summary>`kpy info NAME`: everything recorded about a saved venv.</summary>
static class InfoCommand
{
    const string Usage = "usage: kpy info NAME";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        var (_, saved) = LoadCommand.SavedArgument(a.Positionals, Usage);
        var name = saved.Name;
        var meta = Unpacker.ReadMeta(saved);
        var o = Console.Out;
        o.WriteLine($"name:        {name}");
        o.WriteLine($"archive:     {saved.Path}");
        o.WriteLine($"size:        {Format.Bytes(saved.File.Length)}");
        if (meta is null)
        {
            o.WriteLine("format:      Python kslurm .tar.gz (no record; paths are fixed up from bin/activate on load)");
            return 0;
        }
        o.WriteLine($"saved:       {(meta.Saved is { } s ? Format.Date(s) : "?")}");
        o.WriteLine($"created:     {(meta.Created is { } c ? Format.Date(c) : "?")}");
        o.WriteLine($"python:      {meta.PythonVersion ?? "?"}");
        o.WriteLine($"interpreter: {meta.BaseInterpreter ?? "?"}");
        o.WriteLine($"modules:     {string.Join(' ', meta.Modules)}");
        o.WriteLine($"files:       {meta.Files?.ToString() ?? "?"}");
        o.WriteLine($"saved from:  {string.Join(", ", meta.OriginalPaths)}");
        o.WriteLine($"kpy:         {meta.KpyVersion ?? "?"} (format {meta.Format})");
        return 0;
    }
}
