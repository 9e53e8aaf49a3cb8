using Vigil.Cli;
using Vigil.Scheduler;

namespace Vigil.Tests;

public class SimulateCliTests
{
    /// <summary>
    /// The warm-up CIB must exercise the scheduler for real (every kind of resource, a failure, an
    /// offline node), or the second core prepares code the input never runs. The decisions checked
    /// here are Pacemaker's too (crm_simulate places every resource the same way).
    /// </summary>
    [Fact]
    public void The_warm_up_cib_schedules_every_kind_of_resource()
    {
        var lines = RecordWriter.Lines(SimulateWarmUp.Run(), false);
        Assert.Contains("P|db|Promoted|w1|", lines);
        Assert.Contains("P|db|Unpromoted|w2|", lines);
        Assert.Contains("P|vm|Started|w1|", lines);
        Assert.Contains("T|start|fs|w1|-|-|-", lines);
        Assert.Contains("T|start|httpd|w1|-|-|-", lines);
        Assert.Contains(lines, l => l.StartsWith("T|recover|vm|w2|w1", StringComparison.Ordinal) || l.StartsWith("T|move|vm|w2|w1", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("P|ping|Started|w2", StringComparison.Ordinal));
    }

    /// <summary>The warm-up runs beside the real input; the command's output must be the input's alone.</summary>
    [Fact]
    public void Simulate_prints_only_the_inputs_decisions()
    {
        const string cib = """
            <cib epoch="1" num_updates="0" admin_epoch="0" have-quorum="1">
              <configuration>
                <crm_config><cluster_property_set id="o"><nvpair id="o-se" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
                <nodes><node id="1" uname="a1"/><node id="2" uname="a2"/></nodes>
                <resources><primitive id="only" class="ocf" provider="heartbeat" type="Dummy"/></resources>
                <constraints><rsc_location id="l" rsc="only" node="a2" score="10"/></constraints>
              </configuration>
              <status>
                <node_state id="1" uname="a1" in_ccm="true" crmd="online" join="member" expected="member"/>
                <node_state id="2" uname="a2" in_ccm="true" crmd="online" join="member" expected="member"/>
              </status>
            </cib>
            """;
        var r = VigilProcess.Run(cib, "simulate", "--xml", "-", "--record");
        Assert.True(r.ExitCode == 0, r.Stderr);
        var placements = r.Stdout.Split('\n').Where(l => l.StartsWith("P|", StringComparison.Ordinal)).ToList();
        Assert.Equal(["P|only|Started|a2|"], placements);
        Assert.DoesNotContain("w1", r.Stdout);
    }
}
