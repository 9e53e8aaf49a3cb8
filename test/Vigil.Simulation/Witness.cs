namespace Vigil.Simulation;

/// <summary>
/// Witness members (<see cref="Scenario.Witnesses"/>), as the daemon has them (NodeSettings.Witness): they are
/// consensus voters like any member (majorities, quorum, elections, indirect probes count them), a witness may
/// lead and then plans, dispatches and fences as leader, but the controller's node list leaves witnesses out, so
/// they get no membership record, the scheduler never sees them, and their executors refuse every action.
/// Their faults come from the same mix: crashes, partitions, link cuts and lost or stalled messages.
/// </summary>
public sealed partial class Simulator
{
    private int _witnessLeaderships;

    /// <summary>Invariant 7: nothing is ever started on a witness: no action is dispatched to one (a probe neither), and none is fenced.</summary>
    private void CheckNotWitness(SimNode leader, SimNode target, string what)
    {
        if (target.Witness) Violation(7, $"{leader.Name} dispatched {what} to witness {target.Name}, which runs no resources");
    }
}
