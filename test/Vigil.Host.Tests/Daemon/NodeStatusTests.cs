using Vigil.Control;
using Vigil.Host.Daemon;

namespace Vigil.Host.Tests.Daemon;

/// <summary>A node's entry in its own status answer right after its daemon started again (it still holds its old state).</summary>
public sealed class NodeStatusTests
{
    /// <summary>n1 joined with boot b1, asked to shut down, and the cluster recorded the clean stop: the last state its daemon applied.</summary>
    private static ClusterState ShutDownCleanly()
    {
        var s = ClusterState.Empty.Apply(new NodeMembershipCommand("n1", true) { Boot = "b1", RequestId = "join" });
        s = s.Apply(new SetNodeAttributeCommand("n1", ClusterState.ShutdownAttribute, "1700000000", Transient: true) { RequestId = "ask" });
        return s.Apply(new NodeMembershipCommand("n1", true) { Expected = "down", RequestId = "done" });
    }

    [Fact]
    public void A_record_of_the_previous_daemon_shows_the_new_one_joining_not_online_and_shutting_down()
    {
        var record = ShutDownCleanly().Nodes.Single(n => n.Uname == "n1");
        var own = NodeStatus.Of("n1", record, true, false, true, ownBoot: "b2");
        Assert.True(own.Joining);
        Assert.False(own.Online);
        Assert.False(own.ShuttingDown);
    }

    [Fact]
    public void The_same_daemon_or_another_node_sees_the_record_as_it_is()
    {
        var record = ShutDownCleanly().Nodes.Single(n => n.Uname == "n1");
        foreach (var view in new[] { NodeStatus.Of("n1", record, true, false, true, ownBoot: "b1"),
                                     NodeStatus.Of("n1", record, true, false, true, ownBoot: "b1.2"),
                                     NodeStatus.Of("n1", record, true, false, true, ownBoot: null) })
        {
            Assert.False(view.Joining);
            Assert.True(view.Online);
            Assert.True(view.ShuttingDown);
        }
    }

    [Fact]
    public void Once_the_cluster_records_the_new_daemon_it_is_an_ordinary_member()
    {
        var state = ShutDownCleanly().Apply(new NodeMembershipCommand("n1", false) { RequestId = "gone" })
            .Apply(new NodeMembershipCommand("n1", true) { Boot = "b2", RequestId = "back" });
        var own = NodeStatus.Of("n1", state.Nodes.Single(n => n.Uname == "n1"), true, false, true, ownBoot: "b2");
        Assert.False(own.Joining);
        Assert.True(own.Online);
        Assert.False(own.ShuttingDown);
    }
}
