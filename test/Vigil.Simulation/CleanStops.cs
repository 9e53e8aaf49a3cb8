using System.Globalization;
using Vigil.Control;

namespace Vigil.Simulation;

/// <summary>
/// Clean stops of a node (<see cref="Scenario.CleanStopRate"/>, <c>--clean-stops</c>), as the daemon does them
/// (<c>NodeDaemon.Shutdown.cs</c>, <c>ShutdownAsync</c>): the daemon asks the leader to set its transient
/// <c>shutdown</c> attribute, the scheduler moves or stops what runs there, the leader's shell records the node as
/// expected down when <see cref="Controller.CompletedShutdowns"/> says so, and the daemon leaves once it sees that
/// record with nothing running locally (a leader first drives what it dispatched and the others' shutdowns for up to
/// 10 s); without a leader for 5 s and nothing running it leaves unacknowledged. The host then goes down and boots
/// again 1–5 s later (a new boot). Every choice is drawn from a <see cref="Random"/> of its own.
/// </summary>
public sealed partial class Simulator
{
    /// <summary>NodeDaemon.LeaderHandOver, NodeDaemon.LeaderlessLeave, and the poll and ask periods of ShutdownAsync.</summary>
    private const int LeaderHandOverMs = 10_000, LeaderlessLeaveMs = 5_000, StopPollMs = 100, StopAskMs = 1_000;

    private int _cleanStops, _cleanExits, _unacknowledgedExits, _aloneAfterCleanStop;

    /// <summary>A running ShutdownAsync: when it last asked, when it was first done, since when it has seen no leader.</summary>
    private sealed class CleanStop(long sinceMs)
    {
        public long SinceMs { get; } = sinceMs;
        public long? LastAskMs;
        public long? DoneAtMs;
        /// <summary>The leader's commit index when it was first done (its record is committed up to here).</summary>
        public int? DoneCommit;
        public long? LeaderlessAtMs;
    }

    private void CleanStopFault()
    {
        if (_stopRng.NextDouble() >= _scenario.CleanStopRate * 0.5) return;
        // Among the nodes that run resources: a witness's daemon leaves at once (it runs nothing).
        var n = _hosts[_stopRng.Next(_hosts.Count)];
        if (!n.Up || n.Stopping is not null) return;
        _cleanStops++;
        n.Stopping = new CleanStop(Now);
        Trace(n.Name, "asked to stop cleanly: asks the cluster to move or stop what runs here first");
        StopTick(n, n.Incarnation);
    }

    /// <summary>One round of ShutdownAsync's loop (every 100 ms while the daemon runs).</summary>
    private void StopTick(SimNode n, int incarnation)
    {
        if (!n.Up || n.Incarnation != incarnation || n.Stopping is not { } stop) return;
        var state = StateOf(n);
        var me = state.Nodes.FirstOrDefault(x => x.Uname == n.Name);
        if (_scenario.Bug == InjectedBug.ExitOnRequest && me is not null && ClusterState.ShutdownRequested(me))
        {
            Leave(n, me, acknowledged: true);
            return;
        }
        bool recorded = _scenario.Bug == InjectedBug.ExitOnStaleRecord ? me is { Expected: "down", Crmd: "online" } : me is not null && ClusterState.ShutdownRecorded(me, n.BootId);
        if (recorded && LocalResources(n) == 0)
        {
            stop.DoneAtMs ??= Now;
            stop.DoneCommit ??= n.Raft.Commit;
            bool othersLeaving = state.Nodes.Any(x => x.Uname != n.Name && ClusterState.ShutdownPending(x));
            // A leader also waits until the members it reaches know its record is committed (they learn it from its next
            // replication round): a two-node peer that did not would take its departure for a loss and fence it.
            bool othersBehind = _scenario.Bug != InjectedBug.LeaderLeavesAtOnce && n.Alone is null && n.Raft.IsLeader
                && _nodes.Any(p => p != n && Linked(n, p) && p.Raft.Commit < stop.DoneCommit);
            if (!(Leads(n) && (n.InFlight.Count > 0 || othersLeaving || othersBehind) && Now - stop.DoneAtMs < LeaderHandOverMs))
            {
                Leave(n, me, acknowledged: true);
                return;
            }
        }
        if (LeaderOf(n) is null) stop.LeaderlessAtMs ??= Now; else stop.LeaderlessAtMs = null;
        if (Now - stop.LeaderlessAtMs >= LeaderlessLeaveMs && LocalResources(n) == 0)
        {
            Leave(n, me, acknowledged: false);
            return;
        }
        if ((me is null || !ClusterState.ShutdownRequested(me)) && (stop.LastAskMs is null || Now - stop.LastAskMs >= StopAskMs))
        {
            stop.LastAskMs = Now;
            RequestShutdown(n);
        }
        At(Now + StopPollMs, () => StopTick(n, incarnation));
    }

