using Vigil.Control;
using Vigil.Core.Model;

namespace Vigil.Control.Tests;

public class ClusterStateTests
{
    private const string Config = """
        <configuration><crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
        <nodes/><resources><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></resources><constraints/></configuration>
        """;

    private static int _n;
    private static string Rid() => $"r{Interlocked.Increment(ref _n)}";

    [Fact]
    public void Configure_replaces_the_configuration_and_bumps_the_epoch()
    {
        var s = ClusterState.Empty.Apply(new ConfigureCommand(Config) { RequestId = Rid(), AtUnixSeconds = 1000 });
        Assert.Equal("d", s.Configuration.Resources.Single().Id);
        Assert.Equal("1", s.Cib.HeaderValue("epoch"));
        s = s.Apply(new ConfigureCommand(Config) { RequestId = Rid(), AtUnixSeconds = 1001 });
        Assert.Equal("2", s.Cib.HeaderValue("epoch"));
    }

    [Fact]
    public void A_repeated_request_takes_effect_once()
    {
        var op = new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "start", 0, Rc: 1, OpStatus: 0, TargetRc: 0) { RequestId = "same", AtUnixSeconds = 5 };
        var s = ClusterState.Empty.Apply(op).Apply(op);
        Assert.Equal(2, s.Version);
        var attrs = s.Nodes.Single().TransientAttributes.Flatten();
        Assert.Equal("INFINITY", attrs["fail-count-d#start_0"]);
    }

    [Fact]
    public void Failed_monitors_count_up_and_cleanup_forgets_them()
    {
        var s = ClusterState.Empty;
        for (int i = 0; i < 3; i++)
            s = s.Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10000, Rc: 7, OpStatus: 0, TargetRc: 0) { RequestId = Rid(), AtUnixSeconds = 100 + i });
        var node = s.Nodes.Single();
        Assert.Equal("3", node.TransientAttributes.Flatten()["fail-count-d#monitor_10000"]);
        Assert.Contains(node.Resources.Single().Ops, o => o.Id == "d_last_failure_0");
        s = s.Apply(new CleanupCommand("d", null) { RequestId = Rid() });
        node = s.Nodes.Single();
        Assert.DoesNotContain(node.TransientAttributes.Flatten().Keys, k => k.StartsWith("fail-count-", StringComparison.Ordinal));
        Assert.DoesNotContain(node.Resources.Single().Ops, o => o.Id == "d_last_failure_0");
    }

    [Fact]
    public void Operation_history_has_the_shape_the_scheduler_reads()
    {
        var s = ClusterState.Empty.Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = Rid(), AtUnixSeconds = 42, CallId = 7, Term = 3 });
        var op = s.Nodes.Single().Resources.Single().Ops.Single();
        Assert.Equal("d_last_0", op.Id);
        Assert.Equal(("start", 7, 0, 0), (op.Operation, op.CallId, op.Rc, op.OpStatus));
        Assert.Equal("0:0:0:vigil-3", op.TransitionKey);
        Assert.Equal(42, op.LastRcChange);
    }

    [Fact]
    public void Leaving_the_membership_drops_transient_attributes()
    {
        var s = ClusterState.Empty
            .Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid() })
            .Apply(new SetNodeAttributeCommand("n1", "pingd", "100", Transient: true) { RequestId = Rid() })
            .Apply(new SetNodeAttributeCommand("n1", "rack", "r1", Transient: false) { RequestId = Rid() });
        Assert.Equal("100", s.Nodes.Single().TransientAttributes.Get("pingd"));
        s = s.Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        Assert.Equal(("false", "offline"), (s.Nodes.Single().InCcm, s.Nodes.Single().Crmd));
        Assert.Null(s.Nodes.Single().TransientAttributes.Get("pingd"));
        Assert.Equal("r1", s.Configuration.Nodes.Single().InstanceAttributes.Get("rack"));
    }

    [Fact]
    public void A_result_from_the_nodes_previous_boot_is_not_recorded_after_its_restart()
    {
        var s = ClusterState.Empty
            .Apply(new ConfigureCommand(Config) { RequestId = Rid(), AtUnixSeconds = 1000 })
            .Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "boot-b" });
        // A delayed answer of the executor's earlier boot: dropped.
        var late = s.Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10000, 0, 0, 0) { RequestId = Rid(), CallId = 26, Boot = "boot-a" });
        Assert.Empty(late.Nodes.Single().Resources);
        // The current boot's results, also after it ran alone (".N"), and results that name no boot are recorded.
        foreach (var boot in new[] { "boot-b", "boot-b.1", null })
        {
            var now = s.Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = Rid(), CallId = 2, Boot = boot });
            Assert.Equal("d", now.Nodes.Single().Resources.Single().Id);
        }
    }

    [Fact]
    public void Snapshot_round_trips_the_whole_state()
    {
        var s = ClusterState.Empty
            .Apply(new ConfigureCommand(Config) { RequestId = Rid(), AtUnixSeconds = 1000 })
            .Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid() })
            .Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10000, 0, 0, 0) { RequestId = Rid(), AtUnixSeconds = 1 });
        var back = ClusterState.FromSnapshot(s.ToSnapshot());
        Assert.Equal(s.Version, back.Version);
        Assert.Equal(s.ToSnapshot(), back.ToSnapshot());
    }

    [Fact]
    public void A_configuration_that_does_not_parse_changes_nothing()
    {
        var s = ClusterState.Empty.Apply(new ConfigureCommand("<configuration><resources>") { RequestId = Rid() });
        Assert.Empty(s.Configuration.Resources);
        Assert.Equal(1, s.Version);
    }

    /// <summary>The command encoding is persisted in every node's log: this golden text must not change.</summary>
    [Fact]
    public void Command_encoding_is_stable()
    {
        ClusterCommand c = new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10000, 7, 0, 0)
        { RequestId = "abc", AtUnixSeconds = 12, CallId = 3, ExecMs = 15, ExitReason = "gone", Term = 2 };
        const string golden = """{"cmd":"record-op","node":"n1","resource":"d","class":"ocf","provider":"heartbeat","type":"Dummy","operation":"monitor","intervalMs":10000,"rc":7,"opStatus":0,"targetRc":0,"callId":3,"execMs":15,"exitReason":"gone","term":2,"requestId":"abc","atUnixSeconds":12}""";
        Assert.Equal(golden, System.Text.Encoding.UTF8.GetString(c.ToBytes()));
        Assert.Equal(c, ClusterCommand.FromBytes(System.Text.Encoding.UTF8.GetBytes(golden)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("{}")]
    [InlineData("{\"cmd\":\"nope\",\"requestId\":\"x\"}")]
    [InlineData("not json")]
    public void Undecodable_log_entries_are_rejected_without_an_exception(string text) =>
        Assert.Null(ClusterCommand.FromBytes(System.Text.Encoding.UTF8.GetBytes(text)));
}
