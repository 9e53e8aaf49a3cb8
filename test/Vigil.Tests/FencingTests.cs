using System.Net.Http.Json;
using Vigil.Host.Daemon;

namespace Vigil.Tests;

/// <summary>
/// Fencing in real 3-node clusters on 127.0.0.1: a test fence agent "powers off" a node by killing its
/// daemon. The node to fence is frozen (SIGSTOP), not dead: only fencing makes recovery safe.
/// </summary>
[Collection("cluster")]
public class FencingTests
{
    private static string Config(LocalCluster c, bool fail) =>
        Config($"""primitive fence stonith:fence_vigiltest params pcmk_host_list="n1 n2 n3" piddir="{c.PidDir}" log="{c.FenceLog}" fail={(fail ? 1 : 0)} op monitor interval=10s""");

    private static string Config(string device) => $"""
        property stonith-enabled=true
        {device}
        primitive a vigil:Dummy op monitor interval=2s
        primitive b vigil:Dummy op monitor interval=2s
        group g a b
        """;

    private static string StartGroup(LocalCluster c, bool fail) => StartGroup(c, Config(c, fail), "fence");

    private static string StartGroup(LocalCluster c, string config, string device)
    {
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        var r = VigilProcess.Run(config, "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, $"configure exit {r.ExitCode}:\n{r.Stdout}\n{r.Stderr}");
        var running = c.WaitFor(s => ClusterTests.GroupNode(s) is not null && s.Resources.Any(x => x.Id == device && x.Role == "Started"), TimeSpan.FromSeconds(60), "group and fence device start");
        return ClusterTests.GroupNode(running)!;
    }

    [Fact]
    public void Debians_fence_dummy_works_as_a_configured_device()
    {
        using var c = new LocalCluster(3);
        var victim = StartGroup(c, Config("""primitive fd stonith:fence_dummy params pcmk_host_list="n1 n2 n3" op monitor interval=10s"""), "fd");
        c.Signal(victim, "STOP");
        var after = c.WaitFor(s => ClusterTests.GroupNode(s) is { } n && n != victim, TimeSpan.FromSeconds(30), "failover after fencing with fence_dummy");
        Assert.Contains(after.FencingHistory, h => h.Contains($"{victim}  reboot  done", StringComparison.Ordinal) && h.EndsWith("with fd", StringComparison.Ordinal));
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
        Assert.Contains($"Node {victim}: UNCLEAN (offline)", text.Stdout);
        Assert.Contains($"{victim} (UNCLEAN)", text.Stdout);   // its resources may still run there
        Assert.Contains($"{victim}\tUNCLEAN", VigilProcess.Run(null, "node", "list", "--settings", c.SettingsFile(other)).Stdout);

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
    public async Task Fence_test_runs_the_device_monitor_and_names_unknown_devices()
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

        // Bad requests are refused with the reason and fence nothing.
        var noNode = VigilProcess.Run(null, "node", "fence", "nosuch", "--yes", "--settings", c.SettingsFile("n1"));
        Assert.Equal(3, noNode.ExitCode);
        Assert.Contains("there is no node 'nosuch'", noNode.Stderr);
        var target = c.Target("n1");
        using var http = target.Client(TimeSpan.FromSeconds(10));
        using var badAction = await http.PostAsJsonAsync(target.Url("/v1/operate"), new OperateRequest("fence", null, "n2") { Action = "explode" });
        Assert.Equal(422, (int)badAction.StatusCode);
        Assert.Contains("unknown fence action 'explode'", await badAction.Content.ReadAsStringAsync());
        using var badTarget = await http.PostAsJsonAsync(target.Url("/v1/node/fence"), new NodeFenceRequest(c.Status("n1")!.Term, "nosuch", "reboot"));
        Assert.Equal(400, (int)badTarget.StatusCode);
        Assert.False(File.Exists(c.FenceLog), "a refused request fenced something");
    }

    private const string LeaseConfig = """
        property stonith-enabled=true stonith-watchdog-timeout=3s
        primitive a vigil:Dummy op monitor interval=2s
        primitive b vigil:Dummy op monitor interval=2s
        group g a b
        """;

    /// <summary>Forms the cluster, loads <see cref="LeaseConfig"/>, and returns the node the group started on.</summary>
    private static string RunLeaseGroup(LocalCluster c)
    {
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        var r = VigilProcess.Run(LeaseConfig, "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);
        var victim = ClusterTests.GroupNode(c.WaitFor(s => ClusterTests.GroupNode(s) is not null, TimeSpan.FromSeconds(60), "group start"))!;
        return victim;
    }

    [Fact]
    public void Without_a_fence_device_a_lost_node_counts_as_fenced_only_after_the_watchdog_timeout()
    {
        using var c = new LocalCluster(3);
        var victim = RunLeaseGroup(c);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        c.Kill(victim);
        var waiting = c.WaitFor(s => s.Fencing.Any(f => f.Contains("lease self-fencing", StringComparison.Ordinal)), TimeSpan.FromSeconds(20), "lease wait in status");
        Assert.Contains(waiting.Resources, x => x.Id == "a" && x.Nodes.SequenceEqual([victim]));
        Assert.Contains(waiting.Warnings, w => w.StartsWith($"lease self-fencing without a watchdog device on {waiting.Node}", StringComparison.Ordinal));
        // These members share one host, so their self-fence only exits (LocalCluster): status says what that leaves up.
        Assert.Contains(waiting.Warnings, w => w.StartsWith($"lease self-fencing with selfFenceAction=exit on {waiting.Node}", StringComparison.Ordinal));
        var after = c.WaitFor(s => ClusterTests.GroupNode(s) is { } n && n != victim, TimeSpan.FromSeconds(30), "recovery after the lease");
        // The majority counts the lease from 0.4 s before the node stopped answering it (at the kill at the earliest), or
        // for a former leader from 0.7 s before the next election (which needs a timer to run out after the last heartbeat,
        // so it comes after the kill): 2.6 s or 2.3 s after the kill at the earliest.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.25), $"recovered {clock.Elapsed.TotalSeconds:F2} s after the kill, before the 3 s lease (less what the majority may count early) ran out");
        Assert.Contains(after.FencingHistory, h => h.Contains($"{victim}  reboot  done", StringComparison.Ordinal) && h.Contains("watchdog-lease", StringComparison.Ordinal));
    }

    [Fact]
    public void With_lease_rounds_the_majority_counts_a_lost_nodes_lease_from_the_last_receipt_of_its_rounds()
    {
        using var c = new LocalCluster(3, leaseRounds: true);
        var victim = RunLeaseGroup(c);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        c.Kill(victim);
        var after = c.WaitFor(s => ClusterTests.GroupNode(s) is { } n && n != victim, TimeSpan.FromSeconds(30), "recovery after the lease");
        // The receipts bound the count: the last one (a round every 100 ms, so at most 0.3 s before the kill) less
        // 0.6 s (2 x 200 ms answer window - 1.1 s skew + 0.1 s margin), plus the 3 s lease: 2.1 s after the kill at the earliest.
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2.1), $"recovered {clock.Elapsed.TotalSeconds:F2} s after the kill, before the 3 s lease (less what the receipts allow) ran out");
        Assert.Contains(after.FencingHistory, h => h.Contains($"{victim}  reboot  done", StringComparison.Ordinal) && h.Contains("watchdog-lease", StringComparison.Ordinal));
        var logs = string.Join("\n", c.Members.Keys.Where(n => n != victim).Select(n => File.ReadAllText(Path.Combine(c.Dir, $"{n}.log"))));
        Assert.Matches($@"{victim}'s lease expired \d+ ms early by its lease rounds: counted from 600 ms before the last lease request of it that n\d received", logs);
        Assert.All(after.Resources, x => Assert.True(x.Nodes.Count <= 1, $"{x.Id} on {string.Join(", ", x.Nodes)}"));
    }

