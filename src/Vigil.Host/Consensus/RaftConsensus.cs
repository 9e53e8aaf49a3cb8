using System.Net;
using DotNext.Net.Cluster;
using DotNext.Net.Cluster.Consensus.Raft;
using DotNext.Net.Cluster.Consensus.Raft.Membership;
using DotNext.Net.Cluster.Consensus.Raft.StateMachine;
using Vigil.Control;

namespace Vigil.Host.Consensus;

/// <summary>Settings of one Raft member.</summary>
public sealed record RaftOptions(string NodeName, IPEndPoint EndPoint, IReadOnlyDictionary<string, IPEndPoint> Members, string DataDirectory)
{
    /// <summary>
    /// Lower bound of the randomised election timeout. The research on this machine found that
    /// below 150 ms elections split more often without failing over faster, and that JIT-cold or
    /// CPU-starved processes need ≥ 300 ms to avoid spurious elections; 300 ms is the default.
    /// </summary>
    public int LowerElectionTimeoutMs { get; init; } = 300;
    public int UpperElectionTimeoutMs { get; init; } = 600;
    /// <summary>Mutual TLS between members (null: plain TCP).</summary>
    public DotNext.Net.Security.SslOptions? Ssl { get; init; }
}

/// <summary>
/// <see cref="IConsensus"/> on DotNext.Net.Cluster's embedded Raft over TCP with a persistent
/// write-ahead log. Membership is static (every node is configured with all members) and identical
/// on every node, so no membership change ever goes through the log.
/// </summary>
public sealed class RaftConsensus(RaftOptions options) : IConsensus
{
    private RaftCluster? _cluster;
    private StateMachine? _stateMachine;
    private WriteAheadLog? _wal;
    private volatile string? _leader;
    private long _leaderTerm;
    /// <summary>When each member the consensus layer does not reach stopped answering (its last change to unavailable).</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, DateTimeOffset> _unreachableSince = new(StringComparer.Ordinal);

    public string LocalNode => options.NodeName;
    public ClusterState State => _stateMachine?.State ?? ClusterState.Empty;
    public string? Leader => _leader;
    public bool IsLeader => _cluster is { } c && c.Leader is { IsRemote: false };
    public long Term => _cluster?.Term ?? 0;
    public CancellationToken LeadershipToken => _cluster?.LeadershipToken ?? new CancellationToken(true);
    public CancellationToken ConsensusToken => _cluster?.ConsensusToken ?? new CancellationToken(true);
    public long LeaderTerm => Interlocked.Read(ref _leaderTerm);

    /// <summary>
    /// DotNext's leader lease (IsLeaderLeaseEnabled): valid for this node's election timeout (drawn between the lower and
    /// the upper one; ClockDriftBound is fixed at 1) from the start of the last heartbeat round a majority answered, and
    /// cancelled by a timer when it runs out (soon after a pause ends).
    /// </summary>
    public bool HoldsLeaderLease => _cluster is { } c && c.TryGetLeaseToken(out var lease) && !lease.IsCancellationRequested;

    public event Action? Changed;

    public IReadOnlyList<MemberView> Members
    {
        get
        {
            var cluster = _cluster;
            if (cluster is null) return [];
            var views = new List<MemberView>();
            foreach (var m in cluster.Members)
            {
                var name = NameOf(m.EndPoint);
                var reachable = !m.IsRemote || m.Status == ClusterMemberStatus.Available;
                DateTimeOffset? since = !reachable && name is not null && _unreachableSince.TryGetValue(name, out var t) ? t : null;
                views.Add(new MemberView(name ?? m.EndPoint.ToString() ?? "?", m.EndPoint.ToString() ?? "", reachable, name is not null && name == _leader) { UnreachableSince = since });
            }
            return views.OrderBy(v => v.Name, StringComparer.Ordinal).ToList();
        }
    }

