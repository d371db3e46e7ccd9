using Kslurm.Processes;

namespace Kslurm.Jupyter;

/// <summary>
/// A Jupyter interface kjupyter can start, and the choice among those installed. The default is
/// the first one a person can work in: JupyterLab, Notebook 7, the classic Notebook 6, nbclassic.
/// A bare Jupyter Server answers the API but shows no interface, so it runs only when asked.
/// </summary>
public sealed record JupyterFrontend(string App, string Name, string Program, string UrlPath, string AppClass)
{
    // App is what the session record keeps (and `kjupyter list` shows); Program is found on PATH.
    static readonly JupyterFrontend Lab = new("lab", "JupyterLab", "jupyter-lab", "/lab", "ServerApp");
    static readonly JupyterFrontend Notebook7 = new("notebook", "Jupyter Notebook 7", "jupyter-notebook", "/tree", "ServerApp");
    static readonly JupyterFrontend Notebook6 = new("notebook6", "Jupyter Notebook 6 (classic)", "jupyter-notebook", "/tree", "NotebookApp");
    static readonly JupyterFrontend NbClassic = new("nbclassic", "Jupyter nbclassic", "jupyter-nbclassic", "/tree", "ServerApp");
    static readonly JupyterFrontend Server = new("server", "Jupyter Server (no web interface)", "jupyter-server", "/", "ServerApp");

    /// <summary>The program's absolute path once found.</summary>
    public string Path { get; init; } = "";

    /// <summary>How an app recorded in a session is named to a person (older records: the bare key).</summary>
    public static string NameOf(string app) => app switch
    {
        "lab" => Lab.Name,
        "notebook" => Notebook7.Name,
        "notebook6" => Notebook6.Name,
        "nbclassic" => NbClassic.Name,
        "server" => Server.Name,
        _ => app,
    };

    /// <summary>
    /// The frontend to start for `--lab`, `--notebook`, `--server` or nothing (wanted = null), among
    /// the programs in `bin` (a venv's own bin/) or on PATH. Fails naming what is installed instead.
    /// </summary>
    public static JupyterFrontend Choose(string? wanted, string? bin, string? venv)
    {
        string[] apps = wanted switch
        {
            "--lab" => ["lab"],
            "--notebook" => ["notebook", "notebook6", "nbclassic"],
            "--server" => ["server"],
            _ => ["lab", "notebook", "notebook6", "nbclassic"],
        };
        // lazily, in the order of preference: the usual case looks at one or two programs only
        if (Installed(bin).FirstOrDefault(f => apps.Contains(f.App)) is { } chosen)
            return chosen;

        var installed = Installed(bin).ToList();
        var where = venv is { Length: > 0 } ? $"in venv {venv}" : "in this environment";
        var asked = wanted switch { "--lab" => "JupyterLab", "--notebook" => "Notebook", "--server" => "Jupyter Server", _ => "Jupyter interface" };
        var programs = string.Join(", ", All.Where(f => apps.Contains(f.App)).Select(f => f.Program).Distinct());
        var package = wanted switch { "--notebook" => "notebook", "--server" => "jupyter-server", _ => "jupyterlab" };
        var install = venv is { Length: > 0 }
            ? $"install it into the venv (compute nodes have no internet): kpy load {venv}; pip install {package}; kpy save -f {venv}"
            : $"load a module that provides it, or use --venv NAME with a venv that has {package}";
        if (installed.Count == 0)
            throw new KslurmException($"no Jupyter {where} (looked for {programs})", install);
        var other = installed[0];
        var flag = other.App switch { "lab" => "--lab", "server" => "--server", _ => "--notebook" };
        throw new KslurmException(
            $"no {asked} {where} (looked for {programs}); installed: {string.Join(", ", installed.Select(i => i.Name))}",
            $"start {other.Name} with {flag}, or {install}");
    }

    static readonly JupyterFrontend[] All = [Lab, Notebook7, Notebook6, NbClassic, Server];

    /// <summary>The frontends whose program is there, in the order of preference.</summary>
    static IEnumerable<JupyterFrontend> Installed(string? bin)
    {
        foreach (var f in new[] { Lab, Notebook7, NbClassic, Server })
            if (ChildProcess.Which(f.Program, bin) is { } path)
                yield return (f == Notebook7 && NotebookMajor(path) < 7 ? Notebook6 : f) with { Path = path };
    }

    /// <summary>
    /// Notebook 6 (NotebookApp) or 7 (on Jupyter Server): they share the program's name but not
    /// their options. The script usually tells without starting Python: pip's and conda's name the
    /// module (notebook.app is 7, notebook.notebookapp 6), Debian's the version ('notebook==6.4.12').
    /// Anything else (a wrapper, a binary) is asked for --version, which costs a Python start.
    /// </summary>
    static int NotebookMajor(string program)
    {
        try
        {
            var head = new char[4096];
            int n;
            using (var reader = new StreamReader(program))
                n = reader.ReadBlock(head, 0, head.Length);
            var text = new string(head, 0, n);
            if (text.Contains("notebook.app import", StringComparison.Ordinal) || text.Contains("notebook.app:", StringComparison.Ordinal))
                return 7;
            if (text.Contains("notebook.notebookapp", StringComparison.Ordinal))
                return 6;
            var pin = text.IndexOf("'notebook==", StringComparison.Ordinal);
            var digits = pin < 0 ? "" : new string([.. text.Skip(pin + 11).TakeWhile(char.IsAsciiDigit)]);
            if (digits.Length > 0)
                return int.Parse(digits, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        var r = ChildProcess.Capture([program, "--version"]);
        var version = r.Stdout.Trim().Split('\n')[^1].Trim();
        var major = version.Split('.')[0];
        // an unreadable answer: Notebook 7 is what pip installs today
        return r.Ok && int.TryParse(major, out var v) ? v : 7;
    }
}
