using Vigil.Config.Crm;
using Vigil.Control;
using Vigil.Core.Model;

namespace Vigil.Control.Tests;

public class FencingTests
{
    internal static Configuration Crm(string text)
    {
        var parsed = CrmParser.Parse(text, "test.crm");
        Assert.True(parsed.Value is not null, string.Join("\n", parsed.Diagnostics));
        return parsed.Value!.Configuration;
    }

    private const string Devices = """
        primitive ipmi1 stonith:fence_ipmilan params ip=10.0.0.1 pcmk_host_list="n1"
        primitive ipmi2 stonith:fence_ipmilan params ip=10.0.0.2 pcmk_host_map="n2:2;n3:3"
        primitive pdu stonith:fence_apc params ip=10.0.0.9 pcmk_host_check=none
        primitive dyn stonith:fence_virsh params ip=10.0.0.8
        primitive off stonith:fence_dummy meta target-role=Stopped
        """;

    [Fact]
    public void Host_lists_maps_and_check_modes_decide_which_device_can_fence_a_node()
    {
        var devices = FencePlanner.Devices(Crm(Devices)).ToDictionary(d => d.Id);
        Assert.DoesNotContain("off", devices.Keys);   // disabled devices are not used
        Assert.True(FencePlanner.CanFence(devices["ipmi1"], "n1"));
        Assert.False(FencePlanner.CanFence(devices["ipmi1"], "n2"));
        Assert.True(FencePlanner.CanFence(devices["ipmi2"], "n3"));
        Assert.False(FencePlanner.CanFence(devices["ipmi2"], "n1"));
        Assert.True(FencePlanner.CanFence(devices["pdu"], "anything"));
        Assert.Null(FencePlanner.CanFence(devices["dyn"], "n1"));   // the agent's list decides
        Assert.Equal(HostCheck.DynamicList, devices["dyn"].Check);
    }

    [Fact]
    public void Without_topology_each_device_is_a_level_of_its_own_and_topology_levels_go_by_index()
    {
        var plain = FencePlanner.Levels(Crm(Devices), "n1", out var missing);
        Assert.Empty(missing);
        Assert.Equal(["ipmi1", "ipmi2", "pdu", "dyn"], plain.Select(l => l.Single().Id));

        var topo = Crm(Devices + "\n" + """
            fencing_topology n1: ipmi1 pdu,dyn n2: ipmi2
            """);
        var levels = FencePlanner.Levels(topo, "n1", out missing);
        Assert.Empty(missing);
        Assert.Equal(2, levels.Count);
        Assert.Equal(["ipmi1"], levels[0].Select(d => d.Id));
        Assert.Equal(["pdu", "dyn"], levels[1].Select(d => d.Id));
        Assert.Equal(["ipmi2"], FencePlanner.Levels(topo, "n2", out _).Single().Select(d => d.Id));
    }

    [Fact]
    public void A_level_naming_an_unconfigured_device_is_reported_and_skipped()
    {
        var topo = Crm(Devices + "\n" + """
            fencing_topology n1: ghost pdu
            """);
        var levels = FencePlanner.Levels(topo, "n1", out var missing);
        Assert.Equal(["ghost"], missing);
        Assert.Equal(["pdu"], levels.Single().Select(d => d.Id));
    }

    [Fact]
    public void Delays_take_a_base_a_per_node_base_and_a_random_part_up_to_the_maximum()
    {
        var d = FencePlanner.Devices(Crm("""
            primitive f1 stonith:fence_dummy params pcmk_delay_base=2s pcmk_delay_max=10s
            primitive f2 stonith:fence_dummy params pcmk_delay_base="n1:5s;n2:0"
            """)).ToDictionary(x => x.Id);
        Assert.Equal(TimeSpan.FromSeconds(2), FencePlanner.Delay(d["f1"], "n1", 0));
        Assert.Equal(TimeSpan.FromSeconds(6), FencePlanner.Delay(d["f1"], "n1", 0.5));
        Assert.Equal(TimeSpan.FromSeconds(10), FencePlanner.Delay(d["f1"], "n1", 1));
        Assert.Equal(TimeSpan.FromSeconds(5), FencePlanner.Delay(d["f2"], "n1", 0.7));
        Assert.Equal(TimeSpan.Zero, FencePlanner.Delay(d["f2"], "n2", 0.7));
        Assert.Equal(TimeSpan.Zero, FencePlanner.Delay(d["f2"], "n3", 0.7));
    }

    [Fact]
    public void The_list_output_names_the_nodes_a_dynamic_device_can_fence() =>
        Assert.Equal(["n1", "n2", "vm3"], FencePlanner.ParseList("n1,alias1\nn2\n\n vm3 on\n").Order());

