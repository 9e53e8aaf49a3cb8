using Vigil.Control;
using Vigil.Core;

namespace Vigil.Simulation;

/// <summary>
/// The daemon's indirect probes (<c>NodeDaemon.Vouch.cs</c>): for a member recorded online that the leader does not
/// reach, the other members it reaches (the helpers) are asked whether they reach it with the boot id on record.
/// One probe per member at a time. A helper answers when it is linked and neither the question nor its answer is
/// lost (<see cref="Scenario.Loss"/>, drawn from a <see cref="Random"/> of its own). When every helper answered the
/// probe ends at once; otherwise it ends when the daemon stops waiting (<see cref="VouchTimeoutMs"/>). What it found
/// is merged into the leader's memory as the daemon's <c>_indirect</c> does, and the controller reads that memory.
/// </summary>
public sealed partial class Simulator
{
    /// <summary>NodeDaemon.VouchTimeout: how long the leader waits for a helper's answer.</summary>
    private const int VouchTimeoutMs = 800;

    /// <summary>
    /// What the controller gets (the daemon's <c>Indirect</c>): null when there is nobody to ask, else the leader's
    /// memory of this member (nothing yet: both times null, which the controller reads as "wait for the others").
    /// </summary>
    private IndirectContact? Indirect(SimNode leader, string name, string? alonePeer)
    {
        var target = _byName[name];
        if (name == alonePeer) return null;
        var helpers = _nodes.Where(m => m != leader && m != target && Linked(leader, m)).ToList();
        if (helpers.Count == 0) return null;
        if (leader.Vouching.Add(name)) Vouch(leader, target, helpers);
        return leader.Indirect.GetValueOrDefault(name, new IndirectContact(null, null));
    }

    private void Vouch(SimNode leader, SimNode target, List<SimNode> helpers)
    {
        var asked = Clock;
        var recorded = StateOf(leader).Nodes.FirstOrDefault(x => x.Uname == target.Name);
        var boot = recorded is null ? null : ClusterState.BootOf(recorded);
        int answered = 0;
        bool reached = false;
        foreach (var h in helpers)
        {
            if (!ProbeMessageArrives() || !ProbeMessageArrives()) continue; // the question, then the answer
            answered++;
            reached |= Linked(h, target) && (boot is null || boot == target.BootId);
        }
        int incarnation = leader.Incarnation;
        void Done(bool waited)
        {
            if (leader.Incarnation != incarnation) return; // the daemon that asked is gone, and its memory with it
            // After a wait the next probe is not answered at once (a round trip in the daemon): the round that follows reads this one's result first.
            if (waited) At(Now + 1, () => { if (leader.Incarnation == incarnation) leader.Vouching.Remove(target.Name); });
            else leader.Vouching.Remove(target.Name);
            // No helper answered: that says nothing of the member (the leader's own link may be the lossy one).
            if (answered == 0)
            {
                bool counts = _scenario.Bug == InjectedBug.UnansweredProbeCountsAsUnreached;
                Trace(leader.Name, $"indirect probe of {target.Name}: none of {helpers.Count} helpers answered{(counts ? " (counted as unreached)" : "")}");
                if (!counts) return;
            }
            var old = leader.Indirect.GetValueOrDefault(target.Name, new IndirectContact(null, null));
            leader.Indirect[target.Name] = reached ? old with { ReachedAt = Clock } : old with { UnreachedAskedAt = asked };
        }
        if (answered == helpers.Count) Done(waited: false);
        else At(Now + VouchTimeoutMs, () => Done(waited: true));
    }

    /// <summary>One probe message (question or answer) survives the scenario's message loss (none in the liveness phase).</summary>
    private bool ProbeMessageArrives() => _liveness || _scenario.Loss == 0 || _probeRng.NextDouble() >= _scenario.Loss;

    private int _reachableLosses;

    /// <summary>
    /// For a loss the leader records: when another member it reaches still reaches the member (same boot), what
    /// counts the record once committed (<c>reachable_losses</c>: what a probe with no lost message would have prevented).
    /// </summary>
    private Action? ReachableLoss(SimNode leader, NodeMembershipCommand command)
    {
        if (command.Online) return null;
        var target = _byName[command.Node];
        var by = _nodes.FirstOrDefault(m => m != leader && m != target && target.Up && Linked(leader, m) && Linked(m, target));
        if (by is null) return null;
        return () =>
        {
            _reachableLosses++;
            Trace(leader.Name, $"{target.Name} recorded lost while {by.Name} reached it");
        };
    }
}
