using Vigil.Host.Daemon;

namespace Vigil.Tests;

/// <summary>
/// Two-node clusters without a witness, as the seeds build them: real daemons on 127.0.0.1. A survivor
/// may carry on alone with no-quorum-policy=ignore (seed 001) or by fencing its peer first.
/// </summary>
[Collection("cluster")]
public class TwoNodeTests
{
    private const string Group = """
        primitive a vigil:Dummy op monitor interval=2s
        primitive b vigil:Dummy op monitor interval=2s
        group g a b
        rsc_defaults resource-stickiness=100
        """;

    /// <summary>Seed 001's properties: no fencing, quorum ignored.</summary>
    private const string Seed001 = "property stonith-enabled=false no-quorum-policy=ignore\n" + Group;

    private static string StartGroup(LocalCluster c, string config)
    {
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 2, TimeSpan.FromSeconds(60), "two-node cluster formation");
        var r = VigilProcess.Run(config, "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, $"configure exit {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
        return ClusterTests.GroupNode(c.WaitFor(s => ClusterTests.GroupNode(s) is not null, TimeSpan.FromSeconds(60), "group start"))!;
    }

    private static StatusResponse StatusOf(LocalCluster c, string node, Func<StatusResponse, bool> condition, string what) =>
        c.WaitFor(s => s.Node == node && condition(s), TimeSpan.FromSeconds(30), what);

    /// <summary>Power loss: the daemon dies, and what agents kept in the runtime directory (RAM in real life) is gone.</summary>
    private static void PowerOff(LocalCluster c, string node)
    {
        c.Kill(node);
        var run = Path.Combine(c.Dir, node, "run");
        if (Directory.Exists(run)) Directory.Delete(run, recursive: true);
    }

    [Fact]
    public void Seed_001_two_nodes_fail_over_on_power_off_and_the_group_stays_when_the_node_returns()
    {
        using var c = new LocalCluster(2);
        var victim = StartGroup(c, Seed001);
        var survivor = victim == "n1" ? "n2" : "n1";

        PowerOff(c, victim);
        var alone = StatusOf(c, survivor, s => s.Alone is not null && ClusterTests.GroupNode(s) == survivor, "failover to the survivor, alone");
        Assert.Equal(victim, alone.Alone!.Peer);
        Assert.Contains("no-quorum-policy=ignore", alone.Alone.Reason);
        Assert.Equal(["a", "b"], alone.LocalActive);
        var text = VigilProcess.Run(null, "status", "--settings", c.SettingsFile(survivor));
        Assert.Contains($"ALONE without {victim}", text.Stdout);
        Assert.Contains("running alone since", text.Stdout);

        // A change made alone would be lost on reunion: refused, with what to do, and nothing changes.
        var refused = VigilProcess.Run("primitive c vigil:Dummy\n" + Seed001, "configure", "load", "--settings", c.SettingsFile(survivor), "-");
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("runs alone", refused.Stdout + refused.Stderr);
        Assert.DoesNotContain(c.Status(survivor)!.Resources, r => r.Id == "c");

        // The node comes back: one cluster again, and the group stays on the survivor (stickiness, no failback).
        var logLines = c.Members.Keys.ToDictionary(n => n, n => File.ReadAllLines(Path.Combine(c.Dir, $"{n}.log")).Length);
        c.Start(victim);
        var together = c.WaitFor(s => s.Alone is null && s.Leader is not null && s.Nodes.All(n => n.Online) && ClusterTests.GroupNode(s) == survivor
                                      && s.Resources.All(r => r.Nodes.Count == 1), TimeSpan.FromSeconds(60), "reunion with the group in place");
        // The leader re-probes the survivor once it sees its new boot epoch (asked at least every 2 s): within a bound.
        string LeaderLog() => string.Join("\n", File.ReadAllLines(Path.Combine(c.Dir, $"{together.Leader}.log")).Skip(logLines[together.Leader!]));
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (!LeaderLog().Contains($"node {survivor} ran alone while cut off", StringComparison.Ordinal) && sw.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(100);
        var leaderLog = LeaderLog();
        Assert.Contains($"node {survivor} ran alone while cut off", leaderLog);
        Assert.DoesNotContain($"dispatch start a on {victim}", leaderLog);
        Assert.DoesNotContain($"dispatch stop a on {survivor}", leaderLog);
        Assert.Contains(survivor + ": " + victim + " answers again: no longer alone", File.ReadAllText(Path.Combine(c.Dir, $"{survivor}.log")));
        // Changes are accepted again.
        Assert.Equal(0, VigilProcess.Run(null, "property", "cluster-recheck-interval=5min", "--settings", c.SettingsFile(survivor)).ExitCode);
    }

    [Fact]
    public void With_a_fence_device_the_survivor_fences_its_frozen_peer_before_starting_its_group_after_the_death_match_delay()
    {
        using var c = new LocalCluster(2, fenceAgent: true);
        var victim = StartGroup(c, $"""
            property stonith-enabled=true priority-fencing-delay=4s
            primitive fence stonith:fence_vigiltest params pcmk_host_list="n1 n2" piddir="{c.PidDir}" log="{c.FenceLog}" op monitor interval=10s
            {Group}
            """);
        var survivor = victim == "n1" ? "n2" : "n1";
        c.Signal(victim, "STOP");
        var after = StatusOf(c, survivor, s => ClusterTests.GroupNode(s) == survivor, "failover after fencing");
        Assert.NotNull(after.Alone);
        Assert.Contains($"fencing {victim}", after.Alone!.Reason);
        Assert.True(c.Processes[victim].WaitForExit(5000), "the fenced daemon still runs");

        var log = File.ReadAllLines(Path.Combine(c.Dir, $"{survivor}.log"));
        int alone = Array.FindIndex(log, l => l.Contains("running alone", StringComparison.Ordinal));
        int race = Array.FindIndex(log, l => l.Contains("two-node fence race", StringComparison.Ordinal));
        int fenced = Array.FindIndex(log, l => l.Contains($"fenced {victim} with fence", StringComparison.Ordinal));
        int start = Array.FindIndex(log, l => l.Contains($"dispatch start a on {survivor}", StringComparison.Ordinal));
        Assert.True(alone >= 0 && race > alone && fenced > race && start > fenced,
            $"alone {alone}, race {race}, fenced {fenced}, start {start}:\n{string.Join("\n", log.TakeLast(40))}");
        // The victim ran the group, so it was favoured: the survivor fences it the configured delay (plus half of it
        // when the victim's name sorts first) after it missed it.
        Assert.Contains($"{victim} is favoured", log[race]);
        Assert.Contains($"fences {victim} {(string.CompareOrdinal(victim, survivor) < 0 ? 6000 : 4000)} ms after it missed it", log[race]);
        Assert.Contains(after.FencingHistory, h => h.Contains($"{victim}  reboot  done", StringComparison.Ordinal));
    }

    [Fact]
    public void A_node_that_starts_without_seeing_its_peer_does_not_carry_on_alone()
    {
        using var c = new LocalCluster(2);
        StartGroup(c, Seed001);
        PowerOff(c, "n1");
        PowerOff(c, "n2");
        c.Start("n1");   // n2 stays down: wait for all
        var log = Path.Combine(c.Dir, "n1.log");
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromSeconds(30) && !File.ReadAllText(log).Contains("has not seen its peer since it started", StringComparison.Ordinal))
            Thread.Sleep(100);
        Assert.Contains("has not seen its peer since it started", File.ReadAllText(log));
        var s = c.WaitFor(x => x.Node == "n1", TimeSpan.FromSeconds(10), "status of n1");
        Assert.Null(s.Alone);
        Assert.Empty(s.LocalActive);
        Assert.Null(s.Leader);
    }
}
