using Kslurm.Cli;

namespace Kslurm.Tools;

/// <summary>`kapp alias list` and `kapp alias rm ALIAS`.</summary>
static class AliasCommand
{
    const string Usage = "usage: kapp alias list | kapp alias rm ALIAS";

    public static int Run(string[] argv)
    {
        var a = Args.Parse(argv, Usage);
        var store = KappMain.Store();
        switch (a.Positionals)
        {
            case ["list"]:
                foreach (var (alias, uri) in store.AliasList())
                    Console.WriteLine(Output.Safe($"{alias} -> {(uri is not null && Path.Exists(uri) ? store.DisplayUri(uri) : "(dangling)")}"));
                return 0;
            case ["rm", var alias]:
                var path = store.AliasPath(alias);
                if (new FileInfo(path).LinkTarget is null)
                    throw new KslurmException($"no alias called {alias}", "see `kapp alias list`");
                File.Delete(path);
                return 0;
            case []:
                throw new UsageException("missing alias command", Usage);
            default:
                throw new UsageException($"unexpected arguments '{string.Join(' ', a.Positionals)}'", Usage);
        }
    }
}