    /// <summary>What the daemon's executor runs that a clean stop waits for: fence devices do not count (see NodeDaemon.Shutdown).</summary>
    private static int LocalResources(SimNode n) => n.LocalActive.Values.Count(a => a.Class != "stonith");

    /// <summary>RequestShutdownAsync: the shutdown attribute through the leader (this node, or the leader it knows; a lost request is asked again).</summary>
    private void RequestShutdown(SimNode n)
    {
        var command = new SetNodeAttributeCommand(n.Name, ClusterState.ShutdownAttribute,
            (Epoch.ToUnixTimeSeconds() + Now / 1000).ToString(CultureInfo.InvariantCulture), Transient: true)
        {
            RequestId = $"shutdown-request:{n.Name}:{n.BootId}:{Now}",
        };
        if (Leads(n)) { Watch(n, command, null); return; }
        if (LeaderOf(n) is not { } name) return;
        var l = _byName[name];
        // The leader's operate endpoint proposes it (alone too: a shutdown is not refused while running alone).
        Send(n, l, () => { if (Leads(l)) Watch(l, command, null); });
    }

    /// <summary>
    /// The daemon returns from ShutdownAsync (<paramref name="acknowledged"/>: as cleanly stopped) and the host goes down;
    /// it boots again 1–5 s later. Invariant 9: a node that leaves as cleanly stopped runs nothing (its real state, not
    /// the record), and the cluster did record this boot of it as expected down (<paramref name="me"/>, its record in the
    /// state this node applied, hence committed).
    /// </summary>
    private void Leave(SimNode n, Vigil.Core.Model.NodeState? me, bool acknowledged)
    {
        n.Stopping = null;
        bool recorded = me is not null && ClusterState.ShutdownRecorded(me, n.BootId);
        if (acknowledged)
        {
            _cleanExits++;
            // A fence device "runs" nowhere but in the fencer's registration: nothing of it is left behind.
            var devices = StateOf(n).Configuration.AllResources().OfType<Vigil.Core.Model.Primitive>().Where(p => p.IsFencingDevice).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
            var running = n.Truth.Keys.Where(k => !devices.Contains(k)).ToList();
            if (running.Count > 0) Violation(9, $"{n.Name} left as cleanly stopped while {string.Join(", ", running)} still ran there");
            if (!recorded)
                Violation(9, $"{n.Name} left as cleanly stopped, but the cluster had not recorded boot {n.BootId} as expected down (its record: expected {me?.Expected ?? "none"}, boot {(me is null ? "none" : ClusterState.BootOf(me) ?? "none")})");
        }
        else _unacknowledgedExits++;
        Crash(n, acknowledged
            ? "stopped cleanly: the cluster recorded it as expected down and nothing runs here"
            : $"stopped without the cluster's acknowledgement: no leader for {LeaderlessLeaveMs} ms and nothing runs here");
        n.LeftCleanly = acknowledged && recorded;
        int incarnation = n.Incarnation;
        At(Now + 1000 + _stopRng.Next(4000), () => { if (!n.Up && n.Incarnation == incarnation) Boot(n); });
    }

    /// <summary>The leader's shell records finished shutdowns as NodeDaemon.Controller.cs does (the same controller method).</summary>
    private void RecordCompletedShutdowns(SimNode l, long term)
    {
        foreach (var change in l.Controller.CompletedShutdowns(StateOf(l), term, l.InFlight))
        {
            Trace(l.Name, change.Message);
            Watch(l, change.Command, null);
        }
    }

    /// <summary>Invariant 8: a node that left after it was recorded as expected down is never fenced for that departure.</summary>
    private void CheckNotLeftCleanly(SimNode fencer, SimNode target)
    {
        if (!target.Up && target.LeftCleanly)
        {
            Violation(8, $"{fencer.Name} fences {target.Name}, which left after the cluster recorded it as expected down");
            // What the fencer's state says of it (the history the scheduler read), for the trace.
            if (_trace is null || StateOf(fencer).Nodes.FirstOrDefault(x => x.Uname == target.Name) is not { } record) return;
            Trace("check", $"{target.Name} in {fencer.Name}'s state: crmd {record.Crmd}, expected {record.Expected}, boot {ClusterState.BootOf(record)}");
            foreach (var r in record.Resources) foreach (var o in r.Ops) Trace("check", $"  {o.Id} rc {o.Rc} status {o.OpStatus} call {o.CallId}");
        }
    }
}
