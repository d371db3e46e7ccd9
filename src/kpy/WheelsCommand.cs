using Kslurm.Cli;
using Kslurm.Config;
using Kslurm.Json;
using Kslurm.Wheels;

namespace Kslurm.Tools;

/// <summary>
/// `kpy wheels [PATTERN...] [--json]` (DRAC's avail_wheels): the wheels pip can install here
/// without an index, and whether each fits the active Python.
/// </summary>
static class WheelsCommand
{
    const string Usage = "usage: kpy wheels [PATTERN...] [--json]";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage, flags: ["--json"]);
        if (a.Help)
        {
            Console.Write(Usage + "\n\nPATTERN: a distribution name, * and ? allowed (numpy, 'torch*'); none lists every wheel.\n");
            return 0;
        }
        var houses = Wheelhouses.Find(Settings.Load("kpy").Get("pipdir"));
        var python = PythonTags.Of(PythonTags.ActiveExecutable());
        var wheels = WheelListing.List(houses, python, a.Positionals);
        if (a.Has("--json"))
        {
            Console.Out.Write(JsonText.Write(ToJson(python, houses, wheels)) + "\n");
            return 0;
        }
        Output.Note("kpy", $"for Python {python.Version} ({python.Executable}: {python.Interpreter}-{python.Abi}, linux_{python.Arch}"
            + (python.Glibc is { } g ? $", glibc {g.Major}.{g.Minor})" : ")"));
        foreach (var h in houses)
        {
            if (!h.Local)
                Output.Note("kpy", $"{h.Location} (from {h.Source}) is a web page: its wheels are not listed");
            else if (!h.Exists)
                Output.Note("kpy", $"{h.Location} (from {h.Source}) does not exist");
        }
        if (wheels.Count == 0)
        {
            var where = string.Join(", ", houses.Where(h => h.Exists).Select(h => h.Location));
            Output.Note("kpy", (a.Positionals.Count > 0 ? $"no wheel matches {string.Join(' ', a.Positionals)}" : "no wheels")
                + (where.Length > 0 ? $" in {where}" : ": no wheelhouse here (set pipdir, or pip's find-links)"));
            return 0;
        }
        var rows = new List<string[]> { new[] { "NAME", "VERSION", "FITS", "WHEELHOUSE" } };
        rows.AddRange(wheels.Select(w => new[] { w.Wheel.Name, w.Wheel.Version, w.WhyNot is { } why ? "no: " + why : "yes", w.House.Location }));
        Console.Write(Format.Table(rows));
        return 0;
    }

    static JsonObject ToJson(PythonTags python, List<Wheelhouse> houses, List<ListedWheel> wheels)
    {
        var doc = new JsonObject
        {
            ["python"] = new JsonObject
            {
                ["executable"] = python.Executable,
                ["version"] = python.Version,
                ["interpreter"] = python.Interpreter,
                ["abi"] = python.Abi,
                ["platform"] = $"linux_{python.Arch}",
                ["glibc"] = python.Glibc is { } g ? $"{g.Major}.{g.Minor}" : null,
            },
            ["wheelhouses"] = houses.Select(h => new JsonObject
            {
                ["location"] = h.Location,
                ["source"] = h.Source,
                ["local"] = h.Local,
                ["exists"] = h.Exists,
            }).ToList(),
            ["wheels"] = wheels.Select(w => new JsonObject
            {
                ["name"] = w.Wheel.Name,
                ["version"] = w.Wheel.Version,
                ["file"] = w.Wheel.Path,
                ["wheelhouse"] = w.House.Location,
                ["tags"] = w.Wheel.Tags.ToList(),
                ["fits"] = w.Fits,
                ["why_not"] = w.WhyNot,
            }).ToList(),
        };
        return doc;
    }
}
