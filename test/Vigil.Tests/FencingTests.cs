using Vigil.Host.Daemon;

namespace Vigil.Tests;

/// <summary>
/// Fencing in real 3-node clusters on 127.0.0.1: a test fence agent "powers off" a node by killing its
/// daemon. The node to fence is frozen (SIGSTOP), not dead: only fencing makes recovery safe.
/// </summary>
[Collection("cluster")]
public class FencingTests
{
    private static string Config(LocalCluster c, bool fail) => $"""
        property stonith-enabled=true
        primitive fence stonith:fence_vigiltest params pcmk_host_list="n1 n2 n3" piddir="{c.PidDir}" log="{c.FenceLog}" fail={(fail ? 1 : 0)} op monitor interval=10s
        primitive a vigil:Dummy op monitor interval=2s
        primitive b vigil:Dummy op monitor interval=2s
        group g a b
        """;

    private static string StartGroup(LocalCluster c, bool fail)
    {
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        var r = VigilProcess.Run(Config(c, fail), "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, $"configure exit {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
        var running = c.WaitFor(s => ClusterTests.GroupNode(s) is not null && s.Resources.Any(x => x.Id == "fence" && x.Role == "Started"), TimeSpan.FromSeconds(60), "group and fence device start");
        return ClusterTests.GroupNode(running)!;
    }

    [Fact]
    public void A_frozen_node_is_fenced_before_its_group_starts_elsewhere()
    {
        using var c = new LocalCluster(3, fenceAgent: true);
        var victim = StartGroup(c, fail: false);
        c.Signal(victim, "STOP");
        var after = c.WaitFor(s => ClusterTests.GroupNode(s) is { } n && n != victim, TimeSpan.FromSeconds(30), "failover after fencing");
        var survivor = ClusterTests.GroupNode(after)!;

        // The agent ran once for the victim and killed it.
        var fenced = File.ReadAllLines(c.FenceLog);
        Assert.Single(fenced, l => l.EndsWith($" {victim}", StringComparison.Ordinal));
        Assert.True(c.Processes[victim].WaitForExit(5000), "the fenced daemon still runs");

        // In the log of the leader that recovered, the fence comes before the first start on the survivor.
        var leaderLog = File.ReadAllLines(Path.Combine(c.Dir, $"{after.Leader}.log"));
        int fenceLine = Array.FindIndex(leaderLog, l => l.Contains($"fenced {victim} with fence", StringComparison.Ordinal));
        int startLine = Array.FindIndex(leaderLog, l => l.Contains($"dispatch start a on {survivor}", StringComparison.Ordinal));
        Assert.True(fenceLine >= 0 && startLine > fenceLine, $"fence at line {fenceLine}, start at line {startLine}:\n{string.Join("\n", leaderLog.TakeLast(40))}");
        Assert.Contains(after.FencingHistory, h => h.Contains($"{victim}  reboot  done", StringComparison.Ordinal));

        var history = VigilProcess.Run(null, "fence", "history", "--settings", c.SettingsFile(after.Leader!));
        Assert.Equal(0, history.ExitCode);
        Assert.Contains($"{victim}  reboot  done  by {after.Leader} (controller) with fence", history.Stdout);
    }

    [Fact]
    public void A_failing_fence_device_leaves_the_group_blocked_and_says_why_until_an_operator_acknowledges()
    {
        using var c = new LocalCluster(3, fenceAgent: true);
        var victim = StartGroup(c, fail: true);
        var other = c.Members.Keys.First(n => n != victim);
        c.Signal(victim, "STOP");
        var failed = c.WaitFor(s => s.Fencing.Any(f => f.StartsWith($"fencing {victim} failed", StringComparison.Ordinal)), TimeSpan.FromSeconds(30), "fencing failure in status");
        Assert.Contains(failed.Fencing, f => f.Contains("the test power switch does not answer", StringComparison.Ordinal) && f.Contains($"vigil fence ack {victim}", StringComparison.Ordinal));

        // Blocked: for 3 s (several retries) the group runs nowhere else.
        var until = DateTime.UtcNow.AddSeconds(3);
        while (DateTime.UtcNow < until)
        {
            var s = c.Status(other);
            Assert.True(s is null || s.Resources.Where(r => r.Group == "g").All(r => r.Nodes.All(n => n == victim)), "the group started elsewhere although fencing failed");
            Thread.Sleep(200);
        }
        var text = VigilProcess.Run(null, "status", "--settings", c.SettingsFile(other));
        Assert.True(text.Stdout.Contains("Fencing:", StringComparison.Ordinal), text.Stdout + text.Stderr);
        Assert.Contains($"fencing {victim} failed", text.Stdout);

        // Without a terminal, the acknowledgement needs --yes; with it, the group is recovered.
        var unconfirmed = VigilProcess.Run(null, "fence", "ack", victim, "--settings", c.SettingsFile(other));
        Assert.Equal(3, unconfirmed.ExitCode);
        Assert.Contains("add --yes", unconfirmed.Stderr);
        var ack = VigilProcess.Run(null, "fence", "ack", victim, "--yes", "--settings", c.SettingsFile(other));
        Assert.True(ack.ExitCode == 0, ack.Stderr);
        var after = c.WaitFor(s => ClusterTests.GroupNode(s) is { } n && n != victim, TimeSpan.FromSeconds(30), "recovery after the acknowledgement");
        Assert.Contains(after.FencingHistory, h => h.Contains($"{victim}  ack  done", StringComparison.Ordinal));
        Assert.False(File.Exists(c.FenceLog) && File.ReadAllText(c.FenceLog).Contains(victim, StringComparison.Ordinal), "a failing device must not have killed anything");
    }

    [Fact]
    public void Fence_test_runs_the_device_monitor_and_names_unknown_devices()
    {
        using var c = new LocalCluster(3, fenceAgent: true);
        StartGroup(c, fail: false);
        var ok = VigilProcess.Run(null, "fence", "test", "fence", "--node", "n2", "--settings", c.SettingsFile("n1"));
        Assert.True(ok.ExitCode == 0, ok.Stdout + ok.Stderr);
        Assert.Contains("fence (fence_vigiltest) monitor: ok", ok.Stdout);
        Assert.Contains("status of n2: powered on", ok.Stdout);
        var unknown = VigilProcess.Run(null, "fence", "test", "nosuch", "--settings", c.SettingsFile("n1"));
        Assert.Equal(3, unknown.ExitCode);
        Assert.Contains("configured: fence", unknown.Stderr);
    }
}