    private static ClusterState LostNodeWithResource()
    {
        var config = """
            <configuration><crm_config/><nodes/><resources>
            <primitive id="f" class="stonith" type="fence_dummy"/>
            <primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration>
            """;
        return ClusterState.Empty
            .Apply(new ConfigureCommand(config) { RequestId = "c", AtUnixSeconds = 1 })
            .Apply(new NodeMembershipCommand("n1", true) { RequestId = "m1", AtUnixSeconds = 1 })
            .Apply(new NodeMembershipCommand("n2", true) { RequestId = "m2", AtUnixSeconds = 1 })
            .Apply(new RecordOperationCommand("n2", "d", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = "s", AtUnixSeconds = 2 })
            .Apply(new NodeMembershipCommand("n2", false) { RequestId = "lost", AtUnixSeconds = 3 });
    }

    internal static ClusterState TwoNodes(string properties, string meta = "") => ClusterState.Empty
        .Apply(new ConfigureCommand($"""
            <configuration><crm_config><cluster_property_set id="p">{properties}</cluster_property_set></crm_config><nodes/><resources>
            <primitive id="d" class="ocf" provider="heartbeat" type="Dummy">{meta}</primitive>
            <primitive id="e" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration>
            """) { RequestId = "c", AtUnixSeconds = 1 })
        .Apply(new NodeMembershipCommand("n1", true) { RequestId = "m1", AtUnixSeconds = 1 })
        .Apply(new NodeMembershipCommand("n2", true) { RequestId = "m2", AtUnixSeconds = 1 });

