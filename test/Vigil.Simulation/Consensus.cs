using System.Collections.Immutable;
using Vigil.Control;

namespace Vigil.Simulation;

/// <summary>One log entry: the term it was appended in and the command (null for a new leader's no-op).</summary>
public sealed record Entry(long Term, ClusterCommand? Command)
{
    /// <summary>Where it was appended in the proposer's log.</summary>
    public int Index { get; init; }
    /// <summary>Applied only to the local copy of a two-node member running alone (never replicated).</summary>
    public bool Local { get; init; }
}

/// <summary>
/// A deterministic model of Raft behind the same contract as <c>IConsensus</c>: per-node logs and
/// terms, elections by majority vote with the up-to-date-log rule, commits only of entries a
/// reachable majority holds (and only through an entry of the leader's own term), deposed leaders
/// that keep acting until they notice (no majority for an election timeout, or a higher term).
/// Replication is modelled as instantaneous between reachable nodes on each 50 ms tick; message-level
/// faults apply to the controller's and executors' traffic, not to Raft's.
/// </summary>
public sealed partial class Simulator
{
    private sealed class Raft
    {
        public long Term;
        public string? VotedFor;
        public ImmutableList<Entry> Log = [];
        public int Commit;
        public int Applied;
        public ClusterState State = ClusterState.Empty;
        public bool IsLeader;
        public string? Leader;
        public long LastHeardMs;
        public long ElectionDeadlineMs;
        public long LastMajorityMs;
        public long CommittedInTermMs = -1;
    }

    private const int ConsensusTickMs = 50;
    private const int ElectionLowMs = 300, ElectionHighMs = 600;

    private readonly List<Entry> _committed = [];

    private void ConsensusTick()
    {
        foreach (var n in _nodes) if (n.Up && n.Raft.IsLeader) Replicate(n);
        foreach (var n in _nodes) if (n.Up && !n.Raft.IsLeader && Now >= n.Raft.ElectionDeadlineMs) Elect(n);
        foreach (var n in _nodes) if (n.Up) ApplyCommitted(n);
        At(Now + ConsensusTickMs, ConsensusTick);
    }

    private int Majority => _nodes.Count / 2 + 1;

    private bool Linked(SimNode a, SimNode b) => a == b || (a.Up && b.Up && Reaches(a.Name, b.Name) && Reaches(b.Name, a.Name));

    private void Replicate(SimNode l)
    {
        var r = l.Raft;
        int acks = 1;
        foreach (var p in _nodes)
        {
            if (p == l || !Linked(l, p)) continue;
            if (p.Raft.Term > r.Term) { StepDown(l, p.Raft.Term, $"saw term {p.Raft.Term} at {p.Name}"); return; }
            var f = p.Raft;
            if (f.Term < r.Term) { f.Term = r.Term; f.VotedFor = null; }
            f.IsLeader = false;
            f.Leader = l.Name;
            f.LastHeardMs = Now;
            f.ElectionDeadlineMs = Now + _rng.Next(ElectionLowMs, ElectionHighMs);
            // The follower's log becomes the leader's (a divergent uncommitted suffix is dropped).
            if (f.Log.Count > r.Log.Count || !SamePrefix(f.Log, r.Log, f.Log.Count)) Truncated(p, r.Log);
            f.Log = r.Log;
            f.Commit = Math.Max(f.Commit, Math.Min(r.Commit, f.Log.Count));
            acks++;
        }
        if (acks >= Majority)
        {
            r.LastMajorityMs = Now;
            // Raft commits only through an entry of the current term; it carries the older ones.
            if (r.Log.Count > r.Commit && r.Log[^1].Term == r.Term)
            {
                for (int i = r.Commit; i < r.Log.Count; i++) Committed(i, r.Log[i]);
                r.Commit = r.Log.Count;
                if (r.CommittedInTermMs < 0) r.CommittedInTermMs = Now;
            }
        }
        else if (Now - r.LastMajorityMs > ElectionLowMs) StepDown(l, r.Term, "no majority for an election timeout");
    }

    private static bool SamePrefix(ImmutableList<Entry> a, ImmutableList<Entry> b, int count)
    {
        if (b.Count < count) return false;
        for (int i = 0; i < count; i++) if (!ReferenceEquals(a[i], b[i])) return false;
        return true;
    }

    private void Truncated(SimNode p, ImmutableList<Entry> leaderLog)
    {
        if (p.Raft.Applied > leaderLog.Count || !SamePrefix(p.Raft.Log, leaderLog, Math.Min(p.Raft.Applied, p.Raft.Log.Count)))
        {
            // An applied entry is not in the leader's log (only possible when committed entries get lost): rebuild.
            p.Raft.Applied = 0;
            p.Raft.State = ClusterState.Empty;
        }
    }

    /// <summary>Leader completeness: a new leader's log holds every committed entry.</summary>
    private void CheckComplete(SimNode leader)
    {
        var log = leader.Raft.Log;
        for (int i = 0; i < _committed.Count; i++)
            if (i >= log.Count || !ReferenceEquals(log[i], _committed[i]))
            {
                Violation(5, $"{leader.Name} was elected in term {leader.Raft.Term} without committed entry {i}: acknowledged changes are lost");
                return;
            }
    }