    private string? NameOf(EndPoint? ep)
    {
        if (ep is null) return null;
        foreach (var (name, e) in options.Members)
            if (e.Equals(ep) || e.ToString() == ep.ToString()) return name;
        return null;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(options.DataDirectory);
        var snapshots = new DirectoryInfo(Path.Combine(options.DataDirectory, "snapshots"));
        snapshots.Create();
        _stateMachine = new StateMachine(snapshots);
        // The snapshot must be restored before the log opens: the log reads the snapshot index.
        await _stateMachine.RestoreAsync(cancellationToken).ConfigureAwait(false);
        _wal = new WriteAheadLog(new WriteAheadLog.Options { Location = Path.Combine(options.DataDirectory, "wal") }, _stateMachine);
        _stateMachine.Applied += () => Changed?.Invoke();

        var storage = new EndPointStorage();
        var builder = storage.CreateInitialConfigurationBuilder();
        foreach (var ep in options.Members.Values) builder.Add(ep);
        builder.Build();

        var config = new RaftCluster.TcpConfiguration(options.EndPoint)
        {
            LowerElectionTimeout = options.LowerElectionTimeoutMs,
            UpperElectionTimeout = options.UpperElectionTimeoutMs,
            RequestTimeout = TimeSpan.FromMilliseconds(options.LowerElectionTimeoutMs),
            ConnectTimeout = TimeSpan.FromMilliseconds(Math.Max(50, options.LowerElectionTimeoutMs / 2)),
            ColdStart = false,
            ConfigurationStorage = storage,
            IsLeaderLeaseEnabled = true,
            SslOptions = options.Ssl,
        };
        _cluster = new RaftCluster(config) { AuditTrail = _wal };
        _cluster.LeaderChanged += (_, leader) =>
        {
            _leader = leader is null ? null : leader.IsRemote ? NameOf(leader.EndPoint) : options.NodeName;
            // A leader is announced in the term it was elected in.
            if (leader is not null && _cluster is { } c) Interlocked.Exchange(ref _leaderTerm, c.Term);
            Changed?.Invoke();
        };
        await _cluster.StartAsync(cancellationToken).ConfigureAwait(false);
        // A member that stops or starts answering the consensus layer changes what the DC must watch: the
        // daemon's loops wait on Changed instead of polling for it.
        foreach (var m in _cluster.Members)
        {
            if (!m.IsRemote) continue;
            var name = NameOf(m.EndPoint);
            m.MemberStatusChanged += e =>
            {
                if (name is not null)
                {
                    if (e.NewStatus == ClusterMemberStatus.Unavailable) _unreachableSince[name] = DateTimeOffset.UtcNow;
                    else _unreachableSince.TryRemove(name, out _);
                }
                Changed?.Invoke();
            };
        }
    }

    public async Task<ProposeOutcome> ProposeAsync(ClusterCommand command, CancellationToken cancellationToken)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("consensus is not started");
        if (!IsLeader) return ProposeOutcome.NotLeader;
        try
        {
            await cluster.ReplicateAsync(command.ToBytes(), null, cancellationToken).ConfigureAwait(false);
            return ProposeOutcome.Committed;
        }
        catch (NotLeaderException)
        {
            return ProposeOutcome.Ambiguous;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return ProposeOutcome.Ambiguous;
        }
    }

    public async Task ReadBarrierAsync(CancellationToken cancellationToken)
    {
        var cluster = _cluster ?? throw new InvalidOperationException("consensus is not started");
        await cluster.ApplyReadBarrierAsync(cancellationToken).ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_cluster is not null)
        {
            try { await _cluster.StopAsync(CancellationToken.None).ConfigureAwait(false); }
            catch (ObjectDisposedException) { }
            _cluster.Dispose();
        }
        if (_wal is not null) await _wal.DisposeAsync().ConfigureAwait(false);
        if (_stateMachine is not null) await _stateMachine.DisposeAsync().ConfigureAwait(false);
    }
}

/// <summary>Static membership kept in memory: every node starts with the same configured member list.</summary>
internal sealed class EndPointStorage : InMemoryClusterConfigurationStorage<EndPoint>
{
    protected override void Encode(EndPoint address, ref DotNext.Buffers.BufferWriterSlim<byte> output) =>
        DotNext.Net.EndPointFormatter.WriteEndPoint(ref output, address);

    protected override EndPoint Decode(ref DotNext.Buffers.SequenceReader reader) =>
        DotNext.Net.EndPointFormatter.ReadEndPoint(ref reader);
}