    internal static ClusterState Run(ClusterState s, string node, string rsc) =>
        s.Apply(new RecordOperationCommand(node, rsc, "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = $"s{node}{rsc}", AtUnixSeconds = 2 });

    [Fact]
    public void In_a_two_node_fence_race_exactly_one_side_waits_and_it_is_the_side_that_would_shoot_the_busier_node()
    {
        var s = Run(TwoNodes(""), "n2", "d");
        // n2 runs something, n1 nothing: n1 waits before shooting n2, n2 shoots at once.
        Assert.Equal(FencePlanner.DefaultDeathMatchDelay, FencePlanner.DeathMatchDelay(s, "n1", "n2"));
        Assert.Equal(TimeSpan.Zero, FencePlanner.DeathMatchDelay(s, "n2", "n1"));
        // Equal weight: the name that sorts first is favoured, so exactly one side still waits.
        var tie = Run(Run(TwoNodes(""), "n1", "d"), "n2", "e");
        Assert.Equal(TimeSpan.Zero, FencePlanner.DeathMatchDelay(tie, "n1", "n2"));
        Assert.Equal(FencePlanner.DefaultDeathMatchDelay, FencePlanner.DeathMatchDelay(tie, "n2", "n1"));
    }

    [Fact]
    public void Resource_priority_outweighs_the_number_of_resources_and_priority_fencing_delay_sets_the_wait()
    {
        const string prop = """<nvpair id="p1" name="priority-fencing-delay" value="2s"/>""";
        const string meta = """<meta_attributes id="d-meta"><nvpair id="d-p" name="priority" value="10"/></meta_attributes>""";
        var s = Run(Run(Run(TwoNodes(prop, meta), "n1", "d"), "n2", "e"), "n2", "d2");
        Assert.True(FencePlanner.Favoured(s, "n1", "n2"));
        Assert.Equal(TimeSpan.FromSeconds(2), FencePlanner.DeathMatchDelay(s, "n2", "n1"));
        Assert.Equal(TimeSpan.Zero, FencePlanner.DeathMatchDelay(s, "n1", "n2"));
        var off = Run(TwoNodes("""<nvpair id="p1" name="priority-fencing-delay" value="0"/>"""), "n2", "d");
        Assert.Equal(TimeSpan.Zero, FencePlanner.DeathMatchDelay(off, "n1", "n2"));
    }

    [Fact]
    public void A_lost_node_with_resources_is_reported_and_a_failed_fence_says_why_and_what_to_do()
    {
        var s = LostNodeWithResource();
        Assert.Equal(["n2 is lost and waits to be fenced"], FencingStatus.Pending(s, new HashSet<string>()));
        Assert.Contains("being fenced", FencingStatus.Pending(s, new HashSet<string> { "n2" }).Single());
        s = s.Apply(new FenceResultCommand("n2", "reboot", false, "n1", "controller") { RequestId = "f1", AtUnixSeconds = 4, Devices = "f", Reason = "timed out" });
        var line = FencingStatus.Pending(s, new HashSet<string>()).Single();
        Assert.Contains("fencing n2 failed", line);
        Assert.Contains("timed out", line);
        Assert.Contains("vigil fence ack n2", line);
        // While it is retried, the failure and its reason still show.
        var retrying = FencingStatus.Pending(s, new HashSet<string> { "n2" }).Single();
        Assert.Contains("fencing n2 failed", retrying);
        Assert.Contains("timed out", retrying);
        Assert.Contains("being retried now", retrying);
        // Still recorded as running there: nothing may start it elsewhere yet.
        Assert.Single(s.Nodes.Single(n => n.Uname == "n2").Resources);
    }

    [Fact]
    public void A_successful_fence_marks_the_node_cleanly_down_and_survives_a_snapshot()
    {
        var s = LostNodeWithResource()
            .Apply(new FenceResultCommand("n2", "reboot", true, "n1", "controller") { RequestId = "f2", AtUnixSeconds = 5, Devices = "f" });
        var n2 = s.Nodes.Single(n => n.Uname == "n2");
        Assert.Equal(("false", "offline", "down", "down"), (n2.InCcm, n2.Crmd, n2.Join, n2.Expected));
        Assert.Empty(n2.Resources);
        Assert.Empty(FencingStatus.Pending(s, new HashSet<string>()));

        var back = ClusterState.FromSnapshot(s.ToSnapshot());
        var e = Assert.Single(back.FencingHistory);
        Assert.Equal(("n2", "reboot", true, "n1", "f"), (e.Target, e.Action, e.Succeeded, e.By, e.Devices));
        Assert.Contains("n2  reboot  done  by n1 (controller) with f", FencingStatus.Recent(back, 5).Single());
        Assert.DoesNotContain("vigil-fencing", back.Cib.Header.Select(h => h.Key));
    }

    [Fact]
    public void The_fence_result_command_round_trips_through_the_log_format()
    {
        ClusterCommand cmd = new FenceResultCommand("n2", "off", false, "admin", "manual") { RequestId = "x", Reason = "no power" };
        var back = Assert.IsType<FenceResultCommand>(ClusterCommand.FromBytes(cmd.ToBytes()));
        Assert.Equal(cmd, back);
    }

    [Fact]
    public void A_node_cut_off_and_back_keeps_its_history_but_a_restarted_daemon_is_probed_afresh()
    {
        var s = ClusterState.Empty
            .Apply(new NodeMembershipCommand("n2", true) { RequestId = "j1", Boot = "boot-a" })
            .Apply(new RecordOperationCommand("n2", "d", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = "s" })
            .Apply(new NodeMembershipCommand("n2", false) { RequestId = "lost" });
        var back = s.Apply(new NodeMembershipCommand("n2", true) { RequestId = "j2", Boot = "boot-a" });
        Assert.Single(back.Nodes.Single().Resources);
        var restarted = s.Apply(new NodeMembershipCommand("n2", true) { RequestId = "j3", Boot = "boot-b" });
        Assert.Empty(restarted.Nodes.Single().Resources);
        // The boot id survives a snapshot, so the rule holds after a restart of the leader too.
        var fromDisk = ClusterState.FromSnapshot(s.ToSnapshot()).Apply(new NodeMembershipCommand("n2", true) { RequestId = "j4", Boot = "boot-a" });
        Assert.Single(fromDisk.Nodes.Single().Resources);
    }

    private static Configuration Props(string props) => Crm($"property {props}\nprimitive d ocf:heartbeat:Dummy");

    [Fact]
    public void Lease_self_fencing_needs_a_watchdog_timeout_fencing_and_a_stopping_quorum_policy()
    {
        Assert.Null(FencePlanner.LeaseProblem(Props("stonith-watchdog-timeout=5s")));
        Assert.Contains("not set", FencePlanner.LeaseProblem(Props("stonith-enabled=true")));
        Assert.Contains("not set", FencePlanner.LeaseProblem(Props("stonith-watchdog-timeout=0")));
        Assert.Contains("stonith-enabled=false", FencePlanner.LeaseProblem(Props("stonith-enabled=false stonith-watchdog-timeout=5s")));
        Assert.Contains("no-quorum-policy=ignore", FencePlanner.LeaseProblem(Props("stonith-watchdog-timeout=5s no-quorum-policy=ignore")));
        // The node's own deadline leaves room for noticing the loss later than the majority.
        Assert.Equal(TimeSpan.FromSeconds(3.9), FencePlanner.SelfFenceDeadline(Props("stonith-watchdog-timeout=5s"), TimeSpan.FromSeconds(1.1)));
        Assert.Null(FencePlanner.SelfFenceDeadline(Props("stonith-watchdog-timeout=5s no-quorum-policy=freeze"), TimeSpan.FromSeconds(1.1)));
    }

    [Fact]
    public void Resources_of_a_lost_unfenced_node_count_as_possibly_active_only_when_asked()
    {
        var s = LostNodeWithResource();
        Assert.False(Activity.Active(s).ContainsKey("d"));
        Assert.Equal([("n2", Vigil.Core.Role.Started)], Activity.Active(s, includeUnclean: true)["d"]);
        var fenced = s.Apply(new FenceResultCommand("n2", "reboot", true, "n1", "controller") { RequestId = "f", AtUnixSeconds = 9 });
        Assert.False(Activity.Active(fenced, includeUnclean: true).ContainsKey("d"));
    }
}