    private void Committed(int index, Entry e)
    {
        if (index < _committed.Count)
        {
            if (!ReferenceEquals(_committed[index], e)) Violation(5, $"log index {index} was committed twice with different entries");
            return;
        }
        _committed.Add(e);
        if (e.Command is not null) OnCommitted(e.Command);
    }

    private void StepDown(SimNode n, long term, string why)
    {
        var r = n.Raft;
        if (r.IsLeader) Trace(n.Name, $"steps down in term {r.Term}: {why}");
        if (term > r.Term) { r.Term = term; r.VotedFor = null; }
        r.IsLeader = false;
        r.Leader = null;
        r.ElectionDeadlineMs = Now + _rng.Next(ElectionLowMs, ElectionHighMs);
    }

    private void Elect(SimNode c)
    {
        var r = c.Raft;
        r.Term++;
        r.VotedFor = c.Name;
        r.Leader = null;
        int votes = 1;
        long lastTerm = r.Log.Count == 0 ? 0 : r.Log[^1].Term;
        foreach (var p in _nodes)
        {
            if (p == c || !Linked(c, p)) continue;
            var v = p.Raft;
            // Leader stickiness: a node that heard from a live leader recently does not vote it out.
            if (v.Leader is not null && Now - v.LastHeardMs < ElectionLowMs && v.Term >= r.Term - 1) continue;
            if (v.Term > r.Term) { r.Term = v.Term; continue; }
            if (v.Term < r.Term)
            {
                if (v.IsLeader) StepDown(p, r.Term, $"{c.Name} asks for votes in term {r.Term}");
                v.Term = r.Term;
                v.VotedFor = null;
            }
            long vLast = v.Log.Count == 0 ? 0 : v.Log[^1].Term;
            bool upToDate = _scenario.Bug == InjectedBug.AnyLogWins || lastTerm > vLast || (lastTerm == vLast && r.Log.Count >= v.Log.Count);
            if (!upToDate || (v.VotedFor is not null && v.VotedFor != c.Name)) continue;
            v.VotedFor = c.Name;
            votes++;
        }
        r.ElectionDeadlineMs = Now + _rng.Next(ElectionLowMs, ElectionHighMs);
        if (votes < Majority) return;
        r.IsLeader = true;
        r.Leader = c.Name;
        r.LastMajorityMs = Now;
        r.CommittedInTermMs = -1;
        // A new leader appends a no-op of its term: committing it commits everything before it.
        CheckComplete(c);
        r.Log = r.Log.Add(new Entry(r.Term, null) { Index = r.Log.Count });
        _elections++;
        if (c.Witness) _witnessLeaderships++;
        Trace(c.Name, $"elected leader in term {r.Term} ({votes} of {_nodes.Count} votes)");
    }

    private void ApplyCommitted(SimNode n)
    {
        var r = n.Raft;
        while (r.Applied < r.Commit && r.Applied < r.Log.Count)
        {
            var e = r.Log[r.Applied++];
            if (e.Command is not null) r.State = r.State.Apply(e.Command);
        }
    }

    // What a node's shell sees of consensus (TwoNodeConsensus in the daemon): alone, its local copy and its own term.
    private static ClusterState StateOf(SimNode n) => n.Alone?.State ?? n.Raft.State;
    private static long TermOf(SimNode n) => n.Alone?.Term ?? n.Raft.Term;
    private static bool Leads(SimNode n) => n.Alone is not null || n.Raft.IsLeader;
    private static string? LeaderOf(SimNode n) => n.Alone is not null ? n.Name : n.Raft.Leader;

    /// <summary>Proposes on <paramref name="n"/>; the entry (to watch for its commit) or null when it does not lead.</summary>
    private Entry? Propose(SimNode n, ClusterCommand command)
    {
        if (!n.Up || !Leads(n)) return null;
        var stamped = command with { AtUnixSeconds = Epoch.ToUnixTimeSeconds() + Now / 1000 };
        if (n.Alone is { } alone)
        {
            // Alone, a proposal applies to the local copy at once (TwoNodeConsensus.ProposeAsync).
            alone.State = alone.State.Apply(stamped);
            alone.Changes++;
            OnAppliedAlone(n, alone, stamped);
            return new Entry(alone.Term, stamped) { Index = -1, Local = true };
        }
        var e = new Entry(n.Raft.Term, stamped) { Index = n.Raft.Log.Count };
        n.Raft.Log = n.Raft.Log.Add(e);
        return e;
    }

    /// <summary>Committed and known to the proposer as committed (its commit index passed it).</summary>
    private static bool Acknowledged(SimNode proposer, Entry e)
    {
        if (e.Local) return proposer.Alone is not null;
        var r = proposer.Raft;
        return e.Index < r.Commit && e.Index < r.Log.Count && ReferenceEquals(r.Log[e.Index], e);
    }
}
