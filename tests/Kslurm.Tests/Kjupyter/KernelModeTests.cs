using Kslurm.Tests.Registry;
using Kslurm.Json;

namespace Kslurm.Tests.Kjupyter;

/// <summary>
/// Each mode of `kjupyter kernel install`, started for real through jupyter_client with the
/// published binaries: kpy with a saved venv, a conda-shaped prefix with an activate.d hook, real
/// Lmod with a test modulefile, the Apptainer stand-in with an image kapp pulled from the local
/// registry, and a plain interpreter.
/// </summary>
[Trait("Tier", "Cluster")]
public sealed class KernelModeTests : IDisposable
{
    readonly KernelSandbox _k = new();

    public void Dispose() => _k.Dispose();

    // ---- venv ----------------------------------------------------------------------------------

    [Fact]
    public void Venv_kernel_loads_the_saved_venv_onto_login_scratch_at_start()
    {
        _k.SavedVenv("sci");
        _k.Install("sci-kernel", "--venv", "sci");
        var live = Path.Combine(_k.LiveRoot, "sci");
        Assert.False(Directory.Exists(live)); // only the archive exists: the kernel start must load it

        var p = _k.Start("sci-kernel", KernelSandbox.Show("VIRTUAL_ENV"));
        Assert.True(p.Ok, p.ToString());
        Assert.Equal(live, p.Value("prefix"));
        Assert.Equal(live, p.Value("VIRTUAL_ENV"));
        Assert.Contains("kpy: unpacking sci", p.Raw.Stderr);

        // second start: already live, nothing unpacked
        var again = _k.Start("sci-kernel", KernelSandbox.Show());
        Assert.True(again.Ok, again.ToString());
        Assert.Equal(live, again.Value("prefix"));
        Assert.DoesNotContain("unpacking", again.Raw.Stderr);
    }

    [Fact]
    public void Venv_kernel_on_a_compute_node_loads_onto_SLURM_TMPDIR()
    {
        _k.SavedVenv("sci");
        _k.Install("sci", "--venv", "sci");
        var scratch = Directory.CreateDirectory(Path.Combine(_k.S.Dir, "node-scratch")).FullName;
        var p = _k.Start("sci", KernelSandbox.Show("VIRTUAL_ENV", "PIP_NO_INDEX"),
            new Dictionary<string, string?> { ["SLURM_TMPDIR"] = scratch, ["SLURM_JOB_ID"] = "4242" });
        Assert.True(p.Ok, p.ToString());
        Assert.Equal(Path.Combine(scratch, "kpy", "sci"), p.Value("prefix"));
        Assert.Equal("1", p.Value("PIP_NO_INDEX")); // kpy's compute-node rule reaches the kernel
        Assert.False(Directory.Exists(Path.Combine(_k.LiveRoot, "sci")));
    }

    [Fact]
    public void Venv_without_ipykernel_fails_with_one_clear_line()
    {
        _k.SavedVenv("bare", systemSitePackages: false);
        _k.Install("bare", "--venv", "bare");
        var p = _k.Start("bare", "print(1)");
        Assert.False(p.Ok);
        Assert.Contains("died", p.Error);
        Assert.Contains("kjupyter: error: ipykernel is not installed in the venv bare", p.Raw.Stderr);
        Assert.Contains("kjupyter: hint: install it and save the venv again: kpy exec bare -- pip install ipykernel", p.Raw.Stderr);
        Assert.DoesNotContain("Traceback", p.Raw.Stderr.Split("Exception ignored")[0]);
    }

    // ---- conda ---------------------------------------------------------------------------------

    /// <summary>A prefix laid out as conda lays one out: bin/python, conda-meta/history, an activate.d hook.</summary>
    string CondaEnv(string root, string name)
    {
        var prefix = _k.MakeVenv(Path.Combine(root, "envs", name));
        Directory.CreateDirectory(Path.Combine(prefix, "conda-meta"));
        File.WriteAllText(Path.Combine(prefix, "conda-meta", "history"), "==> 2025-01-01 00:00:00 <==\n# cmd: conda create -n " + name + "\n");
        File.WriteAllText(Path.Combine(prefix, "conda-meta", "state"), """{"env_vars": {"FROM_CONDA_STATE": "state value"}}""");
        var hooks = Directory.CreateDirectory(Path.Combine(prefix, "etc", "conda", "activate.d")).FullName;
        // hooks see the activated env, and no positional parameters of ours
        File.WriteAllText(Path.Combine(hooks, "10-first.sh"), "export HOOK_SAW=\"$CONDA_PREFIX|$CONDA_DEFAULT_ENV|$#\"\nexport HOOK_ORDER=first\n");
        File.WriteAllText(Path.Combine(hooks, "20-second.sh"), "export HOOK_ORDER=\"$HOOK_ORDER,second\"\n");
        File.WriteAllText(Path.Combine(hooks, "README.txt"), "exit 1\n"); // not a .sh: never sourced
        return prefix;
    }

