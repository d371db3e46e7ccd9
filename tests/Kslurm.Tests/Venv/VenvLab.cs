using System.Text;
using Kslurm.Venv;

namespace Kslurm.Tests.Venv;

/// <summary>
/// Real venvs for the relocation tests: Debian's python3 (not whatever python3 is first on the
/// developer's PATH), pip kept offline and away from user or site configuration, and a helper that
/// moves a venv the way the archive extractor does (one RewriteFile/RewriteSymlink call per entry).
/// </summary>
public sealed class VenvLab : IDisposable
{
    public const string Python = "/usr/bin/python3";
    public const string WheelDir = "/usr/share/python-wheels";
    public const string CleanPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public VenvLab()
    {
        Box = new Sandbox();
        Box.Env["PATH"] = CleanPath;
        Box.Env["PIP_CONFIG_FILE"] = "/dev/null";
        Box.Env["PIP_NO_INDEX"] = "1";
        Box.Env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1";
        Box.Env["PIP_NO_CACHE_DIR"] = "1";
        Box.Env["PIP_ROOT_USER_ACTION"] = "ignore";
        Box.Env["VIRTUALENV_OVERRIDE_APP_DATA"] = Path.Combine(Box.Dir, "virtualenv-app-data");
    }

    public Sandbox Box { get; }
    public string Dir => Box.Dir;

    public static bool Has(string program) => File.Exists(program);
    public static string? Which(string name)
        => CleanPath.Split(':').Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    public Result Run(string program, params string[] args) => Box.Exec(program, args);

    public Result RunOk(string program, params string[] args)
    {
        var r = Box.Exec(program, args, timeoutMs: 300_000);
        Assert.True(r.Code == 0, $"{program} {string.Join(' ', args)}\n{r}");
        return r;
    }

    /// <summary>Runs a bash script (non-interactive, no rc files).</summary>
    public Result Bash(string script) => Box.Exec("/bin/bash", ["--noprofile", "--norc", "-c", script]);

    /// <summary>A shell-safe single-quoted word (the test paths never hold a single quote).</summary>
    public static string Q(string s) => "'" + s + "'";

    public enum Creator { Venv, Virtualenv }

    /// <summary>Creates a venv; with pip (and wheel, for builds without isolation) unless <paramref name="bare"/>.</summary>
    public void Create(Creator creator, string dir, bool bare = false, string? prompt = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(dir)!);
        var args = new List<string>();
        if (creator == Creator.Venv)
        {
            args.AddRange(["-m", "venv"]);
            if (bare) args.Add("--without-pip");
        }
        else
        {
            args.AddRange(["-m", "virtualenv", "--quiet"]);
            if (bare) args.Add("--no-seed");
        }
        if (prompt is not null) args.AddRange(["--prompt", prompt]);
        args.Add(dir);
        RunOk(Python, [.. args]);
        if (!bare && creator == Creator.Venv)
            PipInstall(dir, Directory.GetFiles(WheelDir, "wheel-*.whl").Single());
    }

    public void PipInstall(string venv, params string[] what)
        => RunOk(Path.Combine(venv, "bin", "pip"), ["install", "--quiet", "--no-index", "--no-build-isolation", .. what]);

    /// <summary>Writes a tiny setuptools project (pyproject.toml only) with one console script.</summary>
    public static void WriteProject(string dir, string name, bool srcLayout, string? script = null)
    {
        var module = name.Replace('-', '_');
        var pkg = srcLayout ? Path.Combine(dir, "src", module) : Path.Combine(dir, module);
        Directory.CreateDirectory(pkg);
        var sb = new StringBuilder();
        sb.Append("[build-system]\nrequires = [\"setuptools>=64\"]\nbuild-backend = \"setuptools.build_meta\"\n");
        sb.Append($"[project]\nname = \"{name}\"\nversion = \"0.1\"\n");
        if (script is not null)
            sb.Append($"[project.scripts]\n{script} = \"{module}:main\"\n");
        if (!srcLayout)
            sb.Append($"[tool.setuptools]\npackages = [\"{module}\"]\n");
        File.WriteAllText(Path.Combine(dir, "pyproject.toml"), sb.ToString());
        File.WriteAllText(Path.Combine(pkg, "__init__.py"),
            "import os, sys\n\ndef main():\n" +
            $"    print(\"{name}\", os.path.abspath(__file__), sys.prefix, sep=\"\\n\")\n");
    }

    /// <summary>
    /// Copies a venv to <paramref name="dst"/> the way the extractor will: entry by entry, through
    /// the relocation API, keeping modes and (for unchanged files) modification times, dropping
    /// refused links; then deletes the original so nothing can still point at it.
    /// </summary>
    public static List<string> Move(string src, string dst, VenvRelocation relocation)
    {
        var refused = new List<string>();
        Copy(src, dst, "", relocation, refused);
        Directory.Delete(src, recursive: true);
        return refused;
    }

    static void Copy(string srcDir, string dstDir, string rel, VenvRelocation relocation, List<string> refused)
    {
        Directory.CreateDirectory(dstDir);
        foreach (var entry in new DirectoryInfo(srcDir).EnumerateFileSystemInfos())
        {
            var r = rel.Length == 0 ? entry.Name : rel + "/" + entry.Name;
            var dst = Path.Combine(dstDir, entry.Name);
            if (entry.LinkTarget is { } target)
            {
                if (relocation.RewriteSymlink(r, target) is { } t)
                    File.CreateSymbolicLink(dst, t);
                else
                    refused.Add(r);
            }
            else if (entry is DirectoryInfo d)
                Copy(d.FullName, dst, r, relocation, refused);
            else
            {
                var bytes = File.ReadAllBytes(entry.FullName);
                var rewritten = relocation.RewriteFile(r, bytes);
                File.WriteAllBytes(dst, rewritten ?? bytes);
                File.SetUnixFileMode(dst, File.GetUnixFileMode(entry.FullName));
                if (rewritten is null)
                    File.SetLastWriteTimeUtc(dst, entry.LastWriteTimeUtc);
            }
        }
        File.SetUnixFileMode(dstDir, File.GetUnixFileMode(srcDir));
    }

    /// <summary>Text files (no NUL) under <paramref name="root"/> that still mention <paramref name="needle"/>.</summary>
    public static List<string> TextFilesMentioning(string root, string needle)
    {
        var hits = new List<string>();
        var n = Encoding.UTF8.GetBytes(needle);
        foreach (var f in Directory.EnumerateFiles(root, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = 0 }))
        {
            if (new FileInfo(f).LinkTarget is not null)
                continue;
            var b = File.ReadAllBytes(f);
            if (b.AsSpan().IndexOf((byte)0) < 0 && b.AsSpan().IndexOf(n) >= 0)
                hits.Add(Path.GetRelativePath(root, f));
        }
        return hits;
    }

    public void Dispose() => Box.Dispose();
}
