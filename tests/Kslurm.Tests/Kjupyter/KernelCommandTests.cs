using Kslurm.Json;

namespace Kslurm.Tests.Kjupyter;

/// <summary>`kjupyter kernel install|list|rm|run` as commands: the kernelspec written, where, refusals.</summary>
[Trait("Tier", "Binary")]
public sealed class KernelCommandTests : IDisposable
{
    readonly KernelSandbox _k = new();

    public void Dispose() => _k.Dispose();

    string Conda(string name)
    {
        var prefix = _k.MakeVenv(Path.Combine(_k.S.Dir, "conda", "envs", name));
        Directory.CreateDirectory(Path.Combine(prefix, "conda-meta"));
        File.WriteAllText(Path.Combine(prefix, "conda-meta", "history"), "");
        return prefix;
    }

    [Fact]
    public void Install_writes_a_kernelspec_that_calls_kjupyter_kernel_run()
    {
        var r = _k.Kernel("install", "Sys-Py", "--python", KernelSandbox.SystemPython);
        Expect.Ok(r);
        Assert.Equal($"installed kernel sys-py (Python ({KernelSandbox.SystemPython})) in ~/.local/share/jupyter/kernels/sys-py\n", r.Stdout);
        var spec = _k.Spec("sys-py"); // Jupyter's names are lower case
        Assert.Equal([Repo.Tool("kjupyter"), "kernel", "run", "--python", KernelSandbox.SystemPython, "--", "{connection_file}"],
            spec.Array("argv")!.Cast<string>().ToArray());
        Assert.Equal("python", spec.String("language"));
        var meta = ((JsonObject)spec["metadata"]!).Object("kslurm")!;
        Assert.Equal("python", meta.String("mode"));
        Assert.Equal(KernelSandbox.SystemPython, meta.String("target"));
        Assert.Equal($"kjupyter {Repo.Version}", meta.String("installed_by"));
        Assert.Equal(["sys-py"], Directory.GetFileSystemEntries(_k.UserKernels).Select(Path.GetFileName)); // no temp files left

        Expect.Ok(_k.Kernel("install", "mods", "--module", "gcc/12", "--module=python/3.11", "--purge", "--no-check", "--display-name", "Site Python"));
        var mods = _k.Spec("mods");
        Assert.Equal([Repo.Tool("kjupyter"), "kernel", "run", "--purge", "--module", "gcc/12", "--module", "python/3.11", "--", "{connection_file}"],
            mods.Array("argv")!.Cast<string>().ToArray());
        Assert.Equal("Site Python", mods.String("display_name"));
        var mmeta = ((JsonObject)mods["metadata"]!).Object("kslurm")!;
        Assert.Equal(["gcc/12", "python/3.11"], mmeta.Array("modules")!.Cast<string>().ToArray());
        Assert.Equal(true, mmeta["purge"]);
    }

    [Fact]
    public void Install_goes_where_asked_and_says_when_Jupyter_would_not_look_there()
    {
        var data = Path.Combine(_k.S.Dir, "xdg data");
        Expect.Ok(_k.S.Exec(Repo.Tool("kjupyter"), ["kernel", "install", "a", "--python", KernelSandbox.SystemPython],
            extraEnv: new Dictionary<string, string?> { ["XDG_DATA_HOME"] = data }));
        Assert.True(File.Exists(Path.Combine(data, "jupyter", "kernels", "a", "kernel.json")));
        Expect.Ok(_k.S.Exec(Repo.Tool("kjupyter"), ["kernel", "install", "b", "--python", KernelSandbox.SystemPython],
            extraEnv: new Dictionary<string, string?> { ["JUPYTER_DATA_DIR"] = Path.Combine(_k.S.Dir, "jdd") }));
        Assert.True(File.Exists(Path.Combine(_k.S.Dir, "jdd", "kernels", "b", "kernel.json")));

        var prefix = Path.Combine(_k.S.Dir, "site");
        var r = _k.Kernel("install", "c", "--python", KernelSandbox.SystemPython, "--prefix", prefix);
        Expect.Ok(r);
        Assert.True(File.Exists(Path.Combine(prefix, "share", "jupyter", "kernels", "c", "kernel.json")));
        Assert.Contains($"kjupyter: warning: Jupyter does not look in {prefix}/share/jupyter/kernels: add {prefix}/share/jupyter to JUPYTER_PATH", r.Stderr);

        _k.S.Env["JUPYTER_PATH"] = Path.Combine(prefix, "share", "jupyter");
        Assert.DoesNotContain("warning", _k.Kernel("install", "d", "--python", KernelSandbox.SystemPython, "--prefix", prefix).Stderr);
        // JUPYTER_PATH comes before the user folder: a kernel of the same name there wins
        var shadowed = _k.Kernel("install", "c", "--python", KernelSandbox.SystemPython);
        Expect.Ok(shadowed);
        Assert.Contains($"Jupyter will use the kernel c in {prefix}/share/jupyter/kernels instead of this one", shadowed.Stderr);
    }

