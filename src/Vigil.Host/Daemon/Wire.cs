using Vigil.Control;
using Vigil.Core.Model;

namespace Vigil.Host.Daemon;

// A property with a default value is { get; set; }, not init: the build-time JSON contracts (HostJson) give an init-only
// property its type's default when the JSON leaves it out, losing the initializer's value (dotnet/runtime#84484).

/// <summary>Leader → node: run one operation. <see cref="Term"/> is the fencing token: a node refuses terms older than one it has seen.</summary>
public sealed record ExecuteRequest(long Term, string Leader, string Resource, string Class, string? Provider, string Type, string Operation, long IntervalMs)
{
    /// <summary>A probe the node may answer from its executor's history (<see cref="Vigil.Host.Agents.AgentAction.FromHistory"/>).</summary>
    public bool FromHistory { get; init; }
    /// <summary>The leader's configuration uses lease self-fencing: the node starts its lease rounds if it has not, and starts nothing until one counted.</summary>
    public bool LeaseRounds { get; init; }
    public long TimeoutMs { get; set; } = 20_000;
    public int? TargetRc { get; init; }
    public Dictionary<string, string> Parameters { get; set; } = [];
    public Dictionary<string, string> Meta { get; set; } = [];
    /// <summary>The digest of the parameters (op-digest): the node answers with it and sends it with a recurring monitor's reports.</summary>
    public string? OpDigest { get; init; }
}

public sealed record ExecuteResponse(int Rc, int OpStatus, int CallId, long ExecMs, string? ExitReason)
{
    /// <summary>
    /// The digest to record: the request's, except for a probe that finds the resource running, which
    /// reports the digest of the parameters this node started it with (when it knows them).
    /// </summary>
    public string? OpDigest { get; init; }
    /// <summary>The boot id of the executing daemon (its results from an earlier boot are not recorded after its restart).</summary>
    public string? Boot { get; init; }
}

/// <summary>Node → leader: a recurring monitor's result changed.</summary>
public sealed record ReportRequest(string Node, string Resource, string Class, string? Provider, string Type, string Operation, long IntervalMs, int Rc, int OpStatus, int CallId, string? ExitReason, int TargetRc)
{
    /// <summary>The digest the operation was dispatched with, recorded as its op-digest.</summary>
    public string? OpDigest { get; init; }
    /// <summary>The boot id of the reporting daemon (see <see cref="ExecuteResponse.Boot"/>).</summary>
    public string? Boot { get; init; }
}

/// <summary>CLI → any node: load a configuration.</summary>
public sealed record ConfigureRequest(string Text, string Format, string? By);

public sealed record ConfigureResponse(bool Applied, IReadOnlyList<string> Diagnostics, string? Error);

public sealed record ErrorResponse(string Error, string? Hint = null);

/// <summary>What 'vigil status' shows.</summary>
public sealed record StatusResponse
{
    public required string Node { get; init; }
    public string? Leader { get; init; }
    public long Term { get; init; }
    public bool Quorum { get; init; }
    public long Version { get; init; }
    public List<NodeStatus> Nodes { get; set; } = [];
    public List<ResourceStatus> Resources { get; set; } = [];
    public List<string> FailedActions { get; set; } = [];
    public List<string> Warnings { get; set; } = [];
    /// <summary>Resources this node's executor runs right now (its own view, valid even without quorum).</summary>
    public List<string> LocalActive { get; set; } = [];
    /// <summary>Whether this node currently reaches a majority of the members.</summary>
    public bool LocalQuorum { get; set; } = true;
    /// <summary>Move and ban constraints still in force.</summary>
    public List<string> Constraints { get; set; } = [];
    /// <summary>Members that only vote (no resources), with whether they are reachable from this node.</summary>
    public List<NodeStatus> Witnesses { get; set; } = [];
    /// <summary>Lost nodes waiting to be fenced, failed fencing and what to do about it.</summary>
    public List<string> Fencing { get; set; } = [];
    /// <summary>The newest fencing events, newest first.</summary>
    public List<string> FencingHistory { get; set; } = [];
    /// <summary>Set while this member of a two-node cluster carries on without its peer.</summary>
    public AloneStatus? Alone { get; init; }
}

