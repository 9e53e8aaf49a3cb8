using Vigil.Control;

namespace Vigil.Simulation;

/// <summary>
/// Two-node clusters without a witness, as the daemon runs them (TwoNodeConsensus and the quorum loop):
/// after 1 s without its peer a member runs alone if <see cref="TwoNode.Decide"/> allows it, leading in the
/// newest term it knows on a local copy of the last replicated state; when the peer answers again the copy
/// is dropped and its boot id gets the next epoch, so the leader probes what it runs.
/// </summary>
public sealed partial class Simulator
{
    private int _aloneRuns, _refusedAlone, _aloneSessions, _favouredDisagreements, _replicatedDisagreements;

    private SimNode? TwoNodePeer(SimNode n) => _nodes.Count == 2 ? _nodes.First(p => p != n) : null;

    private void EnterAlone(SimNode n, SimNode peer, AloneDecision decision)
    {
        var term = Math.Max(n.Exec.SeenTerm, n.Raft.Term);
        n.Alone = new AloneMode(peer.Name, decision, term, n.Raft.State, Now, n.QuorumLostAt ?? Now, ++_aloneSessions);
        _aloneRuns++;
        if (decision.Basis == AloneBasis.PeerLeftCleanly) _aloneAfterCleanStop++;
        Trace(n.Name, $"{peer.Name} unreachable for {Now - n.QuorumLostAt} ms: running alone in term {term} ({decision.Reason})");
    }

    private void LeaveAlone(SimNode n, AloneMode alone)
    {
        EndAlone(n);
        n.AloneEpoch++;
        n.QuorumLostAt = null;
        Trace(n.Name, $"{alone.Peer} answers again: no longer alone after {Now - alone.SinceMs} ms; {alone.Changes} change(s) made alone stay local (boot {n.BootId})");
    }

    /// <summary>The local copy and the leadership on it end (leaving alone, or power loss).</summary>
    private void EndAlone(SimNode n)
    {
        if (n.Alone is not { } alone) return;
        n.Alone = null;
        // What this copy judged lost no longer drives any recovery: the replicated state decides again.
        if (alone.MarkedPeerLost && _lostBy.TryGetValue(alone.Peer, out var by) && by == n.Name)
        {
            _lostUnfenced.Remove(alone.Peer);
            _lostBy.Remove(alone.Peer);
        }
        n.Controller.Follow();
        n.InFlight.Clear();
        n.Pending.Clear();
        n.LedTerm = null;
    }

    /// <summary>Who recorded a node in <see cref="_lostUnfenced"/> while running alone (absent: the replicated state did).</summary>
    private readonly Dictionary<string, string> _lostBy = new(StringComparer.Ordinal);

    /// <summary>Invariant 2 also holds for a copy: a peer it records as lost must be fenced before what it ran starts here.</summary>
    private void OnAppliedAlone(SimNode n, AloneMode alone, ClusterCommand c)
    {
        if (c is not NodeMembershipCommand { Online: false } m || !_scenario.Fencing || m.Node != alone.Peer) return;
        _lostUnfenced[m.Node] = [.. _byName[m.Node].Truth.Keys];
        _lostBy[m.Node] = n.Name;
        alone.MarkedPeerLost = true;
    }

    /// <summary>
    /// The fence race of a two-node cluster must leave one node running: a device powering off
    /// <paramref name="target"/> for <paramref name="fencer"/>, which the target's own fence has just powered off,
    /// kills both (the death-match delay exists to prevent exactly that).
    /// </summary>
    private void CheckFenceRace(SimNode fencer, SimNode target)
    {
        if (_nodes.Count != 2 || !_scenario.Fencing) return;
        if (!fencer.Up && fencer.PoweredOffBy == target.Name)
            Violation(6, $"fence race: {target.Name} is powered off for {fencer.Name}, which {target.Name}'s fence powered off: no node is left running");
    }
}
