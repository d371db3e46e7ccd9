using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace Kslurm.Tests;

/// <summary>
/// A tiny wheel written by hand (no build tools, no network): package `kslurmdemo` with a console
/// script `kslurm-demo` that prints where it runs from. pip installs it like any other wheel.
/// </summary>
public static class DemoWheel
{
    public const string Name = "kslurmdemo";
    public const string Script = "kslurm-demo";

    /// <param name="name">another package of the same shape (a module printing where it runs; the
    /// console script only for the demo itself); names with '-' are stored with '_'.</param>
    /// <param name="tag">the wheel's compatibility tag (python-abi-platform), as in its file name.</param>
    public static string WriteTo(string dir, string version = "1.0", string name = Name, string tag = "py3-none-any", string? requires = null)
    {
        Directory.CreateDirectory(dir);
        var module = name.Replace('-', '_');
        var path = Path.Combine(dir, $"{module}-{version}-{tag}.whl");
        var files = new Dictionary<string, string>
        {
            [$"{module}/__init__.py"] = "import sys\n\ndef main():\n    print('prefix=' + sys.prefix)\n    print('module=' + __file__)\n    print('args=' + repr(sys.argv[1:]))\n",
            [$"{module}-{version}.dist-info/METADATA"] = $"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: kslurm test package\n"
                + (requires is null ? "" : $"Requires-Dist: {requires}\n"),
            [$"{module}-{version}.dist-info/WHEEL"] = $"Wheel-Version: 1.0\nGenerator: kslurm-tests\nRoot-Is-Purelib: true\nTag: {tag}\n",
            [$"{module}-{version}.dist-info/top_level.txt"] = $"{module}\n",
        };
        if (name == Name)
            files[$"{module}-{version}.dist-info/entry_points.txt"] = $"[console_scripts]\n{Script} = {Name}:main\n";
        var record = new StringBuilder();
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (entry, text) in files)
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                using (var s = zip.CreateEntry(entry).Open())
                    s.Write(bytes);
                var hash = Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                record.Append($"{entry},sha256={hash},{bytes.Length}\n");
            }
            record.Append($"{module}-{version}.dist-info/RECORD,,\n");
            using var r = zip.CreateEntry($"{module}-{version}.dist-info/RECORD").Open();
            r.Write(Encoding.UTF8.GetBytes(record.ToString()));
        }
        return path;
    }
}
