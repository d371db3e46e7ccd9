using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Kslurm.Tests;

/// <summary>
/// A person's computer and the login node's ssh server, for tests that use kjupyter's tunnel the
/// way it is printed. The sshd is the tests' own (its config, host key and the user's key made in
/// a test folder, a port on 127.0.0.1; the system's sshd and its config are never touched), and
/// stops with this object. The computer is a network namespace with only a loopback: it reaches
/// the login node by its ssh connection alone (ProxyCommand through a socket bridged to sshd's
/// port), so on this one-node cluster, where Jupyter listens on this machine's own address, the
/// browser still reaches it only through the tunnel.
/// </summary>
public sealed class Laptop : IDisposable
{
    /// <summary>The login node's name in the laptop's ~/.ssh/config: set as jupyter.login_host, ssh's line stays as printed.</summary>
    public const string LoginAlias = "kslurm-test-login";

    readonly ClusterUser _user;
    readonly Sandbox _root = new();
    readonly List<Process> _started = [];
    readonly StringBuilder _sshdLog = new();
    readonly Process _netns = null!;

    public Laptop(ClusterUser user)
    {
        _user = user;
        ServerDir = Path.Combine("/tmp", $"kslurm-test-sshd-{Guid.NewGuid():N}");
        Home = Path.Combine(user.Home, "laptop");
        try
        {
            _netns = Start();
        }
        catch
        {
            Dispose(); // no sshd left behind by a half-made laptop
            throw;
        }
    }

