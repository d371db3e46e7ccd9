using Kslurm.Files;

namespace Kslurm.Registry;

/// <summary>
/// Snakemake's --singularity-prefix names an image file md5(URI as written in the workflow) +
/// ".simg". We cannot know how a workflow spells the URI, so each pull links the spellings people
/// use: as typed, with docker:// in front, the canonical docker://REGISTRY/REPO:TAG, and for
/// Docker Hub also docker://ORG/REPO:TAG and (official images) docker://REPO:TAG.
/// </summary>
public static class SnakemakeNames
{
    public static IEnumerable<string> Spellings(string typed, ImageRef r)
    {
        var names = new List<string> { typed };
        var bare = typed.StartsWith("docker://", StringComparison.Ordinal) ? typed[9..] : typed;
        names.Add("docker://" + bare);
        names.Add("docker://" + r.Canonical);
        if (r.IsDockerHub)
        {
            var suffix = r.Tag is { } t ? ":" + t : "@" + r.Digest;
            names.Add("docker://" + r.Repository + suffix);
            if (r.Repository.StartsWith("library/", StringComparison.Ordinal))
                names.Add("docker://" + r.Repository[8..] + suffix);
        }
        return names.Distinct(StringComparer.Ordinal);
    }

    public static string FileName(string uri) => Md5.HashHex(uri) + ".simg";
}
