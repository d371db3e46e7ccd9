using Kslurm.Config;
using Kslurm.Host;
using Kslurm.Jupyter;
using Kslurm.Registry;
using Kslurm.Slurm;
using Kslurm.Venv;

namespace Kslurm.Completion;

/// <summary>
/// The names completion offers, read from local files only (settings, pipdir, the state folder):
/// no Slurm command, no network, so a Tab press on a slow login node stays instant. Anything
/// unreadable (no pipdir, a broken settings file) gives no names rather than an error.
/// </summary>
public static class StoreNames
{
    public static IEnumerable<string> List(NameKind kind, IEnumerable<string> knownKeys)
    {
        try
        {
            return kind switch
            {
                NameKind.Templates => JobTemplates.All(Settings.Load()).Select(t => t.Name).Order(StringComparer.Ordinal).ToList(),
                NameKind.Venvs => Settings.Load() is var s && s.Get("pipdir") is not null ? new VenvStore(s, Node.Current).Saved().Select(v => v.Name).ToList() : [],
                NameKind.LiveVenvs => LiveVenvs(),
                NameKind.Images => Pipdir() is { } p ? Images(new ImageStore(p)) : [],
                NameKind.Aliases => Pipdir() is { } p ? new ImageStore(p).AliasList().Select(a => a.Alias).ToList() : [],
                NameKind.Jobs => JupyterSession.Known(),
                NameKind.Keys => knownKeys.Concat(Settings.Load().List().Select(e => e.Key)).Distinct().Order(StringComparer.Ordinal).ToList(),
                _ => [],
            };
        }
        catch (Exception e) when (e is KslurmException or IOException or UnauthorizedAccessException or FormatException)
        {
            return [];
        }
    }

    static string? Pipdir() => Settings.Load().Get("pipdir");

    static List<string> Images(ImageStore store)
        => [.. store.List().Select(i => i.Uri), .. store.AliasList().Select(a => a.Alias)];

    /// <summary>kpy activate's names: the folders of VenvStore.LiveRoot, without creating it.</summary>
    static List<string> LiveVenvs()
    {
        var root = Node.Current.ScratchDir is { } scratch
            ? Path.Combine(scratch, "kpy")
            : Path.Combine(Environment.GetEnvironmentVariable("TMPDIR") is { Length: > 0 } t ? t : "/tmp", $"kpy-{Environment.UserName}");
        return Directory.Exists(root)
            ? [.. Directory.EnumerateDirectories(root).Where(d => File.Exists(Path.Combine(d, "pyvenv.cfg")))
                .Select(d => Path.GetFileName(d)).Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)]
            : [];
    }
}