    [Fact]
    public void An_existing_name_is_refused_unless_forced()
    {
        _k.Install("k", "--python", KernelSandbox.SystemPython);
        Expect.Error(_k.Kernel("install", "k", "--python", KernelSandbox.SystemPython), "kjupyter", 1, "a kernel called k exists already");
        var prefix = Conda("ana");
        _k.Install("k", "--conda", prefix, "--force");
        Assert.Equal("conda", ((JsonObject)_k.Spec("k")["metadata"]!).Object("kslurm")!.String("mode"));

        // someone else's kernel: refused, named as such; --force replaces the whole folder
        var foreign = Directory.CreateDirectory(Path.Combine(_k.UserKernels, "other")).FullName;
        File.WriteAllText(Path.Combine(foreign, "kernel.json"), """{"argv": ["python3", "-m", "ipykernel_launcher", "-f", "{connection_file}"], "display_name": "Other", "language": "python"}""");
        File.WriteAllText(Path.Combine(foreign, "logo-64x64.png"), "x");
        Expect.Error(_k.Kernel("install", "other", "--python", KernelSandbox.SystemPython), "kjupyter", 1, "not installed by kjupyter");
        var r = _k.Kernel("install", "other", "--python", KernelSandbox.SystemPython, "--force");
        Expect.Ok(r);
        Assert.Contains("it replaced a kernel other that kjupyter had not installed", r.Stderr);
        Assert.Equal(["kernel.json"], Directory.GetFileSystemEntries(foreign).Select(Path.GetFileName));
        Assert.Equal(["k", "other"], Directory.GetFileSystemEntries(_k.UserKernels).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void List_shows_our_kernels_with_mode_target_status_and_location()
    {
        var prefix = Conda("ana");
        _k.Install("ana", "--conda", prefix);
        _k.Install("sys", "--python", KernelSandbox.SystemPython);
        _k.Install("mods", "--module", "gcc", "--module", "python", "--purge", "--no-check");
        _k.Install("img", "--image", "docker://ubuntu:24.04", "--bind", "/scratch", "--no-check");
        var foreign = Directory.CreateDirectory(Path.Combine(_k.UserKernels, "foreign")).FullName;
        File.WriteAllText(Path.Combine(foreign, "kernel.json"), """{"argv": ["python3"], "display_name": "F", "language": "python"}""");
        Directory.Delete(Path.Combine(prefix, "conda-meta"), recursive: true); // the env went away

        var r = _k.Kernel("list");
        Expect.Ok(r);
        var lines = r.Stdout.TrimEnd().Split('\n');
        Assert.Matches(@"^NAME\s+MODE\s+TARGET\s+STATUS\s+LOCATION$", lines[0]);
        Assert.Equal(5, lines.Length); // header + ours; the foreign kernel is not listed
        Assert.Matches($@"^ana\s+conda\s+{prefix}\s+broken: env gone\s+~/.local/share/jupyter/kernels/ana$", lines[1]);
        Assert.Matches(@"^img\s+image\s+docker://ubuntu:24.04 \(bind /scratch\)\s+broken: no pulled image called docker://ubuntu:24.04\s+~/", lines[2]);
        Assert.Matches(@"^mods\s+module \(purge\)\s+gcc python\s+ok\s+~/", lines[3]);
        Assert.Matches($@"^sys\s+python\s+{KernelSandbox.SystemPython}\s+ok\s+~/", lines[4]);

        var listed = _k.Kernel("list", "--json").Stdout;
        JsonSchemaCheck.Valid("docs/schema/kernel-list.schema.json", listed);
        var json = (List<object?>)JsonText.Parse(listed)!;
        var mods = json.Cast<JsonObject>().Single(o => o.String("name") == "mods");
        Assert.Equal("module", mods.String("mode"));
        Assert.Equal(["gcc", "python"], mods.Array("modules")!.Cast<string>().ToArray());
        Assert.Equal(Path.Combine(_k.UserKernels, "mods"), mods.String("dir"));
    }

    [Fact]
    public void List_marks_a_kernel_hidden_by_one_of_the_same_name_earlier_in_the_path()
    {
        var first = Path.Combine(_k.S.Dir, "first");
        _k.S.Env["JUPYTER_PATH"] = first;
        _k.Install("dup", "--python", KernelSandbox.SystemPython, "--prefix", Path.Combine(_k.S.Dir, "unused")); // not searched
        var dir = Directory.CreateDirectory(Path.Combine(first, "kernels", "dup")).FullName;
        File.WriteAllText(Path.Combine(dir, "kernel.json"), """{"argv": ["x"], "display_name": "D", "language": "python"}""");
        _k.Install("dup", "--python", KernelSandbox.SystemPython);
        var r = _k.Kernel("list", "--prefix", Path.Combine(_k.S.Dir, "unused"));
        Expect.Ok(r);
        Assert.Contains($"hidden by {dir}", r.Stdout);
        Assert.Equal(2, r.Stdout.Split('\n').Count(l => l.StartsWith("dup ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Rm_removes_ours_and_refuses_others()
    {
        _k.Install("mine", "--python", KernelSandbox.SystemPython);
        _k.Install("mine2", "--python", KernelSandbox.SystemPython);
        var foreign = Directory.CreateDirectory(Path.Combine(_k.UserKernels, "theirs")).FullName;
        File.WriteAllText(Path.Combine(foreign, "kernel.json"), """{"argv": ["python3"], "display_name": "T", "language": "python"}""");

        Expect.Error(_k.Kernel("rm", "theirs"), "kjupyter", 1, $"the kernel theirs (~/.local/share/jupyter/kernels/theirs) was not installed by kjupyter");
        Expect.Error(_k.Kernel("rm", "mine", "theirs"), "kjupyter", 1, "not installed by kjupyter");
        Assert.True(Directory.Exists(Path.Combine(_k.UserKernels, "mine"))); // all or nothing
        Expect.Error(_k.Kernel("rm", "nope"), "kjupyter", 1, "no kernel called nope");

        var r = _k.Kernel("rm", "mine", "MINE2");
        Expect.Ok(r);
        Assert.Equal("removed kernel mine (~/.local/share/jupyter/kernels/mine)\nremoved kernel mine2 (~/.local/share/jupyter/kernels/mine2)\n", r.Stdout);
        Assert.Equal(["theirs"], Directory.GetFileSystemEntries(_k.UserKernels).Select(Path.GetFileName));

        var prefix = Path.Combine(_k.S.Dir, "p");
        _k.Install("inprefix", "--python", KernelSandbox.SystemPython, "--prefix", prefix);
        Expect.Error(_k.Kernel("rm", "inprefix"), "kjupyter", 1, "no kernel called inprefix");
        Expect.Ok(_k.Kernel("rm", "inprefix", "--prefix", prefix));
        Assert.Empty(Directory.GetFileSystemEntries(Path.Combine(prefix, "share", "jupyter", "kernels")));
    }

    [Theory]
    [InlineData(2, "say what the kernel runs in", "install", "k")]
    [InlineData(2, "missing NAME", "install", "--python", "/usr/bin/python3")]
    [InlineData(2, "--venv and --conda cannot be combined", "install", "k", "--venv", "a", "--conda", "/x")]
    [InlineData(2, "--purge goes with --module", "install", "k", "--venv", "a", "--purge")]
    [InlineData(2, "--bind goes with --image", "install", "k", "--python", "/usr/bin/python3", "--bind", "/x")]
    [InlineData(2, "--module needs a module name", "install", "k", "--module", "")]
    [InlineData(2, "invalid module name 'gcc python'", "install", "k", "--module", "gcc python")]
    [InlineData(2, "--venv needs a value", "install", "k", "--venv")]
    [InlineData(2, "invalid kernel name 'my kernel'", "install", "my kernel", "--python", "/usr/bin/python3")]
    [InlineData(2, "invalid kernel name '.hidden'", "install", ".hidden", "--python", "/usr/bin/python3")]
    [InlineData(2, "unknown option '--sys-prefix'", "install", "k", "--python", "/usr/bin/python3", "--sys-prefix")]
    [InlineData(2, "unexpected argument 'extra'", "install", "k", "extra", "--python", "/usr/bin/python3")]
    [InlineData(2, "--user and --prefix cannot be combined", "install", "k", "--python", "/usr/bin/python3", "--user", "--prefix", "/x")]
    [InlineData(2, "which Jupyter would replace", "install", "k", "--conda", "/envs/{resource_dir}")]
    [InlineData(2, "invalid venv name 'a/b'", "install", "k", "--venv", "a/b")]
    [InlineData(2, "invalid --env 'OMP_NUM_THREADS'", "install", "k", "--python", "/usr/bin/python3", "--env", "OMP_NUM_THREADS")]
    [InlineData(2, "invalid --env '1X=2'", "install", "k", "--python", "/usr/bin/python3", "--env", "1X=2")]
    [InlineData(2, "unknown command 'kernel frob'", "frob")]
    [InlineData(2, "missing command")]
    [InlineData(2, "missing NAME", "rm")]
    [InlineData(2, "missing CONNECTION_FILE", "run", "--python", "/usr/bin/python3", "--")]
    [InlineData(2, "say what the kernel runs in", "run", "--", "/tmp/x.json")]
    [InlineData(1, "no saved venv called ghost", "install", "k", "--venv", "ghost")]
    [InlineData(1, "is not a conda environment (it has no conda-meta folder)", "install", "k", "--conda", "/usr")]
    [InlineData(1, "/nonexistent/env does not exist", "install", "k", "--conda", "/nonexistent/env")]
    [InlineData(1, "no conda environment called ghost", "install", "k", "--conda", "ghost")]
    [InlineData(1, "/etc/passwd is not an executable", "install", "k", "--python", "/etc/passwd")]
    [InlineData(1, "no-such-python is not on PATH", "install", "k", "--python", "no-such-python")]
    [InlineData(1, "connection file /nonexistent.json does not exist", "run", "--python", "/usr/bin/python3", "--", "/nonexistent.json")]
    public void Bad_input_is_a_one_line_error(int code, string message, params string[] args)
    {
        Expect.Error(_k.Kernel(args), "kjupyter", code, message);
        Assert.False(Directory.Exists(_k.UserKernels) && Directory.EnumerateFileSystemEntries(_k.UserKernels).Any());
    }

    [Fact]
    public void Run_errors_reach_Jupyters_log_as_one_line()
    {
        var file = Path.Combine(_k.S.Dir, "kernel-1.json");
        File.WriteAllText(file, "{}");
        Expect.Error(_k.Kernel("run", "--conda", "/nonexistent/env", "--", file), "kjupyter", 1, "/nonexistent/env does not exist");
        Expect.Error(_k.Kernel("run", "--python", "/nonexistent/python", "--", file), "kjupyter", 1, "/nonexistent/python is not an executable (any more)");
        Expect.Error(_k.Kernel("run", "--image", "ghost", "--", file), "kjupyter", 1, "no pulled image called ghost");
        Expect.Error(_k.Kernel("run", "--image", "/nonexistent/x.sif", "--", file), "kjupyter", 1, "image /nonexistent/x.sif does not exist");
    }

    [Fact]
    public void Help_answers_without_doing_anything()
    {
        Assert.Contains("install NAME MODE", _k.Kernel("--help").Stdout);
        var r = _k.Kernel("install", "--help");
        Expect.Ok(r);
        Assert.Contains("--venv VENV", r.Stdout);
        Assert.False(Directory.Exists(_k.UserKernels));
        Assert.Contains("--json", _k.Kernel("list", "-h").Stdout);
    }
}