    [Fact]
    public async Task Lease_rounds_start_only_once_the_configuration_uses_lease_self_fencing()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        using var n1 = c.Target("n1").Client(TimeSpan.FromSeconds(10));
        async Task<List<LeaseReceiptResponse?>> Receipts() => (await Task.WhenAll(
            from at in c.Members.Keys from of in c.Members.Keys where at != of
            select n1.GetFromJsonAsync<LeaseReceiptResponse>(c.Target(at).Url($"/v1/node/lease-receipt/{of}"), WireJson.Web))).ToList();
        // Without lease self-fencing they would shorten nothing: no node sends any (each would cost ~50 wake-ups a second).
        var r = VigilProcess.Run("property stonith-enabled=false\nprimitive a vigil:Dummy op monitor interval=2s\n", "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);
        c.WaitFor(s => s.Resources.Any(x => x.Id == "a" && x.Nodes.Count == 1), TimeSpan.FromSeconds(30), "a started");
        Thread.Sleep(1000);
        Assert.All(await Receipts(), x => Assert.True(x is { AgeMs: null, Boot: null }, $"a receipt without lease self-fencing: {x}"));
        Assert.DoesNotContain("lease rounds: started", c.Logs());
        // Once the configuration uses it, every node starts them (while a runs) and each one's requests are noted by the
        // others: noted only once its contact is bound by its rounds.
        r = VigilProcess.Run("property stonith-enabled=true stonith-watchdog-timeout=3s\nprimitive a vigil:Dummy op monitor interval=2s\n", "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        List<LeaseReceiptResponse?> receipts;
        while ((receipts = await Receipts()).Any(x => x is not { AgeMs: < 1000, Boot: not null }) && clock.Elapsed < TimeSpan.FromSeconds(15)) Thread.Sleep(200);
        Assert.All(receipts, x => Assert.True(x is { AgeMs: < 1000, Boot: not null }, $"{x} after {clock.Elapsed.TotalSeconds:F1} s:\n{c.Logs()}"));
        foreach (var n in c.Members.Keys)
            Assert.Contains("lease rounds: started (the configuration uses lease self-fencing: stonith-watchdog-timeout=3s)", File.ReadAllText(Path.Combine(c.Dir, $"{n}.log")));
        Assert.Contains(c.Status("n1")!.Resources, x => x.Id == "a" && x.Nodes.Count == 1);
    }

    [Fact]
    public void A_node_without_quorum_whose_stop_hangs_resets_itself_and_says_why_after_restart()
    {
        using var c = new LocalCluster(3, watchdog: true);
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        // Every node feeds its watchdog (here a plain file, so every keepalive stays visible) about ten times a second.
        var fed = c.Members.Keys.ToDictionary(n => n, n => new FileInfo(c.WatchdogFile(n)).Length);
        Thread.Sleep(1000);
        Assert.All(c.Members.Keys, n => Assert.True(new FileInfo(c.WatchdogFile(n)).Length - fed[n] >= 3, $"{n} fed its watchdog {new FileInfo(c.WatchdogFile(n)).Length - fed[n]} times in 1 s"));
        const string config = """
            property stonith-enabled=true stonith-watchdog-timeout=3s
            primitive slow vigil:Dummy params stop_delay=60000 op stop timeout=90s op monitor interval=2s
            """;
        var r = VigilProcess.Run(config, "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);
        var running = c.WaitFor(s => s.Resources.Any(x => x.Id == "slow" && x.Role == "Started" && x.Nodes.Count == 1), TimeSpan.FromSeconds(60), "start");
        var victim = running.Resources.Single(x => x.Id == "slow").Nodes[0];
        var process = c.Processes[victim];
        foreach (var other in c.Members.Keys.Where(n => n != victim).ToList()) c.Kill(other);

        // Quorum lost → the stop hangs → at the lease deadline the daemon records why and writes "b" to its reset
        // trigger (here a plain file; /proc/sysrq-trigger would reboot at once); as the host did not reset, it kills its
        // agents and exits 75.
        Assert.True(process.WaitForExit(20_000), $"the node did not reset itself:\n{c.Logs()}");
        Assert.Equal(75, process.ExitCode);
        Assert.Equal("b", File.ReadAllText(c.ResetTriggerFile(victim)));
        Assert.All(c.Members.Keys.Where(n => n != victim), n => Assert.Equal("", File.ReadAllText(c.ResetTriggerFile(n))));
        var record = File.ReadAllText(Path.Combine(c.Dir, victim, "self-fence.json"));
        Assert.Contains("slow not stopped within the lease", record);
        Assert.Contains($"resetting the host through {c.ResetTriggerFile(victim)}", File.ReadAllText(Path.Combine(c.Dir, $"{victim}.log")));
        // Not fed since it had to fence itself, and left armed (no magic close): a real device resets the host.
        var keepalives = File.ReadAllText(c.WatchdogFile(victim));
        Assert.DoesNotContain("V", keepalives);
        Assert.Contains("the watchdog", File.ReadAllText(Path.Combine(c.Dir, $"{victim}.log")));

        c.Processes.Remove(victim);
        c.Start(victim);
        var status = c.WaitFor(s => s.Node == victim, TimeSpan.FromSeconds(30), "the restarted node answers");
        Assert.Contains(status.Warnings, w => w.StartsWith("this node self-fenced at", StringComparison.Ordinal) && w.Contains("slow", StringComparison.Ordinal));
        Assert.DoesNotContain(status.Warnings, w => w.Contains("without a watchdog device", StringComparison.Ordinal));
        Assert.DoesNotContain(status.Warnings, w => w.Contains("selfFenceAction=exit", StringComparison.Ordinal));
        // A clean stop disarms it: the magic close comes last.
        c.Stop(victim);
        Assert.EndsWith("V", File.ReadAllText(c.WatchdogFile(victim)), StringComparison.Ordinal);
    }
    [Fact]
    public void A_stopped_daemon_moves_its_group_away_first_and_leaves_without_being_fenced()
    {
        using var c = new LocalCluster(3, fenceAgent: true, watchdog: true);
        var holder = StartGroup(c, fail: false);
        var exit = c.Stop(holder);
        Assert.True(exit == 0, $"the stopped daemon's exit: {exit?.ToString() ?? "none within 15 s"}\n{c.Logs()}");
        var log = File.ReadAllText(Path.Combine(c.Dir, $"{holder}.log"));
        Assert.Contains("shut down cleanly in", log);
        // The group was stopped there by the cluster (dispatched by whichever node led), not left running.
        var logs = string.Join("\n", c.Members.Keys.Select(n => Path.Combine(c.Dir, $"{n}.log")).Where(File.Exists).Select(File.ReadAllText));
        Assert.Contains($"dispatch stop a on {holder}", logs);
        Assert.Contains($"node {holder} shut down cleanly", logs);
        // Nothing ran there when it left: the watchdog was disarmed (the magic close came last).
        Assert.EndsWith("V", File.ReadAllText(c.WatchdogFile(holder)), StringComparison.Ordinal);
        var after = c.WaitFor(s => ClusterTests.GroupNode(s) is { } n && n != holder, TimeSpan.FromSeconds(20), "the group on another node");
        // Gone, not lost: offline, not unclean, and never fenced.
        var gone = c.WaitFor(s => s.Nodes.Any(n => n.Name == holder && !n.Online), TimeSpan.FromSeconds(20), "the stopped node offline");
        Assert.DoesNotContain(gone.Nodes, n => n.Name == holder && n.Unclean);
        Thread.Sleep(3000);
        Assert.DoesNotContain(File.Exists(c.FenceLog) ? File.ReadAllLines(c.FenceLog) : [], l => l.EndsWith($" {holder}", StringComparison.Ordinal));
        Assert.All(after.Resources, r => Assert.True(r.Nodes.Count <= 1, $"{r.Id} on {string.Join(", ", r.Nodes)}"));

        // Started again, it is an ordinary member: not shutting down, and it may run resources.
        c.Start(holder);
        var back = c.WaitFor(s => s.Nodes.Any(n => n.Name == holder && n.Online), TimeSpan.FromSeconds(30), "the node back online");
        Assert.DoesNotContain(back.Nodes, n => n.Name == holder && n.ShuttingDown);

        // The leader leaves the same way: the others elect another one and fence nobody.
        var leader = back.Leader!;
        Assert.Equal(0, c.Stop(leader));
        var next = c.WaitFor(s => s.Leader is not null && s.Leader != leader && s.Nodes.Any(n => n.Name == leader && !n.Online), TimeSpan.FromSeconds(30), "a new leader, the old one offline");
        Assert.NotNull(ClusterTests.GroupNode(c.WaitFor(s => ClusterTests.GroupNode(s) is { } n && n != leader, TimeSpan.FromSeconds(20), "the group running")));
        Assert.DoesNotContain(next.Nodes, n => n.Unclean);
        Assert.False(File.Exists(c.FenceLog) && File.ReadAllText(c.FenceLog).Trim().Length > 0, $"fenced: {(File.Exists(c.FenceLog) ? File.ReadAllText(c.FenceLog) : "")}");
    }

    [Fact]
    public void A_daemon_stopped_at_once_while_its_group_still_runs_leaves_its_watchdog_armed()
    {
        using var c = new LocalCluster(3, watchdog: true);
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        // b stops slowly (5 s): the clean stop of its node is still under way when the second signal comes.
        ClusterTests.Configure(c, "n1", ClusterTests.Group.Replace("primitive b vigil:Dummy", "primitive b vigil:Dummy params stop_delay=5000", StringComparison.Ordinal), 0);
        var holder = ClusterTests.GroupNode(c.WaitFor(s => ClusterTests.GroupNode(s) is not null, TimeSpan.FromSeconds(60), "group start"))!;
        var idle = c.Members.Keys.First(n => n != holder);
        // A clean stop of the idle one: nothing ran there, so its watchdog is disarmed.
        Assert.Equal(0, c.Stop(idle));
        Assert.EndsWith("V", File.ReadAllText(c.WatchdogFile(idle)), StringComparison.Ordinal);
        // Stopped twice, the holder leaves at once with the group still running: the others will recover it as a
        // lost node's, so its host must be reset.
        c.Stop(holder, force: true);
        Assert.DoesNotContain("V", File.ReadAllText(c.WatchdogFile(holder)));
        var log = File.ReadAllText(Path.Combine(c.Dir, $"{holder}.log"));
        Assert.Contains("asked to stop again: leaving now with a, b still running here", log);
        Assert.Contains("still running here: the watchdog", log);
    }

    [Fact]
    public void With_a_2_s_lease_a_node_cut_off_from_the_majority_stops_its_group_in_time_instead_of_resetting_itself()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        var r = VigilProcess.Run(LeaseConfig.Replace("stonith-watchdog-timeout=3s", "stonith-watchdog-timeout=2s", StringComparison.Ordinal), "configure", "load", "--settings", c.SettingsFile("n1"), "-");
        Assert.True(r.ExitCode is 0 or 1, r.Stderr);
        var holder = ClusterTests.GroupNode(c.WaitFor(s => ClusterTests.GroupNode(s) is not null, TimeSpan.FromSeconds(60), "group start"))!;
        var process = c.Processes[holder];
        foreach (var other in c.Members.Keys.Where(n => n != holder).ToList()) c.Kill(other);

        // A 2 s lease leaves the node 0.9 s after its last contact (minus 1.1 s skew); the 1 s quorum-loss grace
        // alone would start the stops after that, so the node used to reset itself with its group still running.
        var stopped = c.WaitFor(s => s.Node == holder && !s.LocalQuorum && s.LocalActive.Count == 0, TimeSpan.FromSeconds(20), "the cut-off node stopping its group");
        Assert.Empty(stopped.LocalActive);
        Assert.False(process.WaitForExit(3000), $"the node reset itself (exit {(process.HasExited ? process.ExitCode : 0)}):\n{c.Logs()}");
        Assert.False(File.Exists(Path.Combine(c.Dir, holder, "self-fence.json")), "a self-fence was recorded");
        var log = File.ReadAllText(Path.Combine(c.Dir, $"{holder}.log"));
        // Stopped by the quorum check or, once half its deadline passed with no majority answering, by the lease check.
        Assert.Matches(@"stopped a \((no quorum|lease deadline near)\): rc 0", log);
        Assert.Matches(@"stopped b \((no quorum|lease deadline near)\): rc 0", log);
    }
}
