using Vigil.Host.Agents;

namespace Vigil.Host.Tests.Agents;

/// <summary>Real agents from the resource-agents and pacemaker packages, run exactly as Pacemaker's executor would.</summary>
public sealed class OcfAgentTests
{
    private static string Rsc(string prefix) => $"{prefix}{Guid.NewGuid():N}"[..(prefix.Length + 8)];

    [Fact]
    public async Task Heartbeat_Dummy_goes_through_its_whole_lifecycle()
    {
        Requires.Root();
        using var h = new AgentHarness();
        var rsc = Rsc("dummy");
        const string agent = "ocf:heartbeat:Dummy";
        var state = h.Dir.File("dummy.state");
        (string, string) p = ("state", state);

        var probe = await h.Run(h.Action(agent, rsc, "monitor", 0, p));
        Assert.Equal(OcfCode.NotRunning, probe.Rc);
        Assert.Equal(ExecStatus.Done, probe.Status);
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action(agent, rsc, "start", 0, p))).Rc);
        Assert.True(File.Exists(state));
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action(agent, rsc, "start", 0, p))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action(agent, rsc, "monitor", 10_000, p))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action(agent, rsc, "validate-all", 0, p))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action(agent, rsc, "reload", 0, p))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action(agent, rsc, "stop", 0, p))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action(agent, rsc, "stop", 0, p))).Rc);
        var after = await h.Run(h.Action(agent, rsc, "monitor", 10_000, p));
        Assert.Equal(OcfCode.NotRunning, after.Rc);
        var bogus = await h.Run(h.Action(agent, rsc, "bogus", 0, p));
        Assert.Equal(OcfCode.ErrUnimplemented, bogus.Rc);
        Assert.Contains("usage", bogus.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.True(after.Duration < TimeSpan.FromSeconds(2), $"a Dummy monitor took {after.Duration}");
    }

    [Fact]
    public async Task The_executor_keeps_a_real_agent_monitored_and_notices_when_it_dies()
    {
        Requires.Root();
        using var h = new AgentHarness();
        var rsc = Rsc("mon");
        var state = h.Dir.File("mon.state");
        AgentAction A(string action, long interval = 0) => h.Action("ocf:heartbeat:Dummy", rsc, action, interval, ("state", state));
        var failed = new TaskCompletionSource<OperationRecord>(TaskCreationOptions.RunContinuationsAsynchronously);
        h.Executor.Completed += r => { if (r.Outcome.IsFailure) failed.TrySetResult(r); };

        Assert.False((await h.Executor.ExecuteAsync(A("start"))).Outcome.IsFailure);
        var (_, locate) = Sh.TryRun(Path.Combine(h.Shims.Directory, "crm_resource"), "--resource", rsc, "--locate");
        Assert.Equal($"resource {rsc} is running on: node1\n", locate);
        Assert.Equal(0, (await h.Executor.ExecuteAsync(A("monitor", 300))).Rc);
        File.Delete(state); // the "service" dies behind the cluster's back
        var failure = await failed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(OcfCode.NotRunning, failure.Rc);
        Assert.Equal(Recovery.Soft, failure.Outcome.Recovery);
        Assert.Equal(failure, h.Executor.LastFailure(rsc));
        Assert.False((await h.Executor.ExecuteAsync(A("stop"))).Outcome.IsFailure);
        Assert.Empty(h.Executor.RecurringOperations);
    }

    [Fact]
    public async Task Heartbeat_Dummy_keeps_its_default_state_file_in_HA_RSCTMP()
    {
        Requires.Root();
        using var h = new AgentHarness();
        var rsc = Rsc("dflt");
        Assert.Equal(OcfCode.Success, (await h.Run(h.Action("ocf:heartbeat:Dummy", rsc, "start"))).Rc);
        try
        {
            Assert.True(File.Exists($"/run/resource-agents/Dummy-{rsc}.state"));
        }
        finally
        {
            Assert.Equal(OcfCode.Success, (await h.Run(h.Action("ocf:heartbeat:Dummy", rsc, "stop"))).Rc);
        }
        Assert.False(File.Exists($"/run/resource-agents/Dummy-{rsc}.state"));
    }

    [Fact]
    public async Task Pacemaker_Stateful_is_promoted_through_its_own_promotion_score_calls()
    {
        Requires.Root();
        using var h = new AgentHarness();
        var rsc = Rsc("stateful");
        var clone = CloneMeta.For(0, 2, promotedMax: 1, notify: true);
        var state = h.Dir.File("stateful.state");
        AgentAction A(string action, long interval = 0, string? role = null)
        {
            var a = h.Action("ocf:pacemaker:Stateful", rsc, action, interval, ("state", state)).WithMeta(clone);
            return role is null ? a : a.WithMeta("role", role);
        }
        var score = AttributeStore.PromotionName(rsc);

        Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("start"))).Rc);
        Assert.Equal("5", h.Store.Get("node1", score));
        Assert.Equal(OcfCode.Success, (await h.Run(A("monitor", 10_000, "Unpromoted"))).Rc);

        // The scheduler would now promote the instance with the highest score.
        Assert.Equal(OcfCode.Success, (await h.Run(A("promote"))).Rc);
        Assert.Equal("10", h.Store.Get("node1", score));
        var promoted = await h.Run(A("monitor", 5_000, "Promoted"));
        Assert.Equal(OcfCode.RunningPromoted, promoted.Rc);
        Assert.Equal(ObservedRole.Promoted, ResultMapping.Remap(A("monitor", 5_000, "Promoted") with { TargetRc = 8 }, promoted).Role);

        Assert.Equal(OcfCode.Success, (await h.Run(A("demote"))).Rc);
        Assert.Equal("5", h.Store.Get("node1", score));
        Assert.Equal(OcfCode.Success, (await h.Run(A("stop"))).Rc);
        Assert.Null(h.Store.Get("node1", score));
        Assert.Equal(OcfCode.NotRunning, (await h.Run(A("promote"))).Rc);
        Assert.Contains(h.Shims.Log, r => r.Tool == "crm_attribute" && r.Op == "set" && r.Name == score);
    }

    [Fact]
    public async Task Pacemaker_ping_against_loopback_sets_the_pingd_attribute_after_dampening()
    {
        Requires.Root();
        Requires.Program("/usr/bin/ping", "iputils-ping");
        using var h = new AgentHarness();
        var rsc = Rsc("ping");
        AgentAction A(string action, long interval = 0) => h.Action("ocf:pacemaker:ping", rsc, action, interval,
            ("host_list", "127.0.0.1"), ("multiplier", "1000"), ("dampen", "5s"), ("attempts", "1"), ("pidfile", h.Dir.File("ping.pid")));

        Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor"))).Rc);
        var start = await h.Run(A("start"));
        Assert.True(start.Rc == OcfCode.Success, $"ping start rc {start.Rc}: {start.Stderr}");
        // Dampened: nothing is visible until 5 s after the first change, then the value is written once.
        Assert.Null(h.Store.Get("node1", "pingd"));
        Assert.Equal("1000", h.Store.GetCurrent("node1", "pingd"));
        h.Time.Advance(TimeSpan.FromSeconds(4));
        h.Shims.Pump();
        Assert.Null(h.Store.Get("node1", "pingd"));
        h.Time.Advance(TimeSpan.FromSeconds(1.5));
        var changes = h.Shims.Pump();
        Assert.Equal("1000", h.Store.Get("node1", "pingd"));
        Assert.Contains(changes, c => c.Name == "pingd" && c.NewValue == "1000");

        Assert.Equal(OcfCode.Success, (await h.Run(A("monitor", 10_000))).Rc);
        Assert.Contains(h.Shims.Log, r => r.Tool == "attrd_updater" && r.Name == "pingd" && r.Value == "1000" && r.Delay == "5s");
        Assert.Equal(OcfCode.Success, (await h.Run(A("stop"))).Rc);
        h.Time.Advance(TimeSpan.FromSeconds(6));
        h.Shims.Pump();
        Assert.Null(h.Store.Get("node1", "pingd"));
    }

    [Fact]
    public async Task Probes_of_agents_whose_software_is_missing_are_masked_as_not_running()
    {
        Requires.Root();
        using var h = new AgentHarness();
        // Without a device, Filesystem's probe only warns; an unknown fstype binary is a 5 on start.
        var a = h.Action("ocf:heartbeat:Filesystem", Rsc("fs"), "start", 0, ("device", "/dev/vigil-nonexistent"), ("directory", h.Dir.File("mnt")), ("fstype", "ext4"));
        var start = await h.Run(a);
        Assert.Equal(OcfCode.ErrInstalled, start.Rc);
        Assert.Contains("Couldn't find device", start.ExitReason ?? "", StringComparison.Ordinal);
        var outcome = ResultMapping.Remap(a, start);
        Assert.Equal(Recovery.Hard, outcome.Recovery);
        var probe = ResultMapping.Remap(a with { Action = "monitor" }, start);
        Assert.True(probe.MaskedProbe);
        Assert.Equal(OcfCode.NotRunning, probe.Rc);
    }
}