    Process Start()
    {
        var user = _user;
        var dir = ServerDir;
        Directory.CreateDirectory(dir);
        File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
        var ssh = Path.Combine(Home, ".ssh");
        Directory.CreateDirectory(ssh);

        // keys: the login node's host key (root's), the person's key (theirs, authorized on the login node)
        Must(_root.Exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kslurm test host", "-f", Path.Combine(dir, "host_ed25519")]));
        Must(_root.Exec("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "kslurm test user", "-f", Path.Combine(ssh, "id_ed25519")]));
        File.Copy(Path.Combine(ssh, "id_ed25519.pub"), Path.Combine(dir, "authorized_keys"));
        var hostKey = File.ReadAllText(Path.Combine(dir, "host_ed25519.pub")).Trim();
        File.WriteAllText(Path.Combine(ssh, "known_hosts"), $"{LoginAlias} {hostKey}\n");

        Port = FreePort();
        var socket = Path.Combine(dir, "login.sock");
        File.WriteAllText(Path.Combine(dir, "sshd_config"), $"""
            ListenAddress 127.0.0.1:{Port}
            HostKey {dir}/host_ed25519
            PidFile none
            AuthorizedKeysFile {dir}/authorized_keys
            AuthenticationMethods publickey
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            # the test user's password is locked ("!"): PAM's account check accepts a key login anyway
            UsePAM yes
            # the key files live under /tmp, which is world-writable
            StrictModes no
            AllowUsers {user.Name}
            AllowTcpForwarding local
            PermitTTY no
            X11Forwarding no
            # DEBUG1 names each forwarded connection's target
            LogLevel DEBUG1

            """);
        Directory.CreateDirectory("/run/sshd"); // sshd's privilege separation folder, as Debian's service makes it
        var sshd = Background("/usr/sbin/sshd", ["-D", "-e", "-f", Path.Combine(dir, "sshd_config")], _sshdLog);
        WaitFor(() => _sshdLog.ToString().Contains("Server listening on 127.0.0.1"), () => sshd.HasExited, "sshd to listen");
        Background("socat", [$"UNIX-LISTEN:{socket},fork,user={user.Name},mode=600", $"TCP:127.0.0.1:{Port}"], _sshdLog);
        WaitFor(() => File.Exists(socket), () => false, "the socket to the login node");

        File.WriteAllText(Path.Combine(ssh, "config"), $"""
            # how this computer reaches the login node (as ~/.ssh/config would say it)
            Host {LoginAlias}
              ProxyCommand socat STDIO UNIX-CONNECT:{socket}
              HostKeyAlias {LoginAlias}
              UserKnownHostsFile {ssh}/known_hosts
              StrictHostKeyChecking yes
              IdentityFile {ssh}/id_ed25519
              IdentitiesOnly yes
              BatchMode yes
              ExitOnForwardFailure yes

            """);
        Must(_root.Exec("chown", ["-R", $"{user.Name}:", Home]));
        Must(_root.Exec("chmod", ["-R", "go-rwx", ssh]));

        // the computer's own network: loopback only
        var netns = Process.Start(new ProcessStartInfo("unshare", ["--net", "sleep", "3600"]) { UseShellExecute = false })!;
        _started.Add(netns);
        WaitFor(() => !netns.HasExited && File.ReadAllText($"/proc/{netns.Id}/comm").Trim() == "sleep", () => netns.HasExited, "the laptop's network namespace");
        Must(_root.Exec("nsenter", [$"--net=/proc/{netns.Id}/ns/net", "ip", "link", "set", "lo", "up"]));
        return netns;
    }

    /// <summary>The laptop user's home (its own ~/.ssh, browser profile, screenshots).</summary>
    public string Home { get; }

    public string ServerDir { get; }

    public int Port { get; private set; }

    public string SshConfig => Path.Combine(Home, ".ssh", "config");

    /// <summary>sshd's own log (connections, forwards), for failure messages.</summary>
    public string SshdLog => _sshdLog.ToString();

    /// <summary>
    /// An ssh command line as kjupyter printed it, run on the laptop. ssh reads ~/.ssh/config from
    /// the passwd home, not $HOME, so the laptop's file comes with -F; the rest is verbatim.
    /// </summary>
    public Process Ssh(string printedLine, StringBuilder log)
    {
        var argv = printedLine.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("ssh", argv[0]);
        return Background("nsenter", [.. AsUser(), argv[0], "-F", SshConfig, .. argv[1..]], log);
    }

    /// <summary>A program run on the laptop, as the person (not root), with a clean environment.</summary>
    public Result Run(string program, IEnumerable<string> args, int timeoutMs)
        => _root.Exec("nsenter", [.. AsUser(), program, .. args], cwd: Home, timeoutMs: timeoutMs);

    string[] AsUser() =>
    [
        $"--net=/proc/{_netns.Id}/ns/net", "runuser", "-u", _user.Name, "--",
        "env", "-i", "PATH=/usr/bin:/bin", $"HOME={Home}", $"USER={_user.Name}", "LANG=C.UTF-8",
    ];

    Process Background(string program, IEnumerable<string> args, StringBuilder log)
    {
        var psi = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        void Append(object _, DataReceivedEventArgs e)
        {
            if (e.Data is null)
                return;
            lock (log)
                log.Append(e.Data).Append('\n');
        }
        p.OutputDataReceived += Append;
        p.ErrorDataReceived += Append;
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        _started.Add(p);
        return p;
    }

    static void WaitFor(Func<bool> ready, Func<bool> failed, string what)
    {
        var until = DateTime.UtcNow.AddSeconds(30);
        while (!ready())
        {
            if (failed() || DateTime.UtcNow > until)
                throw new InvalidOperationException($"gave up waiting for {what}");
            Thread.Sleep(50);
        }
    }

    static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    static void Must(Result r)
    {
        if (r.Code != 0)
            throw new InvalidOperationException(r.ToString());
    }

    public void Dispose()
    {
        foreach (var p in Enumerable.Reverse(_started))
        {
            try
            {
                if (!p.HasExited)
                    p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }
            catch (InvalidOperationException) { }
            p.Dispose();
        }
        try { Directory.Delete(ServerDir, recursive: true); } catch { /* best effort */ }
        _root.Dispose();
    }
}