    [Fact]
    public void Conda_kernel_is_activated_as_conda_does_with_its_hooks()
    {
        var prefix = CondaEnv(Path.Combine(_k.S.Dir, "mini forge"), "ana"); // a space in the path
        _k.Install("ana", "--conda", prefix);
        Assert.Equal("Python (conda ana)", _k.Spec("ana").String("display_name"));
        var p = _k.Start("ana", KernelSandbox.Show("CONDA_PREFIX", "CONDA_DEFAULT_ENV", "CONDA_SHLVL", "CONDA_PROMPT_MODIFIER",
            "HOOK_SAW", "HOOK_ORDER", "FROM_CONDA_STATE", "CPATH", "LIBRARY_PATH", "LD_LIBRARY_PATH", "PATH"));
        Assert.True(p.Ok, p.ToString());
        Assert.Equal(prefix, p.Value("prefix"));
        Assert.Equal(prefix, p.Value("CONDA_PREFIX"));
        Assert.Equal("ana", p.Value("CONDA_DEFAULT_ENV"));
        Assert.Equal("1", p.Value("CONDA_SHLVL"));
        Assert.Equal("(ana) ", p.Value("CONDA_PROMPT_MODIFIER"));
        Assert.Equal($"{prefix}|ana|0", p.Value("HOOK_SAW"));
        Assert.Equal("first,second", p.Value("HOOK_ORDER"));
        Assert.Equal("state value", p.Value("FROM_CONDA_STATE"));
        Assert.Equal($"{prefix}/include", p.Value("CPATH"));
        Assert.Equal($"{prefix}/lib", p.Value("LIBRARY_PATH"));
        Assert.Equal($"{prefix}/lib", p.Value("LD_LIBRARY_PATH"));
        Assert.StartsWith($"{prefix}/bin:", p.Value("PATH"));
    }

    [Fact]
    public void Conda_kernel_started_from_another_active_env_replaces_it_like_conda_activate()
    {
        var root = Path.Combine(_k.S.Dir, "miniforge3");
        var ana = CondaEnv(root, "ana");
        var server = CondaEnv(root, "jupyter");
        // by name, found through CONDA_ENVS_PATH
        Expect.Ok(_k.S.Exec(Repo.Tool("kjupyter"), ["kernel", "install", "ana", "--conda", "ana"],
            extraEnv: new Dictionary<string, string?> { ["CONDA_ENVS_PATH"] = Path.Combine(root, "envs") }));
        Assert.Equal(ana, ((JsonObject)_k.Spec("ana")["metadata"]!).Object("kslurm")!.String("target"));
        var p = _k.Start("ana", KernelSandbox.Show("CONDA_PREFIX", "CONDA_SHLVL", "CONDA_PREFIX_1", "PATH", "LD_LIBRARY_PATH"),
            new Dictionary<string, string?>
            {
                ["CONDA_PREFIX"] = server,
                ["CONDA_SHLVL"] = "1",
                ["PATH"] = $"{server}/bin:{_k.S.Env["PATH"]}",
                ["LD_LIBRARY_PATH"] = "/opt/site/lib",
            });
        Assert.True(p.Ok, p.ToString());
        Assert.Equal(ana, p.Value("CONDA_PREFIX"));
        Assert.Equal("2", p.Value("CONDA_SHLVL"));
        Assert.Equal(server, p.Value("CONDA_PREFIX_1"));
        Assert.StartsWith($"{ana}/bin:", p.Value("PATH"));
        Assert.DoesNotContain($"{server}/bin", p.Value("PATH"));
        Assert.Equal($"{ana}/lib:/opt/site/lib", p.Value("LD_LIBRARY_PATH"));
    }

    [Fact]
    public void Conda_kernel_without_hooks_needs_no_shell()
    {
        var prefix = CondaEnv(Path.Combine(_k.S.Dir, "c"), "plain");
        Directory.Delete(Path.Combine(prefix, "etc"), recursive: true);
        _k.Install("plain", "--conda", prefix);
        // the kernel's parent is jupyter_client's python: neither kjupyter nor a bash stayed in between
        var p = _k.Start("plain", "import os\nprint('parent=' + open(f'/proc/{os.getppid()}/comm').read().strip())\n" + KernelSandbox.Show("CONDA_PREFIX"));
        Assert.True(p.Ok, p.ToString());
        Assert.Equal(prefix, p.Value("CONDA_PREFIX"));
        Assert.StartsWith("python", p.Value("parent"));
    }

