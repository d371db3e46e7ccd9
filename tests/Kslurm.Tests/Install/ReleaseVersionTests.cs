using Kslurm.Install;

namespace Kslurm.Tests.Install;

/// <summary>Release version labels, as self update compares and checks them.</summary>
[Trait("Tier", "Unit")]
public sealed class ReleaseVersionTests
{
    [Theory]
    [InlineData("0.7.1", "0.7.0", 1)]
    [InlineData("0.10.0", "0.9.9", 1)]     // numbers, not text
    [InlineData("1.0.0", "1.0", 0)]
    [InlineData("1.0.0-rc1", "1.0.0", -1)] // a pre-release comes before its release
    [InlineData("1.0.0-rc2", "1.0.0-rc1", 1)]
    [InlineData("1.0.0+abc", "1.0.0", 0)]  // build metadata is ignored
    public void Versions_compare_part_by_part(string a, string b, int expected)
    {
        Assert.Equal(expected, ReleaseVersion.Compare(a, b));
        Assert.Equal(-expected, ReleaseVersion.Compare(b, a));
    }

    [Theory]
    [InlineData("0.7.0", true)]
    [InlineData("1.0.0-rc1+g1", true)]
    [InlineData("../x", false)]
    [InlineData("1 0", false)]
    [InlineData("", false)]
    public void Only_plain_version_labels_reach_a_url(string v, bool ok) => Assert.Equal(ok, ReleaseVersion.IsValid(v));
}
