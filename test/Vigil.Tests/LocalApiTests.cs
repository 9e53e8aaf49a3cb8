namespace Vigil.Tests;

/// <summary>
/// The local API socket: root and members of the node's API group use 'vigil' without the node's
/// credentials; other users are refused by the socket's mode, and by the daemon itself when the mode
/// would let them in. The API group here is 'nogroup' (gid 65534), so no account is created for the test.
/// </summary>
public class LocalApiTests
{
    private const int Nobody = 65534, NoGroup = 65534, DaemonUser = 1, DaemonGroup = 1;

    [Fact]
    public async Task Root_and_the_api_group_use_the_local_socket_and_other_users_are_refused_with_the_reason()
    {
        Assert.True(Environment.IsPrivilegedProcess, "this test runs commands as other users: run the suite as root");
        using var c = new LocalCluster(3, apiGroup: "nogroup");
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        var socket = c.Socket("n1");
        Assert.True(File.Exists(socket), $"no local socket at {socket}");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite, File.GetUnixFileMode(socket));
        var env = new Dictionary<string, string> { ["VIGIL_SOCKET"] = socket };

        // Root, without --settings: the socket alone.
        var root = VigilProcess.RunWith(env, null, "status");
        Assert.True(root.ExitCode == 0 && root.Stdout.Contains("n2", StringComparison.Ordinal), $"root: exit {root.ExitCode}\n{root.Stdout}{root.Stderr}");

        // A member of the API group (its primary group here) may read and change the cluster.
        var member = VigilProcess.RunAs(Nobody, NoGroup, env, "status");
        Assert.True(member.ExitCode == 0 && member.Stdout.Contains("n3", StringComparison.Ordinal), $"nobody:nogroup: exit {member.ExitCode}\n{member.Stdout}{member.Stderr}");
        var standby = VigilProcess.RunAs(Nobody, NoGroup, env, "node", "standby", "n3");
        Assert.True(standby.ExitCode == 0, $"nobody:nogroup standby: exit {standby.ExitCode}\n{standby.Stdout}{standby.Stderr}");
        c.WaitFor(s => s.Nodes.Single(n => n.Name == "n3").Standby, TimeSpan.FromSeconds(20), "n3 in standby");

        // Another user: the socket's mode refuses it, and the CLI says what to do.
        var other = VigilProcess.RunAs(DaemonUser, DaemonGroup, env, "status");
        Assert.NotEqual(0, other.ExitCode);
        Assert.Contains("permission denied", other.Stderr, StringComparison.Ordinal);
        Assert.Contains("usermod -aG", other.Stderr, StringComparison.Ordinal);

        // With the mode opened up, the daemon itself refuses it (SO_PEERCRED), changes nothing, and logs who it was.
        File.SetUnixFileMode(socket, File.GetUnixFileMode(socket) | UnixFileMode.OtherRead | UnixFileMode.OtherWrite);
        var online = VigilProcess.RunAs(DaemonUser, DaemonGroup, env, "node", "online", "n3");
        Assert.NotEqual(0, online.ExitCode);
        Assert.Contains("the local API is for root and members of the 'nogroup' group: uid 1", online.Stderr, StringComparison.Ordinal);
        await Task.Delay(1000);
        Assert.True(c.Status("n1")!.Nodes.Single(n => n.Name == "n3").Standby, "a refused user's change went through");
        var log = File.ReadAllText(Path.Combine(c.Dir, "n1.log"));
        Assert.Contains("local socket: uid 1 (daemon", log, StringComparison.Ordinal);

        // Only the user endpoints are served there, even to root: node-to-node calls need the node's certificate.
        var local = Vigil.Cli.ApiTarget.Local(socket);
        using var http = local.Client(TimeSpan.FromSeconds(10));
        using var execute = await http.PostAsync(new Uri(local.Url("/v1/node/execute")), new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, execute.StatusCode);
        Assert.Contains("not served on the local socket", await execute.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
