using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Control;

/// <summary>On what grounds a member of a two-node cluster (no witness) carries on without its peer.</summary>
public enum AloneBasis
{
    /// <summary>It may not: it follows no-quorum-policy like any node without quorum.</summary>
    None,
    /// <summary>Fencing is on and a device can fence the peer: it fences the peer before recovering anything the peer ran.</summary>
    FencePeerFirst,
    /// <summary>no-quorum-policy=ignore without a usable fence device: both sides may run the same resources until they meet again.</summary>
    IgnoreQuorum,
    /// <summary>
    /// The peer shut down cleanly (recorded as expected down, nothing running there): there is nothing to fence and no
    /// second copy to fear, as with corosync's two_node when a node leaves cleanly. A peer that boots again does not
    /// run alone before it has seen this node (wait for all).
    /// </summary>
    PeerLeftCleanly,
}

/// <summary>Whether a two-node member may run alone, and the sentence that says why (or why not) for logs and status.</summary>
public sealed record AloneDecision(AloneBasis Basis, string Reason)
{
    public bool MayRunAlone => Basis != AloneBasis.None;
}

/// <summary>Decisions of two-node clusters without a witness (pure: the daemon and the simulator call the same code).</summary>
public static class TwoNode
{
    /// <summary>
    /// May this member carry on alone now that <paramref name="peer"/> has been unreachable past the quorum
    /// grace? Wait for all: never unless the peer was seen since this node started (<paramref name="sawPeerSinceStart"/>;
    /// two nodes booting apart would otherwise both run everything). Then, with fencing enabled (the default) and
    /// a device that can fence the peer (<paramref name="canFencePeer"/>), it may — the scheduler orders every
    /// recovery after the fence. Otherwise only with no-quorum-policy=ignore, which accepts split brain.
    /// </summary>
    /// <param name="peerLeftCleanly">The peer's last record says it shut down cleanly (<see cref="LeftCleanly"/>).</param>
    public static AloneDecision Decide(Configuration config, string peer, bool sawPeerSinceStart, bool canFencePeer, bool peerLeftCleanly = false)
    {
        if (!sawPeerSinceStart)
            return new(AloneBasis.None, $"this node has not seen {peer} since it started, so it does not carry on alone (wait for all)");
        if (peerLeftCleanly)
            return new(AloneBasis.PeerLeftCleanly, $"{peer} shut down cleanly: nothing runs there");
        bool fencing = !Truth.IsFalse(config.Property("stonith-enabled"));
        if (fencing && canFencePeer)
            return new(AloneBasis.FencePeerFirst, $"fencing {peer} before recovering what it ran");
        if (config.Property("no-quorum-policy") == "ignore")
            return new(AloneBasis.IgnoreQuorum, "no-quorum-policy=ignore: both sides may run the same resources (split brain) until they meet again");
        return new(AloneBasis.None, fencing
            ? $"no fence device can fence {peer} and no-quorum-policy is not ignore"
            : "fencing is off and no-quorum-policy is not ignore");
    }

    /// <summary>
    /// How long a member running alone waits before fencing its peer: <see cref="FencePlanner.DeathMatchDelay"/>
    /// (the priority-fencing-delay when the peer is the favoured node), plus half that delay when the peer's name
    /// sorts first. Each side judges "favoured" from the state it runs on, and those differ: its copy records its
    /// own probes at once while the peer's side stays as last known, and the last commits before a split may
    /// have reached one side only. Two sides that both think themselves favoured would shoot at once and both be
    /// powered off (found by the simulator: seed 1705). The fixed half-delay, decided by names both sides know,
    /// keeps their waits at least half the delay apart whatever they think: when they agree the favoured node
    /// still shoots first (it waits 0 or half the delay, its peer the delay or more); when they disagree the
    /// node whose name sorts first does. The daemon calls this where it calls FencePlanner.DeathMatchDelay.
    /// </summary>
    public static TimeSpan DeathMatchDelay(ClusterState state, string fencer, string peer)
    {
        var delay = FencePlanner.PriorityFencingDelay(state.Configuration);
        if (delay <= TimeSpan.Zero) return TimeSpan.Zero;
        var wait = FencePlanner.DeathMatchDelay(state, fencer, peer);
        return string.CompareOrdinal(peer, fencer) < 0 ? wait + delay / 2 : wait;
    }

    /// <summary>
    /// How much longer a member running alone waits before fencing its peer, <paramref name="sincePeerLost"/> after
    /// it last reached the peer: <see cref="DeathMatchDelay"/> counted from that moment, not from when this side
    /// gets round to fencing. Both sides lose each other at about the same moment, but one may start fencing
    /// seconds after the other (its quorum loop notices later, or its first probe round as leader waits for a
    /// hung probe): counted from each side's own start, a favoured side that starts late still shoots after its
    /// peer's delay has run out, and both are powered off (found by the simulator: seeds 711 and 1315).
    /// </summary>
    public static TimeSpan DeathMatchWait(ClusterState state, string fencer, string peer, TimeSpan sincePeerLost)
    {
        var wait = DeathMatchDelay(state, fencer, peer) - sincePeerLost;
        return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
    }

    /// <summary>Whether the configuration names a fence device (or topology level) for <paramref name="peer"/>, as the daemon's fencer would try it.</summary>
    public static bool CanFence(Configuration config, string peer) => FencePlanner.Levels(config, peer, out _).Count > 0;

    /// <summary>
    /// The reason to run alone, or null when this member may not: the shape NodeDaemon.AloneReason has, so the
    /// daemon can call <c>TwoNode.AloneReason(_consensus.State.Configuration, peer, _sawPeer, TwoNode.LeftCleanly(state, peer))</c>.
    /// </summary>
    public static string? AloneReason(Configuration config, string peer, bool sawPeerSinceStart, bool peerLeftCleanly = false) =>
        Decide(config, peer, sawPeerSinceStart, CanFence(config, peer), peerLeftCleanly) is { MayRunAlone: true } d ? d.Reason : null;

    /// <summary>Whether <paramref name="node"/>'s record says it shut down cleanly: recorded as expected down with nothing active there.</summary>
    public static bool LeftCleanly(ClusterState state, string node) =>
        state.Nodes.FirstOrDefault(n => n.Uname == node) is { Expected: "down" }
        && !Activity.Active(state).Values.Any(l => l.Any(x => x.Node == node));
}
