using Kslurm.Files;
using System.Diagnostics;
using System.Text;

namespace Kslurm.Tests.Files;

/// <summary>
/// AtomicFile (src/Common/Files/AtomicFile.cs): a reader sees the old content or the new, never a
/// mix; a failed write leaves the old file as it was and no temporary file behind.
/// </summary>
[Trait("Tier", "Unit")]
public sealed class AtomicFileTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("kslurm-atomic-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    string[] Leftovers() => Directory.GetFiles(_dir, ".*.tmp-*");

    [Fact]
    public void A_new_file_gets_its_content_and_a_0644_mode_in_a_folder_made_for_it()
    {
        var path = Path.Combine(_dir, "new", "deeper", "record.json");
        AtomicFile.WriteAllText(path, "ünï\n");
        Assert.Equal("ünï\n"u8.ToArray(), File.ReadAllBytes(path)); // UTF-8 without a BOM
        Assert.Equal((UnixFileMode)0b110_100_100, File.GetUnixFileMode(path));
    }

    [Fact]
    public void A_replacement_keeps_the_old_files_mode_unless_told_otherwise()
    {
        var path = Path.Combine(_dir, "secret");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        AtomicFile.WriteAllText(path, "new");
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));

        AtomicFile.WriteAllText(path, "script", (UnixFileMode)0b111_000_000);
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(path));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void A_writer_that_fails_halfway_leaves_the_old_file_and_no_temporary_file()
    {
        var path = Path.Combine(_dir, "config.toml");
        var old = "account = \"def-lab\"\n# a comment the user wrote\n";
        File.WriteAllText(path, old);
        var e = Assert.Throws<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write(Encoding.UTF8.GetBytes("account = \"half"));
            throw new IOException("No space left on device");
        }));
        Assert.Equal("No space left on device", e.Message);
        Assert.Equal(old, File.ReadAllText(path));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void A_target_that_cannot_be_replaced_leaves_it_whole_and_no_temporary_file()
    {
        // a folder where the file should be: the rename fails after the temp file was written
        var path = Path.Combine(_dir, "taken");
        Directory.CreateDirectory(path);
        File.WriteAllText(Path.Combine(path, "inside"), "kept");
        Assert.ThrowsAny<IOException>(() => AtomicFile.WriteAllText(path, "new"));
        Assert.Equal("kept", File.ReadAllText(Path.Combine(path, "inside")));
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void The_temporary_file_is_hidden_beside_the_target_and_unique()
    {
        var target = Path.Combine(_dir, "state.json");
        var a = AtomicFile.TempBeside(target);
        var b = AtomicFile.TempBeside(target);
        Assert.Equal(_dir, Path.GetDirectoryName(a)); // same filesystem, so rename is atomic
        Assert.StartsWith($".state.json.tmp-{Environment.ProcessId}-", Path.GetFileName(a));
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void A_file_another_program_finished_replaces_the_target_and_its_temp_name_goes()
    {
        var path = Path.Combine(_dir, "venv.sqfs");
        File.WriteAllText(path, "old");
        var temp = AtomicFile.TempBeside(path);
        using (var writer = Process.Start("sh", ["-c", $"printf new > '{temp}'"])) // as mksquashfs writes an image
        {
            writer.WaitForExit();
            Assert.Equal(0, writer.ExitCode);
        }
        Assert.True(AtomicFile.Publish(temp, path));
        Assert.Equal("new", File.ReadAllText(path));
        Assert.Empty(Leftovers());

        // nothing to publish: the target stays
        Assert.False(AtomicFile.Publish(AtomicFile.TempBeside(path), path));
        Assert.Equal("new", File.ReadAllText(path));
    }

    [Fact]
    public void A_reader_in_another_process_never_sees_a_mix_or_an_empty_file()
    {
        var path = Path.Combine(_dir, "watched");
        string A = new('a', 256 * 1024), B = new('b', 256 * 1024);
        AtomicFile.WriteAllText(path, A);
        // python reads the file as fast as it can and reports anything but a whole A or a whole B
        var reader = Process.Start(new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { "-c", """
                import sys, time
                path, n = sys.argv[1], 0
                end = time.time() + 60
                while time.time() < end:
                    data = open(path, 'rb').read()
                    n += 1
                    if len(data) != 262144 or data.count(data[:1]) != len(data):
                        print(f'torn read: {len(data)} bytes starting {data[:1]!r}', flush=True); sys.exit(1)
                    if sys.stdin in __import__('select').select([sys.stdin], [], [], 0)[0]:
                        break
                print(n, flush=True)
                """, path },
            RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false,
        })!;
        for (var i = 0; i < 300 && !reader.HasExited; i++)
            AtomicFile.WriteAllText(path, i % 2 == 0 ? B : A);
        reader.StandardInput.WriteLine("stop");
        var said = reader.StandardOutput.ReadToEnd().Trim();
        reader.WaitForExit();
        Assert.True(reader.ExitCode == 0 && long.Parse(said) > 10, $"reader: exit {reader.ExitCode}, said '{said}'");
        Assert.Empty(Leftovers());
    }

    [Fact]
    public void Concurrent_writers_leave_one_whole_version()
    {
        var path = Path.Combine(_dir, "shared.txt");
        var versions = Enumerable.Range(0, 8).Select(i => new string((char)('a' + i), 100_000)).ToArray();
        Parallel.For(0, 64, new ParallelOptions { MaxDegreeOfParallelism = 8 },
            i => AtomicFile.WriteAllText(path, versions[i % versions.Length]));
        Assert.Contains(File.ReadAllText(path), versions);
        Assert.Empty(Leftovers());
    }
}

