using System.Net;
using System.Net.Sockets;

namespace Vigil.Tests;

/// <summary>Broken settings, credentials and busy ports give a clear message and a distinct exit code, never "internal error".</summary>
public class DaemonCliTests
{
    private static string Write(string json)
    {
        var path = Path.Combine(Path.GetTempPath(), $"vigil-settings-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, json);
        return path;
    }

    [Theory]
    [InlineData("not json", "not valid settings JSON")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"},"b":{"raft":"127.0.0.1:1","api":"127.0.0.1:3"}}}""", "member 'b' raft address 127.0.0.1:1 is also used by a (raft)")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":null}""", "'members' must all be given")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"b":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}}}""", "no entry for this node 'a'")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"here","api":"127.0.0.1:2"}}}""", "is not ip:port")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2","witness":true}}}""", "every member is a witness")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}},"localSocket":"relative/api.sock"}""", "must be an absolute path of at most 107 bytes")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}},"runtimeDirectory":"/tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""", "must be an absolute path of at most 107 bytes")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}},"watchdogDevice":"dev/watchdog"}""", "'watchdogDevice' must be an absolute path")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}},"watchdogDevice":"/dev/watchdog","watchdogTimeoutSeconds":0}""", "between 1 and 60 (it is 0)")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}},"selfFenceAction":"halt"}""", "'selfFenceAction' is 'halt'; it must be \"reboot\"")]
    [InlineData("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}},"resetTrigger":"proc/sysrq-trigger"}""", "'resetTrigger' must be an absolute path")]
    public void Broken_settings_are_refused_with_the_reason(string json, string message)
    {
        var path = Write(json);
        try
        {
            foreach (var args in new[] { new[] { "daemon", "--settings", path }, new[] { "status", "--settings", path } })
            {
                var r = VigilProcess.Run(null, args);
                Assert.Equal(66, r.ExitCode);
                Assert.Contains(message, r.Stderr);
                Assert.DoesNotContain("internal error", r.Stderr);
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_file_where_the_local_socket_belongs_is_left_alone_and_the_daemon_says_why()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"vigil-sock-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        var file = Path.Combine(dir, "api.sock");
        File.WriteAllText(file, "precious");
        var members = new Dictionary<string, object>
        {
            ["a"] = new { raft = $"127.0.0.1:{Vigil.Host.Net.LoopbackPorts.Free()}", api = $"127.0.0.1:{Vigil.Host.Net.LoopbackPorts.Free()}" },
            ["b"] = new { raft = "127.0.0.1:1", api = "127.0.0.1:2" },
        };
        var path = Write(System.Text.Json.JsonSerializer.Serialize(new { name = "a", dataDirectory = Path.Combine(dir, "data"), runtimeDirectory = Path.Combine(dir, "run"), localSocket = file, members }));
        try
        {
            var r = VigilProcess.Run(null, "daemon", "--settings", path);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains($"{file} is a file, not a socket; it is left alone", r.Stderr);
            Assert.Equal("precious", File.ReadAllText(file));
        }
        finally
        {
            File.Delete(path);
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_watchdog_device_that_cannot_be_opened_stops_the_daemon_before_it_joins()
    {
        var data = Path.Combine(Path.GetTempPath(), $"vigil-dog-{Guid.NewGuid():N}");
        var members = $"{{\"a\":{{\"raft\":\"127.0.0.1:{Vigil.Host.Net.LoopbackPorts.Free()}\",\"api\":\"127.0.0.1:{Vigil.Host.Net.LoopbackPorts.Free()}\"}}}}";
        var path = Write($"{{\"name\":\"a\",\"dataDirectory\":\"{data}\",\"members\":{members},\"localSocket\":\"\",\"watchdogDevice\":\"{data}/no-such-watchdog\"}}");
        try
        {
            var r = VigilProcess.Run(null, "daemon", "--settings", path);
            Assert.Equal(66, r.ExitCode);
            Assert.Contains($"cannot open the watchdog device {data}/no-such-watchdog: No such file or directory", r.Stderr);
            Assert.Contains("remove WatchdogDevice from the settings", r.Stderr);
            Assert.False(Directory.Exists(Path.Combine(data, "raft")), "consensus started without the watchdog");
        }
        finally
        {
            File.Delete(path);
            if (Directory.Exists(data)) Directory.Delete(data, recursive: true);
        }
    }

    [Fact]
    public void Missing_credentials_are_named()
    {
        var path = Write("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}},"tlsDirectory":"/nonexistent-vigil"}""");
        try
        {
            var r = VigilProcess.Run(null, "status", "--settings", path);
            Assert.Equal(66, r.ExitCode);
            Assert.Contains("cannot load this node's credentials", r.Stderr);
            Assert.Contains("/nonexistent-vigil/ca.crt", r.Stderr);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void A_busy_port_stops_the_daemon_with_the_address_in_the_message()
    {
        using var busy = new TcpListener(IPAddress.Loopback, 0);
        busy.Start();
        var port = ((IPEndPoint)busy.LocalEndpoint).Port;
        var data = Path.Combine(Path.GetTempPath(), $"vigil-busy-{Guid.NewGuid():N}");
        var members = new Dictionary<string, object>
        {
            ["a"] = new { raft = $"127.0.0.1:{port}", api = $"127.0.0.1:{Vigil.Host.Net.LoopbackPorts.Free()}" },
            ["b"] = new { raft = "127.0.0.1:1", api = "127.0.0.1:2" },
        };
        var path = Write(System.Text.Json.JsonSerializer.Serialize(new { name = "a", dataDirectory = data, members }));
        try
        {
            var r = VigilProcess.Run(null, "daemon", "--settings", path);
            Assert.Equal(2, r.ExitCode);
            Assert.Contains($"cannot start node a (raft 127.0.0.1:{port}", r.Stderr);
            Assert.DoesNotContain("internal error", r.Stderr);
        }
        finally
        {
            File.Delete(path);
            try { Directory.Delete(data, recursive: true); } catch (IOException) { }
        }
    }

    [Fact]
    public void Vigil_witness_refuses_settings_of_a_resource_node()
    {
        var path = Write("""{"name":"a","dataDirectory":"/tmp/x","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"},"w":{"raft":"127.0.0.1:3","api":"127.0.0.1:4","witness":true}}}""");
        try
        {
            var r = VigilProcess.Run(null, "witness", "--settings", path);
            Assert.Equal(64, r.ExitCode);
            Assert.Contains("'a' is not a witness", r.Stderr);
        }
        finally { File.Delete(path); }
    }
}
