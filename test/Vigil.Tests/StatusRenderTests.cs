using Vigil.Cli;
using Vigil.Host.Daemon;

namespace Vigil.Tests;

/// <summary>The crm_mon-like text of <c>vigil status</c>: how each node's state is shown.</summary>
public class StatusRenderTests
{
    [Fact]
    public void Each_node_state_has_its_own_line_and_a_node_shutting_down_is_not_listed_as_online()
    {
        var text = ClusterCommands.Render(new StatusResponse
        {
            Node = "n1", Leader = "n1", Term = 3, Quorum = true,
            Nodes =
            [
                new NodeStatus("n1", true, true, false),
                new NodeStatus("n2", true, true, false) { ShuttingDown = true },
                new NodeStatus("n3", true, true, true),
                new NodeStatus("n4", false, false, false) { Unclean = true },
                new NodeStatus("n5", false, false, false),
                new NodeStatus("n6", false, true, false) { Joining = true },
            ],
        });
        Assert.Contains("  * Node n6: joining (its daemon started again; the cluster has not recorded it yet)\n", text);
        Assert.Contains("  * Online: [ n1 ]\n", text);
        Assert.Contains("  * Node n2: shutting down", text);
        Assert.Contains("  * Node n3: standby\n", text);
        Assert.Contains("  * Node n4: UNCLEAN (offline)\n", text);
        Assert.Contains("  * OFFLINE: [ n5 ]\n", text);
    }
}
