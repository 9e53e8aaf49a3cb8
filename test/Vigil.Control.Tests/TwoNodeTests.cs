using Vigil.Control;
using Vigil.Core.Model;

namespace Vigil.Control.Tests;

/// <summary>When a member of a two-node cluster without a witness may run alone (<see cref="TwoNode.Decide"/>).</summary>
public class TwoNodeTests
{
    private static Configuration Crm(string text) => FencingTests.Crm(text);

    private const string Device = "primitive fence stonith:fence_ipmilan params ip=10.0.0.1 pcmk_host_list=\"n1 n2\"\n";

    [Fact]
    public void A_node_that_has_not_seen_its_peer_since_it_started_never_runs_alone()
    {
        var config = Crm("property stonith-enabled=false no-quorum-policy=ignore\n");
        var d = TwoNode.Decide(config, "n2", sawPeerSinceStart: false, canFencePeer: true);
        Assert.False(d.MayRunAlone);
        Assert.Contains("wait for all", d.Reason, StringComparison.Ordinal);
        Assert.Null(TwoNode.AloneReason(config, "n2", sawPeerSinceStart: false));
    }

    [Fact]
    public void With_fencing_on_and_a_device_for_the_peer_the_node_runs_alone_after_fencing_it()
    {
        var config = Crm("property stonith-enabled=true no-quorum-policy=stop\n" + Device);
        Assert.True(TwoNode.CanFence(config, "n2"));
        var d = TwoNode.Decide(config, "n2", sawPeerSinceStart: true, canFencePeer: true);
        Assert.Equal(AloneBasis.FencePeerFirst, d.Basis);
        Assert.Equal("fencing n2 before recovering what it ran", TwoNode.AloneReason(config, "n2", sawPeerSinceStart: true));
        // Fencing is on by default: an unset stonith-enabled counts as on.
        Assert.Equal(AloneBasis.FencePeerFirst, TwoNode.Decide(Crm(Device), "n2", true, true).Basis);
    }