/// <summary>
/// The durability half of AtomicFile, seen from outside with strace on a real write (`kslurm config`
/// saves through it): the temp file is fsynced before the rename, and the folder after it.
/// </summary>
[Trait("Tier", "Binary")]
public sealed class AtomicFileSyscallTests
{
    [Fact]
    public void Data_is_synced_before_the_rename_and_the_folder_after_it()
    {
        using var s = new Sandbox();
        Expect.Ok(s.Tool("kslurm", "config", "account", "def-lab"));
        var trace = Path.Combine(s.Dir, "trace");
        var r = s.Exec("strace", ["-f", "-qq", "-o", trace, "-e", "trace=openat,fsync,fdatasync,rename,renameat,renameat2,close",
            Repo.Tool("kslurm"), "config", "account", "rrg-lab"]);
        Expect.Ok(r);
        var lines = File.ReadAllLines(trace).Select(l => l[(l.IndexOf(' ') + 1)..].TrimStart()).ToList(); // drop the pid

        var config = s.UserConfig;
        var dir = Path.GetDirectoryName(config)!;
        var renameAt = lines.FindIndex(l => l.StartsWith("rename") && l.Contains($"/.config.toml.tmp-") && l.Contains($"\"{config}\""));
        Assert.True(renameAt > 0, "no rename of a temp file onto config.toml:\n" + string.Join('\n', lines));
        var tmp = System.Text.RegularExpressions.Regex.Match(lines[renameAt], "\"([^\"]*/\\.config\\.toml\\.tmp-[^\"]*)\"").Groups[1].Value;

        // the temp file's descriptor: opened with O_CREAT|O_EXCL, fsynced, closed, all before the rename
        var openAt = lines.FindIndex(l => l.StartsWith("openat(") && l.Contains($"\"{tmp}\"") && l.Contains("O_EXCL"));
        Assert.True(openAt >= 0 && openAt < renameAt, $"temp file not created before the rename:\n{string.Join('\n', lines)}");
        var fd = lines[openAt][(lines[openAt].LastIndexOf('=') + 1)..].Trim();
        var synced = lines.FindIndex(openAt, l => l.StartsWith($"fsync({fd})") || l.StartsWith($"fdatasync({fd})"));
        Assert.True(synced > openAt && synced < renameAt, $"temp file (fd {fd}) not fsynced before the rename:\n{string.Join('\n', lines)}");

        // then the folder, so the rename itself survives a crash
        var dirOpen = lines.FindIndex(renameAt, l => l.StartsWith("openat(") && l.Contains($"\"{dir}\"") && l.Contains("O_DIRECTORY"));
        Assert.True(dirOpen > renameAt, $"folder not opened after the rename:\n{string.Join('\n', lines)}");
        var dirFd = lines[dirOpen][(lines[dirOpen].LastIndexOf('=') + 1)..].Trim();
        Assert.Contains(lines.Skip(dirOpen), l => l.StartsWith($"fsync({dirFd})"));
        Assert.Contains("rrg-lab", File.ReadAllText(config));
    }
}
