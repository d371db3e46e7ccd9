namespace Kslurm.Wheels;

/// <summary>
/// A wheel known by its file name (PEP 427): `{name}-{version}[-{build}]-{python}-{abi}-{platform}.whl`,
/// each tag part possibly a `.`-separated set (`py2.py3`, `manylinux_2_17_x86_64.manylinux2014_x86_64`).
/// </summary>
public sealed record WheelFile(string Path, string Name, string Version, string[] Pythons, string[] Abis, string[] Platforms)
{
    public string FileName => System.IO.Path.GetFileName(Path);

    /// <summary>The tag triples the file name stands for, as `py-abi-platform` strings.</summary>
    public IEnumerable<string> Tags
        => from p in Pythons from a in Abis from pl in Platforms select $"{p}-{a}-{pl}";

    /// <summary>Null when the name is not a wheel's.</summary>
    public static WheelFile? Parse(string path)
    {
        var file = System.IO.Path.GetFileName(path);
        if (!file.EndsWith(".whl", StringComparison.OrdinalIgnoreCase))
            return null;
        var parts = file[..^4].Split('-');
        if (parts.Length is not (5 or 6) || parts.Any(p => p.Length == 0))
            return null;
        return new WheelFile(path, parts[0], parts[1], parts[^3].Split('.'), parts[^2].Split('.'), parts[^1].Split('.'));
    }

    /// <summary>The wheels in a folder (pip reads find-links folders one level deep, so do we).</summary>
    public static List<WheelFile> InFolder(string dir)
    {
        try
        {
            return [.. Directory.EnumerateFiles(dir, "*.whl").Select(Parse).OfType<WheelFile>()];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