    // ---- module (real Lmod) --------------------------------------------------------------------

    string ModuleTree()
    {
        var tree = Path.Combine(_k.S.Dir, "modulefiles");
        var tool = Directory.CreateDirectory(Path.Combine(_k.S.Dir, "kjtool", "bin")).FullName;
        Directory.CreateDirectory(Path.Combine(tree, "kjtest"));
        File.WriteAllText(Path.Combine(tree, "kjtest", "1.0.lua"), $"""
            setenv("KJTEST_HOME", "/opt/kjtest 1.0")
            prepend_path("PATH", "{tool}")
            """);
        Directory.CreateDirectory(Path.Combine(tree, "preloaded"));
        File.WriteAllText(Path.Combine(tree, "preloaded", "2.lua"), """setenv("PRELOADED", "yes")""");
        _k.S.Env["MODULEPATH"] = tree;
        _k.S.Env["LMOD_CMD"] = "/usr/share/lmod/lmod/libexec/lmod";
        return tool;
    }

    const string LoadPreloaded = "eval \"$(\"$LMOD_CMD\" bash load preloaded)\" || exit 99";

    [Fact]
    public void Module_kernel_sees_what_the_modulefile_sets()
    {
        var tool = ModuleTree();
        _k.Install("kjt", "--module", "kjtest/1.0");
        Assert.Equal("Python (module kjtest/1.0)", _k.Spec("kjt").String("display_name"));
        var p = _k.Start("kjt", KernelSandbox.Show("KJTEST_HOME", "PRELOADED", "LOADEDMODULES", "PATH"), viaBash: LoadPreloaded);
        Assert.True(p.Ok, p.ToString());
        Assert.Equal("/opt/kjtest 1.0", p.Value("KJTEST_HOME"));
        Assert.StartsWith(tool + ":", p.Value("PATH"));
        Assert.Equal("yes", p.Value("PRELOADED")); // no --purge: the server's modules stay
        Assert.Equal("preloaded/2:kjtest/1.0", p.Value("LOADEDMODULES"));
        Assert.Equal("/usr", p.Value("prefix")); // python3 from PATH after loading
    }

    [Fact]
    public void Module_kernel_with_purge_unloads_the_servers_modules_first()
    {
        ModuleTree();
        _k.Install("kjt", "--purge", "--module", "kjtest");
        Assert.Contains("--purge", _k.Spec("kjt").Array("argv")!.Cast<string>());
        var p = _k.Start("kjt", KernelSandbox.Show("KJTEST_HOME", "PRELOADED", "LOADEDMODULES"), viaBash: LoadPreloaded);
        Assert.True(p.Ok, p.ToString());
        Assert.Equal("/opt/kjtest 1.0", p.Value("KJTEST_HOME"));
        Assert.Null(p.Value("PRELOADED"));
        Assert.Equal("kjtest/1.0", p.Value("LOADEDMODULES"));
    }

    [Fact]
    public void Unknown_module_is_refused_at_install_and_explained_at_start()
    {
        ModuleTree();
        Expect.Error(_k.Kernel("install", "x", "--module", "nosuch"), "kjupyter", 1, "Lmod cannot load nosuch: The following module(s) are unknown: \"nosuch\"");
        Assert.False(Directory.Exists(Path.Combine(_k.UserKernels, "x")));
        _k.Install("x", "--module", "nosuch", "--no-check"); // e.g. it exists only on compute nodes
        var p = _k.Start("x", "print(1)");
        Assert.False(p.Ok);
        Assert.Contains("kjupyter: error: cannot load module(s) nosuch (Lmod says why above)", p.Raw.Stderr);
    }

    // ---- image (Apptainer stand-in, image pulled by kapp) --------------------------------------

