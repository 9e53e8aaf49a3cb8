using Vigil.Control;

namespace Vigil.Host.Consensus;

/// <summary>What happened to a proposal.</summary>
public enum ProposeOutcome
{
    /// <summary>Committed by a majority and applied locally.</summary>
    Committed,
    /// <summary>This node is not the leader; nothing was appended.</summary>
    NotLeader,
    /// <summary>Leadership was lost or time ran out after appending: the command may or may not commit
    /// (commands carry request ids, so proposing it again is safe).</summary>
    Ambiguous,
}

/// <summary>A cluster member as this node sees it.</summary>
public sealed record MemberView(string Name, string EndPoint, bool Reachable, bool IsLeader)
{
    /// <summary>When an unreachable member stopped answering this node's consensus requests, if known.</summary>
    public DateTimeOffset? UnreachableSince { get; init; }
}

/// <summary>
/// The consensus port: replicate <see cref="ClusterCommand"/>s through a majority and observe the
/// applied <see cref="ClusterState"/>. Real: DotNext Raft over TCP; simulated: a deterministic model.
/// </summary>
public interface IConsensus : IAsyncDisposable
{
    string LocalNode { get; }
    /// <summary>The latest applied state (immutable).</summary>
    ClusterState State { get; }
    /// <summary>The leader's name as this node believes it, or null during an election.</summary>
    string? Leader { get; }
    bool IsLeader { get; }
    long Term { get; }
    /// <summary>Cancelled when this node stops being the leader: every leader-only action is tied to it.</summary>
    CancellationToken LeadershipToken { get; }
    /// <summary>Cancelled when this node loses contact with the leader or a majority.</summary>
    CancellationToken ConsensusToken { get; }
    /// <summary>The term <see cref="Leader"/> was elected in (0 before any leader was known).</summary>
    long LeaderTerm { get; }
    /// <summary>
    /// This node leads and a majority answered it within the leader lease (its election timeout, between the lower and
    /// the upper one, from the start of that heartbeat round): false when it does not lead, or its lease ran out.
    /// </summary>
    bool HoldsLeaderLease { get; }
    IReadOnlyList<MemberView> Members { get; }

    /// <summary>Raised (on a library thread) after a command is applied or leadership or reachability changes; handlers must not block.</summary>
    event Action? Changed;

    Task StartAsync(CancellationToken cancellationToken);
    Task<ProposeOutcome> ProposeAsync(ClusterCommand command, CancellationToken cancellationToken);

    /// <summary>
    /// Returns once <see cref="State"/> includes every command committed when it was called (a linearizable read).
    /// A change computed from the state (an edit of the configuration) must wait for it: a new leader may not yet have
    /// applied its predecessor's last commits, and an edit built without them would undo them when it is applied.
    /// </summary>
    Task ReadBarrierAsync(CancellationToken cancellationToken);
}