    [Fact]
    public void Without_a_usable_fence_device_only_no_quorum_policy_ignore_lets_a_node_run_alone()
    {
        var stop = Crm("property stonith-enabled=true no-quorum-policy=stop\n");
        Assert.False(TwoNode.CanFence(stop, "n2"));
        Assert.Equal(AloneBasis.None, TwoNode.Decide(stop, "n2", true, canFencePeer: false).Basis);
        Assert.Null(TwoNode.AloneReason(stop, "n2", true));
        var ignore = Crm("property stonith-enabled=false no-quorum-policy=ignore\n" + Device);
        // Fencing off: the device is not used, quorum is ignored.
        Assert.Equal(AloneBasis.IgnoreQuorum, TwoNode.Decide(ignore, "n2", true, canFencePeer: true).Basis);
        var freeze = Crm("property stonith-enabled=false no-quorum-policy=freeze\n");
        Assert.Equal(AloneBasis.None, TwoNode.Decide(freeze, "n2", true, false).Basis);
        Assert.Contains("fencing is off", TwoNode.Decide(freeze, "n2", true, false).Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_peer_that_shut_down_cleanly_lets_the_other_run_alone_and_a_lost_one_does_not()
    {
        var stop = Crm("property stonith-enabled=false no-quorum-policy=stop\n");
        Assert.Equal(AloneBasis.PeerLeftCleanly, TwoNode.Decide(stop, "n2", true, canFencePeer: false, peerLeftCleanly: true).Basis);
        // Wait for all still comes first.
        Assert.Equal(AloneBasis.None, TwoNode.Decide(stop, "n2", false, canFencePeer: false, peerLeftCleanly: true).Basis);

        var running = FencingTests.Run(FencingTests.TwoNodes(""), "n2", "d");
        Assert.False(TwoNode.LeftCleanly(running, "n2"));
        var stopped = running.Apply(new RecordOperationCommand("n2", "d", "ocf", "heartbeat", "Dummy", "stop", 0, 0, 0, 0) { RequestId = "stop", CallId = 2, AtUnixSeconds = 3 });
        // Lost without the shutdown record: not clean, whatever its history says.
        Assert.False(TwoNode.LeftCleanly(stopped.Apply(new NodeMembershipCommand("n2", false) { RequestId = "lost", AtUnixSeconds = 4 }), "n2"));
        var clean = stopped.Apply(new NodeMembershipCommand("n2", true) { RequestId = "down", Expected = "down", AtUnixSeconds = 4 })
            .Apply(new NodeMembershipCommand("n2", false) { RequestId = "gone", AtUnixSeconds = 5 });
        Assert.True(TwoNode.LeftCleanly(clean, "n2"));
        Assert.Equal("n2 shut down cleanly: nothing runs there", TwoNode.AloneReason(Crm("property stonith-enabled=false\n"), "n2", true, TwoNode.LeftCleanly(clean, "n2")));
    }

    [Fact]
    public void When_both_sides_judge_from_the_same_state_the_favoured_node_shoots_first()
    {
        var d = FencePlanner.DefaultDeathMatchDelay;
        // n2 runs something: favoured. n1 waits the delay; n2 waits nothing (n1's name sorts first: half the delay).
        var s = FencingTests.Run(FencingTests.TwoNodes(""), "n2", "d");
        Assert.Equal(d, TwoNode.DeathMatchDelay(s, "n1", "n2"));
        Assert.Equal(d / 2, TwoNode.DeathMatchDelay(s, "n2", "n1"));
        // n1 favoured: it shoots at once, n2 waits one and a half delays.
        var t = FencingTests.Run(FencingTests.TwoNodes(""), "n1", "d");
        Assert.Equal(TimeSpan.Zero, TwoNode.DeathMatchDelay(t, "n1", "n2"));
        Assert.Equal(d + d / 2, TwoNode.DeathMatchDelay(t, "n2", "n1"));
        var off = FencingTests.Run(FencingTests.TwoNodes("""<nvpair id="p1" name="priority-fencing-delay" value="0"/>"""), "n2", "d");
        Assert.Equal(TimeSpan.Zero, TwoNode.DeathMatchDelay(off, "n2", "n1"));
    }

    [Fact]
    public void Sides_whose_states_disagree_on_the_favoured_node_never_shoot_within_half_the_delay_of_each_other()
    {
        var d = FencePlanner.DefaultDeathMatchDelay;
        var n1Busy = FencingTests.Run(FencingTests.TwoNodes(""), "n1", "d");
        var n2Busy = FencingTests.Run(FencingTests.TwoNodes(""), "n2", "d");
        foreach (var n1View in new[] { n1Busy, n2Busy })
            foreach (var n2View in new[] { n1Busy, n2Busy })
            {
                var n1Waits = TwoNode.DeathMatchDelay(n1View, "n1", "n2");
                var n2Waits = TwoNode.DeathMatchDelay(n2View, "n2", "n1");
                Assert.True((n1Waits - n2Waits).Duration() >= d / 2, $"n1 waits {n1Waits}, n2 waits {n2Waits}");
            }
        // The favoured-only delay does not keep them apart: each thinks itself favoured, both shoot at once.
        Assert.Equal(FencePlanner.DeathMatchDelay(n1Busy, "n1", "n2"), FencePlanner.DeathMatchDelay(n2Busy, "n2", "n1"));
    }

    [Fact]
    public void The_death_match_wait_counts_from_when_the_peer_was_first_missed()
    {
        var d = FencePlanner.DefaultDeathMatchDelay;
        var s = FencingTests.Run(FencingTests.TwoNodes(""), "n2", "d");   // n2 favoured
        Assert.Equal(d, TwoNode.DeathMatchWait(s, "n1", "n2", TimeSpan.Zero));
        Assert.Equal(d - TimeSpan.FromSeconds(3), TwoNode.DeathMatchWait(s, "n1", "n2", TimeSpan.FromSeconds(3)));
        // A side that starts fencing after its whole delay has passed shoots at once.
        Assert.Equal(TimeSpan.Zero, TwoNode.DeathMatchWait(s, "n2", "n1", TimeSpan.FromSeconds(4)));
        Assert.Equal(TimeSpan.Zero, TwoNode.DeathMatchWait(s, "n1", "n2", TimeSpan.FromSeconds(9)));
    }
}
