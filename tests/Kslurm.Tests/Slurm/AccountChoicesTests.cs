using Kslurm.Slurm;

namespace Kslurm.Tests.Slurm;

[Trait("Tier", "Unit")]
public class AccountChoicesTests
{
    [Fact]
    public void Suffixed_accounts_split_into_cpu_and_gpu_by_base_name()
    {
        var c = AccountChoices.From([
            new SlurmAccount("def-lab_cpu", 0.5), new SlurmAccount("rrg-lab_cpu", 2.0),
            new SlurmAccount("def-lab_gpu", 1.0)]);
        Assert.True(c.Suffixed);
        Assert.Equal(["rrg-lab", "def-lab"], c.Cpu.Select(a => a.Name)); // best LevelFS first
        Assert.Equal(["def-lab"], c.Gpu.Select(a => a.Name));
    }

    [Fact]
    public void Plain_accounts_serve_both_kinds()
    {
        var c = AccountChoices.From([new SlurmAccount("def-lab", null), new SlurmAccount("rrg-lab", double.PositiveInfinity)]);
        Assert.False(c.Suffixed);
        Assert.Equal(["rrg-lab", "def-lab"], c.Cpu.Select(a => a.Name));
        Assert.Equal(c.Cpu, c.Gpu);
        Assert.Equal("inf", c.Cpu[0].LevelText);
        Assert.Equal("?", c.Cpu[1].LevelText);
    }

    [Fact]
    public void Mixed_accounts_offer_plain_ones_for_both()
    {
        var c = AccountChoices.From([new SlurmAccount("def-lab", 1), new SlurmAccount("def-lab_gpu", 3)]);
        Assert.Equal(["def-lab"], c.Cpu.Select(a => a.Name));
        Assert.Equal(["def-lab"], c.Gpu.Select(a => a.Name)); // one entry per name, the better standing kept first
    }
}