/// <summary>A two-node member running without its peer: which peer, why it may, since when.</summary>
public sealed record AloneStatus(string Peer, string Reason, DateTimeOffset Since);

public sealed record NodeStatus(string Name, bool Online, bool Reachable, bool Standby)
{
    /// <summary>Lost without a clean shutdown and not fenced yet.</summary>
    public bool Unclean { get; init; }
    /// <summary>Its daemon is stopping cleanly: what it runs moves away or stops, then it leaves.</summary>
    public bool ShuttingDown { get; init; }
    /// <summary>
    /// Only in the answering node's own entry: its daemon started again and the state it holds still records its previous
    /// daemon (another boot id), which the cluster has not replaced yet. Not online then: what that record says (online,
    /// shut down cleanly) was true of the previous daemon, not of this one.
    /// </summary>
    public bool Joining { get; init; }

    /// <summary>
    /// A node's entry as the state records it (<paramref name="recorded"/>, null if never). <paramref name="ownBoot"/> is the
    /// answering daemon's boot id for its own entry (null for the others): a record of another boot is its previous daemon's.
    /// </summary>
    public static NodeStatus Of(string name, NodeState? recorded, bool reachable, bool standby, bool fencing, string? ownBoot)
    {
        bool joining = ownBoot is not null && recorded is not null && ClusterState.BootOf(recorded) is { } boot
            && ClusterState.BootStem(boot) != ClusterState.BootStem(ownBoot);
        bool online = !joining && recorded?.Crmd == "online";
        return new NodeStatus(name, online, reachable, standby)
        {
            Unclean = recorded is not null && Activity.IsUnclean(recorded) && fencing,
            ShuttingDown = online && (ClusterState.ShutdownRequested(recorded!) || recorded!.Expected == "down"),
            Joining = joining,
        };
    }
}

public sealed record ResourceStatus(string Id, string Agent, string? Group, string Role, List<string> Nodes)
{
    /// <summary>Nodes among <see cref="Nodes"/> that are lost and not yet fenced: it may or may not still run there.</summary>
    public List<string> Unclean { get; set; } = [];
}

/// <summary>CLI → any node: an everyday operation (resource start/stop/move/ban/clear/cleanup, node standby/online).</summary>
public sealed record OperateRequest(string Op, string? Resource, string? Node)
{
    public long? LifetimeSeconds { get; init; }
    public string? By { get; init; }
    /// <summary>For fence: reboot (default), off or on.</summary>
    public string? Action { get; init; }
}

public sealed record OperateResponse(bool Applied, string Message, string? Error);

/// <summary>A node's answer to the leader before it is recorded as joined: its name and the boot id of its daemon.</summary>
public sealed record HelloResponse(string Name, string Boot)
{
    /// <summary>The version of the replicated state the answering node has applied (0 when not told).</summary>
    public long Version { get; init; }
}

/// <summary>A planned member asks for its credentials with its one-time join token.</summary>
public sealed record JoinRequest(string Node, string Secret);

/// <summary>What a joining member needs: the member list, the cluster CA (PEM) and its own key and certificate (PKCS#12, base64).</summary>
public sealed record JoinResponse(Dictionary<string, MemberAddress> Members, string CaPem, string Pfx)
{
    /// <summary>Hashes of the remote API tokens every member accepts.</summary>
    public List<string> ApiTokenHashes { get; set; } = [];
}

/// <summary>
/// GET /v1/node/lease-receipt/{node}: when this member last received a lease request from that node, as an age (so no clocks
/// need to agree), and the boot id it came with; both null when it never received one.
/// </summary>
public sealed record LeaseReceiptResponse(string Member, string Node, long? AgeMs, string? Boot);

/// <summary>
/// GET /v1/node/round-key/{asker}: the key (base64) the asker authenticates its lease-round datagrams to this member with,
/// and this member its answers (<see cref="LeaseDatagram"/>); handed only over the asker's own client certificate.
/// </summary>
public sealed record RoundKeyResponse(string Member, string Boot, string Key);
