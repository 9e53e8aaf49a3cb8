using static Vigil.Scheduler.Tests.Cibs;

namespace Vigil.Scheduler.Tests;

/// <summary>
/// Parameter changes detected through the operation digests Pacemaker records (op-digest,
/// op-restart-digest over op-force-restart). The digest literals are MD5 sums computed outside
/// Vigil (Python's hashlib) or recorded by Pacemaker in its regression inputs.
/// </summary>
public sealed class DefinitionChangeTests
{
    // " <parameters ip="10.0.0.1" mode="fast"/>\n" and " <parameters ip="10.0.0.1"/>\n"
    private const string DigestIpFast = "d71df5b39e330eb26892fad4254e3f7a";
    private const string DigestIp = "ba6a72f3ccfb84f58fad1ff6a1d34598";

    [Fact]
    public void The_digest_equals_the_one_Pacemaker_recorded_for_the_same_parameters()
    {
        // novell-239087: fs_1 with fstype, directory, device (Pacemaker 1.0.8 recorded it).
        var parameters = new Dictionary<string, string>
        {
            ["fstype"] = "reiserfs", ["directory"] = "/mnt/share1", ["device"] = "/dev/drbd0",
        };
        Assert.Equal("e38fc095cd72534897b21e24a8484122", OperationDigest.Compute(parameters));
    }

    private static string Rsc(string ip, string mode) =>
        $"""<primitive id="a" class="ocf" provider="heartbeat" type="Dummy"><instance_attributes id="a-ia">{Nv("ip", ip)}{Nv("mode", mode)}</instance_attributes></primitive>""";

    private static string History(string digest, string? restartDigest = null, string? forced = null) =>
        $"""<lrm_resource id="a" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="a_last_0" operation_key="a_start_0" operation="start" transition-key="1:1:0:abc" transition-magic="0:0;1:1:0:abc" call-id="2" rc-code="0" op-status="0" interval="0" on_node="n1" op-digest="{digest}"{(restartDigest is null ? "" : $" op-restart-digest=\"{restartDigest}\"")}{(forced is null ? "" : $" op-force-restart=\"{forced}\"")}/></lrm_resource>""";

    private static IReadOnlyList<string> Run(string ip, string mode, string history) =>
        Record(Cib(Node("n1"), Rsc(ip, mode), status: OnlineState("n1", history), properties: Nv("stonith-enabled", "false")));

    [Fact]
    public void Unchanged_parameters_leave_the_resource_alone()
    {
        var rec = Run("10.0.0.1", "fast", History(DigestIpFast));
        Assert.Contains("P|a|Started|n1|", rec);
        Assert.DoesNotContain(rec, l => l.StartsWith("T|", StringComparison.Ordinal) || l.StartsWith("A|", StringComparison.Ordinal));
    }

    [Fact]
    public void A_changed_parameter_restarts_an_agent_that_cannot_reload()
    {
        var rec = Run("10.0.0.1", "slow", History(DigestIpFast));
        Assert.Contains("T|restart|a|n1|-|-|-", rec);
        Assert.Contains("O|A|a|stop|n1 < A|a|start|n1", rec);
    }

    [Fact]
    public void A_changed_reloadable_parameter_reloads_the_agent()
    {
        // Only "ip" needs a restart; "mode" changed.
        var rec = Run("10.0.0.1", "slow", History(DigestIpFast, DigestIp, " ip "));
        Assert.Contains("T|reload|a|n1|-|-|-", rec);
        Assert.Contains("A|a|reload-agent|n1", rec);
        Assert.DoesNotContain("A|a|stop|n1", rec);
    }

    [Fact]
    public void A_changed_parameter_that_needs_a_restart_restarts_even_a_reloadable_agent()
    {
        var rec = Run("10.0.0.2", "fast", History(DigestIpFast, DigestIp, " ip "));
        Assert.Contains("T|restart|a|n1|-|-|-", rec);
        Assert.DoesNotContain("A|a|reload-agent|n1", rec);
    }

    [Fact]
    public void A_history_without_digests_is_taken_as_unchanged()
    {
        // Deliberate difference: Pacemaker restarts here; Vigil's own daemon does not record digests yet.
        var rec = Record(Cib(Node("n1"), Rsc("10.0.0.1", "fast"),
            status: OnlineState("n1", Running("a", "n1").Replace($" op-digest=\"{NoParametersDigest}\"", "", StringComparison.Ordinal)),
            properties: Nv("stonith-enabled", "false")));
        Assert.Contains("P|a|Started|n1|", rec);
        Assert.DoesNotContain(rec, l => l.StartsWith("T|", StringComparison.Ordinal));
    }
}
