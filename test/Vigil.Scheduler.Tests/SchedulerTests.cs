using static Vigil.Scheduler.Tests.Cibs;

namespace Vigil.Scheduler.Tests;

public sealed class SchedulerTests
{
    private const string Fence = """<primitive id="fence" class="stonith" type="fence_dummy"/>""";

    [Fact]
    public void A_new_resource_is_probed_everywhere_and_started_on_the_least_loaded_node()
    {
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a") + Primitive("b"), status: OnlineState("n1") + OnlineState("n2"),
            properties: Nv("stonith-enabled", "false")));
        Assert.Contains("P|a|Started|n1|", rec);
        Assert.Contains("P|b|Started|n2|", rec);
        Assert.Contains("T|start|a|n1|-|-|-", rec);
    }

    [Theory]
    // Found by DifferentialTests (seed 107 before the fix): under the default placement strategy
    // Pacemaker 2.1.5 assigns in configuration order, so b (kept off n1) takes n2 first and c gets n1
    // by name; under any other strategy it sorts by scores, so c (0 on n1 beats -10) goes first, to
    // the emptier n2, and b follows it there.
    [InlineData("default", "n1")]
    [InlineData("utilization", "n2")]
    public void Resources_are_assigned_in_configuration_order_unless_a_placement_strategy_sorts_them(string strategy, string nodeOfC)
    {
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a") + Primitive("b") + Primitive("c"),
            constraints: """<rsc_location id="b-not-n1" rsc="b" node="n1" score="-10"/>""",
            status: OnlineState("n1", Running("a", "n1")) + OnlineState("n2"),
            properties: Nv("stonith-enabled", "false") + Nv("placement-strategy", strategy)));
        Assert.Contains("P|a|Started|n1|", rec);
        Assert.Contains("P|b|Started|n2|", rec);
        Assert.Contains($"P|c|Started|{nodeOfC}|", rec);
    }

    [Fact]
    public void A_lost_node_is_fenced_before_its_resources_start_elsewhere()
    {
        var rec = Record(Cib(Node("n1") + Node("n2"), Fence + Primitive("a"),
            status: OnlineState("n1", Running("fence", "n1", type: "fence_dummy")) + LostState("n2", Running("a", "n2"))));
        Assert.Contains("F|n2|reboot", rec);
        Assert.Contains("N|n2|offline", rec);
        Assert.Contains("P|a|Started|n1|", rec);
        Assert.Contains("O|F|n2|reboot < A|a|start|n1", rec);
    }

    [Fact]
    public void Without_a_fencing_device_a_lost_node_stays_unclean_and_its_resources_are_blocked()
    {
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a"),
            status: OnlineState("n1") + LostState("n2", Running("a", "n2"))));
        Assert.DoesNotContain(rec, l => l.StartsWith("F|", StringComparison.Ordinal));
        Assert.Contains("N|n2|offline,unclean", rec);
        Assert.DoesNotContain("P|a|Started|n1|", rec);
    }

    [Fact]
    public void Stickiness_keeps_a_resource_where_it_runs_against_a_weaker_location_preference()
    {
        var constraints = """<rsc_location id="pref" rsc="a" node="n2" score="50"/>""";
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a", Nv("resource-stickiness", "100")), constraints,
            OnlineState("n1", Running("a", "n1")) + OnlineState("n2"), Nv("stonith-enabled", "false")));
        Assert.Contains("P|a|Started|n1|", rec);
        Assert.DoesNotContain(rec, l => l.StartsWith("T|", StringComparison.Ordinal));
    }

    [Fact]
    public void A_stronger_location_preference_moves_a_sticky_resource()
    {
        var constraints = """<rsc_location id="pref" rsc="a" node="n2" score="200"/>""";
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a", Nv("resource-stickiness", "100")), constraints,
            OnlineState("n1", Running("a", "n1")) + OnlineState("n2"), Nv("stonith-enabled", "false")));
        Assert.Contains("T|move|a|n1|n2|-|-", rec);
        Assert.Contains("O|A|a|stop|n1 < A|a|start|n2", rec);
    }

    [Fact]
    public void Group_members_run_together_and_start_in_order()
    {
        var group = $"""<group id="g">{Primitive("a")}{Primitive("b")}{Primitive("c")}</group>""";
        var rec = Record(Cib(Node("n1") + Node("n2"), group, status: OnlineState("n1") + OnlineState("n2"), properties: Nv("stonith-enabled", "false")));
        var nodes = rec.Where(l => l.StartsWith("P|", StringComparison.Ordinal)).Select(l => l.Split('|')[3]).Distinct().ToList();
        Assert.Single(nodes);
        Assert.Contains($"O|A|a|start|{nodes[0]} < A|b|start|{nodes[0]}", rec);
        Assert.Contains($"O|A|b|start|{nodes[0]} < A|c|start|{nodes[0]}", rec);
    }

    [Fact]
    public void A_failed_monitor_recovers_the_resource_in_place()
    {
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a"), status: OnlineState("n1", FailedMonitor("a", "n1")) + OnlineState("n2", ""),
            properties: Nv("stonith-enabled", "false")));
        Assert.Contains("T|recover|a|n1|-|-|-", rec);
        Assert.Contains("O|A|a|stop|n1 < A|a|start|n1", rec);
    }

    [Fact]
    public void Reaching_the_migration_threshold_moves_the_resource_away()
    {
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a", Nv("migration-threshold", "1")),
            status: OnlineState("n1", FailedMonitor("a", "n1"), Nv("fail-count-a#monitor_10000", "1")) + OnlineState("n2"),
            properties: Nv("stonith-enabled", "false")));
        Assert.Contains("T|recover|a|n1|n2|-|-", rec);
        Assert.Contains("P|a|Started|n2|", rec);
    }

    [Fact]
    public void A_mandatory_order_blocks_the_dependent_when_the_first_cannot_run()
    {
        var constraints = """<rsc_order id="o" first="a" then="b" kind="Mandatory"/>""";
        var rec = Record(Cib(Node("n1"), Primitive("a", Nv("target-role", "Stopped")) + Primitive("b"), constraints, OnlineState("n1"),
            Nv("stonith-enabled", "false")));
        Assert.Contains("T|start|b|n1|-|-|-|blocked", rec);
        Assert.Contains("P|b|Stopped|-|", rec);
    }

    [Fact]
    public void A_negative_colocation_keeps_two_resources_apart()
    {
        var constraints = """<rsc_colocation id="c" rsc="b" with-rsc="a" score="-INFINITY"/>""";
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a") + Primitive("b"), constraints, OnlineState("n1") + OnlineState("n2"),
            Nv("stonith-enabled", "false")));
        var a = rec.Single(l => l.StartsWith("P|a|", StringComparison.Ordinal)).Split('|')[3];
        var b = rec.Single(l => l.StartsWith("P|b|", StringComparison.Ordinal)).Split('|')[3];
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void An_anonymous_clone_runs_one_instance_on_every_node()
    {
        var clone = $"""<clone id="c">{Primitive("p")}</clone>""";
        var rec = Record(Cib(Node("n1") + Node("n2") + Node("n3"), clone, status: OnlineState("n1") + OnlineState("n2") + OnlineState("n3"),
            properties: Nv("stonith-enabled", "false")));
        Assert.Equal(["P|p|Started|n1|", "P|p|Started|n2|", "P|p|Started|n3|"], rec.Where(l => l.StartsWith("P|", StringComparison.Ordinal)));
    }

    [Fact]
    public void A_promotable_clone_promotes_the_instance_with_the_highest_promotion_score()
    {
        var clone = $"""<clone id="ms"><meta_attributes id="ms-meta">{Nv("promotable", "true")}</meta_attributes>{Primitive("p", type: "Stateful")}</clone>""";
        var status = OnlineState("n1", attrs: Nv("master-p", "5")) + OnlineState("n2", attrs: Nv("master-p", "10"));
        var rec = Record(Cib(Node("n1") + Node("n2"), clone, status: status, properties: Nv("stonith-enabled", "false")));
        Assert.Contains("P|p|Promoted|n2|", rec);
        Assert.Contains("P|p|Unpromoted|n1|", rec);
    }

    [Fact]
    public void A_node_in_standby_gives_up_its_resources()
    {
        var status = OnlineState("n1", Running("a", "n1"), Nv("standby", "on")) + OnlineState("n2");
        var rec = Record(Cib(Node("n1") + Node("n2"), Primitive("a"), status: status, properties: Nv("stonith-enabled", "false")));
        Assert.Contains("N|n1|online,standby", rec);
        Assert.Contains("T|move|a|n1|n2|-|-", rec);
    }

    [Fact]
    public void Scheduling_the_same_input_twice_gives_the_same_transition()
    {
        var cib = Corpus.Load("bug-lf-2106");
        Assert.Equal(RecordWriter.Lines(Scheduler.Run(cib, Corpus.Now), true), RecordWriter.Lines(Scheduler.Run(cib, Corpus.Now), true));
    }
}
