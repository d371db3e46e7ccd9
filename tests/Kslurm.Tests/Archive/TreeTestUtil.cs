using System.Diagnostics;
using System.Formats.Tar;
using System.Security.Cryptography;
using System.Text;
using Kslurm.Archive;
using Kslurm.Files;

namespace Kslurm.Tests.Archive;

/// <summary>Sample trees, exact tree snapshots, and runners for GNU tar.</summary>
internal static class TreeTestUtil
{
    public const string Tar = "/usr/bin/tar";

    /// <summary>What a path is, as far as the tests compare trees.</summary>
    public sealed record Node(FileKind Kind, string Mode, long Size, long MTime, long MTimeNs, string? Link, string? Sha, string? SameInode)
    {
        public override string ToString()
            => $"{Kind} {Mode} size={Size} mtime={MTime}.{MTimeNs:D9} link={Link} sha={Sha?[..12]} inode={SameInode}";
    }

    /// <summary>
    /// Every entry under <paramref name="root"/> (and "." for the root itself) by relative
    /// path: type, exact mode (octal, with setuid/setgid/sticky), size, mtime to the
    /// nanosecond, symlink target, content hash, and which other names share the inode.
    /// </summary>
    public static SortedDictionary<string, Node> Snapshot(string root, bool includeRoot = false)
    {
        var nodes = new SortedDictionary<string, Node>(StringComparer.Ordinal);
        var stats = new Dictionary<string, FileStat>();
        void Walk(string full, string rel)
        {
            foreach (string child in Directory.EnumerateFileSystemEntries(full))
            {
                string name = Path.GetFileName(child);
                string r = rel.Length == 0 ? name : rel + "/" + name;
                FileStat st = FileStat.LStat(child);
                stats[r] = st;
                if (st.Kind == FileKind.Directory)
                    Walk(child, r);
            }
        }
        Walk(root, "");
        var byInode = stats.Where(kv => kv.Value.Kind == FileKind.Regular && kv.Value.Links > 1)
            .GroupBy(kv => (kv.Value.Device, kv.Value.Inode))
            .SelectMany(g => g.Select(kv => (kv.Key, Group: string.Join(",", g.Select(x => x.Key).Order(StringComparer.Ordinal)))))
            .ToDictionary(x => x.Key, x => x.Group);
        foreach ((string rel, FileStat st) in stats)
        {
            string full = Path.Combine(root, rel);
            nodes[rel] = new Node(st.Kind, Octal(st.Mode), st.Kind == FileKind.Regular ? st.Size : 0,
                st.MTimeSeconds, st.MTimeNanoseconds,
                st.Kind == FileKind.Symlink ? new FileInfo(full).LinkTarget : null,
                st.Kind == FileKind.Regular ? Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(full))) : null,
                byInode.GetValueOrDefault(rel));
        }
        if (includeRoot)
        {
            FileStat st = FileStat.LStat(root);
            nodes["."] = new Node(st.Kind, Octal(st.Mode), 0, st.MTimeSeconds, st.MTimeNanoseconds, null, null, null);
        }
        return nodes;
    }

    /// <summary>
    /// A tree as <see cref="TreeArchive.Extract"/> recreates it: modes minus this process's umask,
    /// without setuid/setgid, sticky on folders only (what GNU tar gives a normal user, but for
    /// the sticky folders).
    /// </summary>
    public static SortedDictionary<string, Node> AsExtracted(IDictionary<string, Node> tree)
    {
        int umask = (int)PosixIo.Umask();
        var result = new SortedDictionary<string, Node>(StringComparer.Ordinal);
        foreach (var (k, n) in tree)
        {
            int keep = n.Kind switch { FileKind.Directory => 0x3FF, FileKind.Regular => 0x1FF, _ => 0xFFF };
            result[k] = n.Kind == FileKind.Symlink ? n : n with { Mode = Octal((UnixFileMode)(Convert.ToInt32(n.Mode, 8) & keep & ~umask)) };
        }
        return result;
    }

    public static string Octal(UnixFileMode mode) => Convert.ToString((int)mode, 8).PadLeft(4, '0');

    /// <summary>Asserts two snapshots are equal, listing every difference.</summary>
    public static void AssertSameTree(IDictionary<string, Node> expected, IDictionary<string, Node> actual)
    {
        var diffs = new List<string>();
        foreach ((string k, Node v) in expected)
        {
            if (!actual.TryGetValue(k, out Node? a))
                diffs.Add($"missing  {k}: {v}");
            else if (a != v)
                diffs.Add($"differs  {k}:\n   want {v}\n   got  {a}");
        }
        foreach (string k in actual.Keys.Where(k => !expected.ContainsKey(k)))
            diffs.Add($"extra    {k}: {actual[k]}");
        Assert.True(diffs.Count == 0, $"{diffs.Count} differences:\n" + string.Join("\n", diffs.Take(40)));
    }

    /// <summary>
    /// The tree every round-trip test uses: the modes a venv may have and the odd ones
    /// (0600/0700/0755/1777/2755, read-only folder and file), empty folders, a hard-linked trio,
    /// relative/absolute/dangling/folder symlinks, a 400-character symlink target, a path of
    /// more than 300 characters, non-ASCII names, and old whole-second mtimes everywhere.
    /// </summary>
    public static void BuildSampleTree(string root)
    {
        Directory.CreateDirectory(root);
        void Dir(string rel, int mode)
        {
            string p = Path.Combine(root, rel);
            Directory.CreateDirectory(p);
            File.SetUnixFileMode(p, (UnixFileMode)mode);
        }
        void FileOf(string rel, byte[] data, int mode = 0b110_100_100)
        {
            string p = Path.Combine(root, rel);
            Directory.CreateDirectory(Path.GetDirectoryName(p)!);
            File.WriteAllBytes(p, data);
            File.SetUnixFileMode(p, (UnixFileMode)mode);
        }
        void Text(string rel, string text, int mode = 0b110_100_100) => FileOf(rel, Encoding.UTF8.GetBytes(text), mode);

        Dir("bin", 0x1ED); // 0755
        Text("bin/tool", "#!/bin/sh\necho /old/venv/bin/tool\n", 0x1ED);
        File.CreateSymbolicLink(Path.Combine(root, "bin/python"), "python3.11");
        File.CreateSymbolicLink(Path.Combine(root, "bin/python3.11"), "/usr/bin/python3");
        Text("secret", "token\n", 0x180); // 0600
        Dir("private", 0x1C0); // 0700
        Text("private/key", "k\n", 0x180);
        Dir("tmp", 0x3FF); // 1777
        Dir("shared", 0x5ED); // 2755
        Text("shared/setgid-tool", "x\n", 0x5ED);
        Dir("ro", 0x1ED); // 0555 once filled (at the end): a non-root user could not fill it before
        Text("ro/readonly", "r\n", 0x124); // 0444
        Dir("empty", 0x1ED);
        Dir("empty2/sub", 0x1ED);
        var rng = new Random(5);
        var bin = new byte[100_000];
        rng.NextBytes(bin);
        FileOf("data/random.bin", bin);
        FileOf("data/empty.txt", []);
        FileOf("data/text.py", Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("import os  # /old/venv\n", 3000))));
        Text("links/hard1", "shared content\n");
        PosixIo.Link(Path.Combine(root, "links/hard1"), Path.Combine(root, "links/hard2"));
        Directory.CreateDirectory(Path.Combine(root, "other"));
        PosixIo.Link(Path.Combine(root, "links/hard1"), Path.Combine(root, "other/hard3"));
        File.CreateSymbolicLink(Path.Combine(root, "dangling"), "does/not/exist");
        File.CreateSymbolicLink(Path.Combine(root, "dirlink"), "data");
        File.CreateSymbolicLink(Path.Combine(root, "abs-dir"), "/usr/share");
        Directory.CreateDirectory(Path.Combine(root, "x"));
        string longTarget = string.Concat(Enumerable.Repeat("x/../", 80)) + "secret";
        Assert.True(longTarget.Length >= 400);
        File.CreateSymbolicLink(Path.Combine(root, "longlink"), longTarget);
        string deep = string.Join("/", Enumerable.Range(0, 11).Select(i => $"level{i:D2}-" + new string('d', 22)));
        Assert.True(deep.Length > 300);
        Text(deep + "/bottom.txt", "deep\n");
        Text("données/日本語 ñ.txt", "unicode\n");
        Text("emoji-🐍.py", "print('🐍')\n");
        Text("emoji-\uFF21.py", "fullwidth A sorts before the snake in UTF-8, after it in UTF-16\n");

        // Old mtimes, whole seconds, deepest first so folders keep theirs; symlinks included.
        long t = 1_000_000_000;
        foreach (string p in Paths(root).OrderByDescending(p => p.Count(c => c == '/')).ThenBy(p => p, StringComparer.Ordinal))
        {
            PosixIo.SetMTime(p, t, 0);
            t += 3600;
        }
        File.SetUnixFileMode(Path.Combine(root, "ro"), (UnixFileMode)0x16D);
    }

    /// <summary>All paths below <paramref name="root"/>, never entering symlinked folders.</summary>
    public static List<string> Paths(string root)
    {
        var all = new List<string>();
        foreach (string child in Directory.EnumerateFileSystemEntries(root))
        {
            all.Add(child);
            if (FileStat.LStat(child).Kind == FileKind.Directory)
                all.AddRange(Paths(child));
        }
        return all;
    }

    public static Result Run(string exe, params string[] args)
    {
        using var sandbox = new Sandbox();
        return sandbox.Exec(exe, args);
    }

    public static string Sh(string script)
    {
        Result r = Run("/bin/bash", "-c", "set -euo pipefail; " + script);
        if (r.Code != 0)
            throw new Xunit.Sdk.XunitException($"bash -c {script}\n{r}");
        return r.Stdout;
    }

    public static string Q(string s) => "'" + s.Replace("'", "'\\''") + "'";

    /// <summary>Our writer into a zstd file.</summary>
    public static ArchiveStats WriteArchive(string source, string archive, ArchiveEntry? leading = null,
        Func<string, bool>? exclude = null, int chunkSize = ZstdCompressStream.DefaultChunkSize)
    {
        using var file = File.Create(archive);
        using var z = new ZstdCompressStream(file, chunkSize: chunkSize);
        return TreeArchive.Write(source, z, leading, exclude);
    }

    /// <summary>Our extractor from a file (zstd or gzip) into a new folder.</summary>
    public static ArchiveStats ExtractArchive(string archive, string target, ExtractOptions? options = null)
    {
        Directory.CreateDirectory(target);
        using Stream tar = ArchiveFile.OpenRead(archive);
        return TreeArchive.Extract(tar, target, new ExtractOptions
        {
            ArchiveName = options?.ArchiveName ?? archive,
            Symlink = options?.Symlink,
            Transform = options?.Transform,
            Exclude = options?.Exclude,
        });
    }

    /// <summary>Accepts every symlink target as stored (what GNU tar does).</summary>
    public static readonly ExtractOptions AnyLinks = new() { Symlink = (_, target) => target };

    /// <summary>A tar stream built entry by entry, for hostile and odd archives.</summary>
    public static byte[] Craft(Action<TarWriter> build, TarEntryFormat format = TarEntryFormat.Gnu)
    {
        var ms = new MemoryStream();
        using (var w = new TarWriter(ms, format, leaveOpen: true))
            build(w);
        return ms.ToArray();
    }

    public static void AddFile(this TarWriter w, string name, string content = "x", int mode = 0x1A4)
        => w.WriteEntry(new GnuTarEntry(TarEntryType.RegularFile, name)
        {
            DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
            Mode = (UnixFileMode)mode,
            ModificationTime = DateTimeOffset.FromUnixTimeSeconds(1_000_000_000),
        });

    public static void AddDir(this TarWriter w, string name, int mode = 0x1ED)
        => w.WriteEntry(new GnuTarEntry(TarEntryType.Directory, name) { Mode = (UnixFileMode)mode });

    public static void AddLink(this TarWriter w, TarEntryType type, string name, string target)
        => w.WriteEntry(new GnuTarEntry(type, name) { LinkName = target });

    public static byte[] Zstd(byte[] tar)
    {
        var ms = new MemoryStream();
        using (var z = new ZstdCompressStream(ms, leaveOpen: true))
            z.Write(tar);
        return ms.ToArray();
    }

    /// <summary>Runs <paramref name="action"/> with a time limit: a hang is a failure, not a stuck run.</summary>
    public static T WithTimeout<T>(Func<T> action, int seconds = 60)
    {
        var task = Task.Run(action);
        if (!task.Wait(TimeSpan.FromSeconds(seconds)))
            throw new Xunit.Sdk.XunitException($"did not finish in {seconds} s");
        return task.GetAwaiter().GetResult();
    }

    public sealed class TempDir : IDisposable
    {
        public string Path { get; } = Directory.CreateTempSubdirectory("kslurm-tree-").FullName;
        public string Sub(string name) => System.IO.Path.Combine(Path, name);

        public void Dispose()
        {
            // Read-only folders from the sample tree would stop a non-root delete.
            foreach (string d in Directory.EnumerateDirectories(Path, "*", new EnumerationOptions
            {
                RecurseSubdirectories = true,
                AttributesToSkip = FileAttributes.ReparsePoint,
            }))
                try { File.SetUnixFileMode(d, (UnixFileMode)0x1C0); } catch { }
            try { Directory.Delete(Path, recursive: true); } catch { }
        }
    }
}
