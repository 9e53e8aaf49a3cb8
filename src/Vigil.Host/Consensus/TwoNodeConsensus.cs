using Vigil.Control;

namespace Vigil.Host.Consensus;

/// <summary>Why and since when a node of a two-node cluster carries on alone.</summary>
/// <param name="PeerLostAt">When this node first missed its peer (the death-match wait counts from then).</param>
public sealed record AloneInfo(string Peer, string Reason, DateTimeOffset Since, long Term, int LocalChanges, DateTimeOffset PeerLostAt);

/// <summary>
/// Consensus for clusters of two voting members without a witness. A majority of two is both, so a
/// survivor could never commit anything alone. When the daemon decides the survivor may carry on
/// (no-quorum-policy=ignore as the seeds configure it, or fencing through a device: it fences its peer
/// first), this node runs alone: it leads in the newest term it knows, and proposals apply to a local
/// copy of the last replicated state. Once the peer answers again the copy is dropped, the replicated
/// state takes over again, and the daemon makes the leader re-probe this node (what it ran alone is
/// found by probes, as Pacemaker rebuilds status from the nodes after a split).
/// Otherwise everything passes through to Raft.
/// </summary>
public sealed class TwoNodeConsensus : IConsensus
{
    private readonly RaftConsensus _raft;
    private readonly object _gate = new();
    private Alone? _alone;

    private sealed class Alone(string peer, string reason, long term, ClusterState state, DateTimeOffset peerLostAt)
    {
        public readonly DateTimeOffset PeerLostAt = peerLostAt;
        public readonly string Peer = peer;
        public readonly string Reason = reason;
        public readonly long Term = term;
        public readonly DateTimeOffset Since = DateTimeOffset.UtcNow;
        public readonly CancellationTokenSource Leadership = new();
        public ClusterState State = state;
        public int Changes;
    }

    public TwoNodeConsensus(RaftConsensus raft)
    {
        _raft = raft;
        _raft.Changed += () => Changed?.Invoke();
    }

    public string LocalNode => _raft.LocalNode;
    public ClusterState State => _alone is { } a ? a.State : _raft.State;
    public string? Leader => _alone is not null ? _raft.LocalNode : _raft.Leader;
    public bool IsLeader => _alone is not null || _raft.IsLeader;
    public long Term => _alone is { } a ? a.Term : _raft.Term;
    public CancellationToken LeadershipToken => _alone is { } a ? a.Leadership.Token : _raft.LeadershipToken;
    public CancellationToken ConsensusToken => _alone is { } a ? a.Leadership.Token : _raft.ConsensusToken;
    public IReadOnlyList<MemberView> Members => _raft.Members;
    public long LeaderTerm => _alone is { } a ? a.Term : _raft.LeaderTerm;
    /// <summary>Alone, this node is its own majority.</summary>
    public bool HoldsLeaderLease => _alone is not null || _raft.HoldsLeaderLease;

    /// <summary>Alone, the local copy is the state: nothing to wait for.</summary>
    public Task ReadBarrierAsync(CancellationToken cancellationToken) => _alone is not null ? Task.CompletedTask : _raft.ReadBarrierAsync(cancellationToken);

    /// <summary>Null unless this node runs alone.</summary>
    public AloneInfo? AloneNow => _alone is { } a ? new AloneInfo(a.Peer, a.Reason, a.Since, a.Term, a.Changes, a.PeerLostAt) : null;

    public event Action? Changed;

    public Task StartAsync(CancellationToken cancellationToken) => _raft.StartAsync(cancellationToken);

    /// <summary>
    /// Carry on without the peer, leading in <paramref name="term"/> (at least the newest term this node
    /// has seen: its executor must accept its own requests, and a later real leader's term is never lower).
    /// </summary>
    public void EnterAlone(string peer, string reason, long term, DateTimeOffset peerLostAt)
    {
        lock (_gate)
        {
            if (_alone is not null) return;
            _alone = new Alone(peer, reason, Math.Max(term, _raft.Term), _raft.State, peerLostAt);
        }
        Changed?.Invoke();
    }

    /// <summary>Back to the replicated state; returns how many local changes were dropped (0 when not alone).</summary>
    public int LeaveAlone()
    {
        Alone? was;
        lock (_gate)
        {
            was = _alone;
            _alone = null;
        }
        if (was is null) return 0;
        was.Leadership.Cancel();
        Changed?.Invoke();
        return was.Changes;
    }

    public Task<ProposeOutcome> ProposeAsync(ClusterCommand command, CancellationToken cancellationToken)
    {
        bool applied = false;
        lock (_gate)
        {
            if (_alone is { } a)
            {
                a.State = a.State.Apply(command);
                a.Changes++;
                applied = true;
            }
        }
        if (!applied) return _raft.ProposeAsync(command, cancellationToken);
        Changed?.Invoke();
        return Task.FromResult(ProposeOutcome.Committed);
    }

    public async ValueTask DisposeAsync()
    {
        LeaveAlone();
        await _raft.DisposeAsync().ConfigureAwait(false);
    }
}
