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

    public static string WriteTo(string dir, string version = "1.0")
    {
        Directory.CreateDirectory(dir);
        var path = Path.Combine(dir, $"{Name}-{version}-py3-none-any.whl");
        var files = new Dictionary<string, string>
        {
            [$"{Name}/__init__.py"] = "import sys\n\ndef main():\n    print('prefix=' + sys.prefix)\n    print('module=' + __file__)\n    print('args=' + repr(sys.argv[1:]))\n",
            [$"{Name}-{version}.dist-info/METADATA"] = $"Metadata-Version: 2.1\nName: {Name}\nVersion: {version}\nSummary: kslurm test package\n",
            [$"{Name}-{version}.dist-info/WHEEL"] = "Wheel-Version: 1.0\nGenerator: kslurm-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
            [$"{Name}-{version}.dist-info/entry_points.txt"] = $"[console_scripts]\n{Script} = {Name}:main\n",
            [$"{Name}-{version}.dist-info/top_level.txt"] = $"{Name}\n",
        };
        var record = new StringBuilder();
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (var (name, text) in files)
            {
                var bytes = Encoding.UTF8.GetBytes(text);
                using (var s = zip.CreateEntry(name).Open())
                    s.Write(bytes);
                var hash = Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
                record.Append($"{name},sha256={hash},{bytes.Length}\n");
            }
            record.Append($"{Name}-{version}.dist-info/RECORD,,\n");
            using var r = zip.CreateEntry($"{Name}-{version}.dist-info/RECORD").Open();
            r.Write(Encoding.UTF8.GetBytes(record.ToString()));
        }
        return path;
    }
}