    [Fact]
    public void Image_kernel_runs_in_the_pulled_image_with_the_connection_folder_bound()
    {
        LocalRegistries.Require();
        var pull = _k.S.Tool("kapp", "pull", $"{LocalRegistries.Anonymous}/test/single:1.0", "-a", "nb");
        Expect.Ok(pull);
        var image = pull.Stdout.Trim();
        var data = Directory.CreateDirectory(Path.Combine(_k.S.Dir, "course data")).FullName;
        _k.Install("nb", "--image", "nb", "--bind", $"{data}:/data:ro");
        _k.Install("byuri", "--image", $"{LocalRegistries.Anonymous}/test/single:1.0");
        _k.Install("byfile", "--image", image, "--display-name", "Course image");
        Assert.Equal("Course image", _k.Spec("byfile").String("display_name"));

        var show = KernelSandbox.Show("APPTAINER_CONTAINER", "APPTAINER_BIND", "APPTAINER_NV");
        var p = _k.Start("nb", show);
        Assert.True(p.Ok, p.ToString());
        Assert.Equal(image, p.Value("APPTAINER_CONTAINER"));
        Assert.Equal($"{Path.GetDirectoryName(p.ConnectionFile)},{data}:/data:ro", p.Value("APPTAINER_BIND"));
        Assert.Null(p.Value("APPTAINER_NV"));

        foreach (var name in new[] { "byuri", "byfile" })
        {
            var q = _k.Start(name, show);
            Assert.True(q.Ok, q.ToString());
            Assert.Equal(image, q.Value("APPTAINER_CONTAINER"));
            Assert.Equal(Path.GetDirectoryName(q.ConnectionFile), q.Value("APPTAINER_BIND"));
        }

        // a GPU in the job: --nv
        var gpu = _k.Start("nb", show, new Dictionary<string, string?> { ["SLURM_JOB_GPUS"] = "0" });
        Assert.True(gpu.Ok, gpu.ToString());
        Assert.Equal("1", gpu.Value("APPTAINER_NV"));
    }

    [Fact]
    public void Image_kernel_whose_image_is_gone_says_how_to_get_it()
    {
        LocalRegistries.Require();
        Expect.Error(_k.Kernel("install", "nb", "--image", "never-pulled"), "kjupyter", 1, "no pulled image called never-pulled");
        _k.Install("nb", "--image", "never-pulled", "--no-check");
        var p = _k.Start("nb", "print(1)");
        Assert.False(p.Ok);
        Assert.Contains("kjupyter: error: no pulled image called never-pulled", p.Raw.Stderr);
        Assert.Contains("kjupyter: hint: pull it first: kapp pull never-pulled", p.Raw.Stderr);
    }

    // ---- python --------------------------------------------------------------------------------

    [Fact]
    public void Python_kernel_runs_that_interpreter_and_activates_a_venv_one()
    {
        _k.Install("sys", "--python", KernelSandbox.SystemPython, "--env", "OMP_NUM_THREADS=3", "--env", "GREETING=a b=c");
        var p = _k.Start("sys", KernelSandbox.Show("VIRTUAL_ENV", "OMP_NUM_THREADS", "GREETING") + "print('argv0=' + sys.argv[0])\n");
        Assert.True(p.Ok, p.ToString());
        Assert.Equal("3", p.Value("OMP_NUM_THREADS")); // --env, applied by Jupyter from the kernelspec
        Assert.Equal("a b=c", p.Value("GREETING"));
        Assert.Equal("/usr", p.Value("prefix"));
        Assert.Null(p.Value("VIRTUAL_ENV"));
        Assert.EndsWith("/ipykernel_launcher.py", p.Value("argv0")); // as with python -m ipykernel_launcher

        var venv = _k.MakeVenv(Path.Combine(_k.S.Dir, "v"));
        _k.Install("v", "--python", Path.Combine(venv, "bin", "python"));
        var q = _k.Start("v", KernelSandbox.Show("VIRTUAL_ENV", "PATH"));
        Assert.True(q.Ok, q.ToString());
        Assert.Equal(venv, q.Value("prefix"));
        Assert.Equal(Path.Combine(venv, "bin", "python"), q.Value("executable")); // the link, not the base python
        Assert.Equal(venv, q.Value("VIRTUAL_ENV"));
        Assert.StartsWith($"{venv}/bin:", q.Value("PATH"));
    }

    [Fact]
    public void Python_kernel_without_ipykernel_says_so()
    {
        var venv = _k.MakeVenv(Path.Combine(_k.S.Dir, "nokernel"), systemSitePackages: false);
        _k.Install("nk", "--python", Path.Combine(venv, "bin", "python"));
        var p = _k.Start("nk", "print(1)");
        Assert.False(p.Ok);
        Assert.Contains($"kjupyter: error: ipykernel is not installed in {venv}/bin/python", p.Raw.Stderr);
        Assert.Contains($"kjupyter: hint: install it: {venv}/bin/python -m pip install ipykernel", p.Raw.Stderr);
    }
}
