namespace Kslurm.Tests.Kapp;

/// <summary>The image store resolves a URI or alias with one error, whichever tool asks (no registry needed).</summary>
public class KappStoreErrorTests
{
    [Fact]
    public void An_image_not_pulled_is_one_error_with_one_hint_from_every_tool()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "pipdir", Path.Combine(s.Dir, "pipdir")));
        var connection = Path.Combine(s.Dir, "kernel-1.json");
        File.WriteAllText(connection, "{}");
        string[][] namingAnImage =
        [
            ["kapp", "path", "ghost"],
            ["kapp", "run", "ghost"],
            ["kapp", "exec", "ghost", "true"],
            ["kapp", "image", "rm", "ghost"],
            ["kjupyter", "kernel", "install", "k", "--image", "ghost"],
            ["kjupyter", "kernel", "run", "--image", "ghost", "--", connection],
        ];
        foreach (var argv in namingAnImage)
        {
            var r = s.Tool(argv[0], argv[1..]);
            Expect.Error(r, argv[0], 1, "no pulled image called ghost");
            var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal($"{argv[0]}: hint: pull it first: kapp pull ghost (`kapp image list` shows what is pulled)", lines[^1]);
        }
    }
}
