using System.Reflection;

namespace Kslurm.Tests;

/// <summary>
/// The suite's own rule (tests/README.md): every test class says its tier, so `make check`
/// (`--filter Tier=Unit`) runs exactly the fast tests and no class silently drops out of all tiers.
/// </summary>
[Trait("Tier", "Unit")]
public class TierTests
{
    /// <summary>Unit: in-process, no root, no dist/, no cluster. Binary: the published binaries
    /// (fake Slurm where one is needed). Cluster: real Slurm, registries, Jupyter, browser.</summary>
    public static readonly string[] Tiers = ["Unit", "Binary", "Cluster"];

    static IEnumerable<Type> TestClasses() =>
        typeof(TierTests).Assembly.GetTypes().Where(t => t.IsClass && !t.IsAbstract && t.GetMethods().Any(IsTest));

    static bool IsTest(MethodInfo m) => m.GetCustomAttributes<FactAttribute>(inherit: true).Any();

    static IEnumerable<string> TierTraits(MemberInfo member) =>
        member.GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(TraitAttribute) && (string?)a.ConstructorArguments[0].Value == "Tier")
            .Select(a => (string)a.ConstructorArguments[1].Value!);

    public static string TierOf(Type t) => TierTraits(t).Single();

    [Fact]
    public void Every_test_class_has_exactly_one_known_tier()
    {
        var classes = TestClasses().ToList();
        Assert.True(classes.Count > 50, $"found only {classes.Count} test classes: is the reflection wrong?");
        var bad = classes
            .Select(t => (t, tiers: TierTraits(t).ToList()))
            .Where(x => x.tiers.Count != 1 || !Tiers.Contains(x.tiers[0]))
            .Select(x => $"{x.t.FullName}: [{string.Join(", ", x.tiers)}]")
            .ToList();
        Assert.True(bad.Count == 0,
            "give each test class one [Trait(\"Tier\", \"Unit|Binary|Cluster\")] (see tests/README.md):\n" + string.Join('\n', bad));
    }

    [Fact]
    public void Tiers_are_set_on_classes_not_on_methods()
    {
        // A method-level tier would put one class in two tiers; split the class instead.
        var bad = TestClasses().SelectMany(t => t.GetMethods().Where(m => TierTraits(m).Any()).Select(m => $"{t.FullName}.{m.Name}")).ToList();
        Assert.True(bad.Count == 0, "move these tiers to their class (or split the class):\n" + string.Join('\n', bad));
    }

    [Fact]
    public void Classes_that_share_the_slurm_node_are_in_the_cluster_tier()
    {
        var bad = TestClasses()
            .Where(t => t.GetCustomAttributesData().Any(a => a.AttributeType == typeof(CollectionAttribute)
                                                            && (string?)a.ConstructorArguments[0].Value == "slurm"))
            .Where(t => TierTraits(t).SingleOrDefault() != "Cluster")
            .Select(t => t.FullName)
            .ToList();
        Assert.True(bad.Count == 0, "these classes submit jobs ([Collection(\"slurm\")]) but are not [Trait(\"Tier\", \"Cluster\")]:\n" + string.Join('\n', bad));
    }
}
