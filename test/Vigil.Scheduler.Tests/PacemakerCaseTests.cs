using static Vigil.Scheduler.Tests.Cibs;

namespace Vigil.Scheduler.Tests;

/// <summary>
/// Small cases whose expected lines are what Pacemaker 2.1.5 (crm_simulate via
/// shared/conformance/oracle.sh) printed for the same CIB.
/// </summary>
public sealed class PacemakerCaseTests
{
    private static string Op(string id, string task, int callId, int rc, string node) =>
        $"""<lrm_rsc_op id="{id}_last_0" operation_key="{id}_{task}_0" operation="{task}" transition-key="{callId}:1:{(task == "monitor" ? 7 : 0)}:abc" transition-magic="0:{rc};{callId}:1:{(task == "monitor" ? 7 : 0)}:abc" call-id="{callId}" rc-code="{rc}" op-status="0" interval="0" on_node="{node}" op-digest="{NoParametersDigest}"/>""";

    private static string Lrm(string id, string ops) => $"""<lrm_resource id="{id}" class="ocf" provider="heartbeat" type="Dummy">{ops}</lrm_resource>""";

    private static IReadOnlyList<string> CloneOfOne(string constraints)
    {
        // n1: instance d:0 running, d:1 probed and not running. Two histories of one instance on one node.
        var clone = $"""<clone id="c"><meta_attributes id="cm">{Nv("clone-max", "1")}</meta_attributes><primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></clone>""";
        var n1 = Lrm("d:0", Op("d:0", "start", 2, 0, "n1")) + Lrm("d:1", Op("d:1", "monitor", 3, 7, "n1"));
        return Record(Cib(Node("n1") + Node("n2"), clone, constraints, OnlineState("n1", n1) + OnlineState("n2"), Nv("stonith-enabled", "false")));
    }

    [Fact]
    public void A_second_history_beside_an_instance_that_stays_is_a_stopped_orphan()
    {
        var rec = CloneOfOne("");
        Assert.Contains("P|d|Started|n1|", rec);
        Assert.Contains("P|d|Stopped|-|orphaned", rec);
        Assert.DoesNotContain(rec, l => l.StartsWith("A|", StringComparison.Ordinal));
    }

    [Fact]
    public void Once_the_instance_moves_away_no_orphan_remains()
    {
        var rec = CloneOfOne("""<rsc_location id="ban" rsc="c" node="n1" score="-INFINITY"/>""");
        Assert.Contains("P|d|Started|n2|", rec);
        Assert.Contains("T|move|d|n1|n2|-|-", rec);
        Assert.DoesNotContain(rec, l => l.Contains("orphaned", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Restart_type_restart_makes_an_optional_order_restart_the_dependent(bool restartType)
    {
        var meta = restartType ? Nv("restart-type", "restart") : "";
        var failedMonitor = """<lrm_rsc_op id="b_last_failure_0" operation_key="b_monitor_10000" operation="monitor" transition-key="2:1:0:abc" transition-magic="0:7;2:1:0:abc" call-id="4" rc-code="7" op-status="0" interval="10000" on_node="n1"/>""";
        var status = OnlineState("n1", Lrm("a", Op("a", "start", 2, 0, "n1")) + Lrm("b", Op("b", "start", 3, 0, "n1") + failedMonitor));
        var rec = Record(Cib(Node("n1"), Primitive("a", meta) + Primitive("b"), """<rsc_order id="o" first="b" then="a" kind="Optional"/>""",
            status, Nv("stonith-enabled", "false")));
        Assert.Contains("T|recover|b|n1|-|-|-", rec);
        Assert.Equal(restartType, rec.Contains("T|restart|a|n1|-|-|-"));
        Assert.Equal(restartType, rec.Contains("A|a|stop|n1"));
    }
}
