using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Control;

/// <summary>
/// A change to the replicated cluster state. Commands are appended to the consensus log and applied
/// in the same order on every node, so <see cref="ClusterState.Apply"/> must be deterministic: the
/// leader stamps the time (<see cref="AtUnixSeconds"/>) and a request id, which makes a command that
/// is proposed twice (after an ambiguous NotLeader answer) take effect once.
/// The JSON shape is persisted in the log: changing it needs a new discriminator, not an edit.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "cmd")]
[JsonDerivedType(typeof(ConfigureCommand), "configure")]
[JsonDerivedType(typeof(RecordOperationCommand), "record-op")]
[JsonDerivedType(typeof(NodeMembershipCommand), "membership")]
[JsonDerivedType(typeof(SetNodeAttributeCommand), "node-attr")]
[JsonDerivedType(typeof(CleanupCommand), "cleanup")]
[JsonDerivedType(typeof(FenceResultCommand), "fence-result")]
[JsonDerivedType(typeof(ApiTokenCommand), "api-token")]
public abstract record ClusterCommand
{
    public required string RequestId { get; init; }
    public long AtUnixSeconds { get; init; }

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = false,
        TypeInfoResolver = ControlJson.Default,
    };

    public byte[] ToBytes() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    /// <summary>Reads a command; null (never an exception) for bytes that are not one.</summary>
    public static ClusterCommand? FromBytes(ReadOnlySpan<byte> bytes)
    {
        try { return JsonSerializer.Deserialize<ClusterCommand>(bytes, Json); }
        catch (JsonException) { return null; }
        catch (NotSupportedException) { return null; }
    }
}

/// <summary>Replace the configuration section (CIB XML of &lt;configuration&gt; or a whole &lt;cib&gt;).</summary>
public sealed record ConfigureCommand(string ConfigurationXml) : ClusterCommand
{
    /// <summary>Who asked for it (shown in status and the audit log).</summary>
    public string? By { get; init; }
}

/// <summary>The result of one agent operation on one node, as the executor reported it.</summary>
public sealed record RecordOperationCommand(string Node, string Resource, string Class, string? Provider, string Type, string Operation, long IntervalMs, int Rc, int OpStatus, int TargetRc) : ClusterCommand
{
    public int CallId { get; init; }
    public long ExecMs { get; init; }
    public string? ExitReason { get; init; }
    /// <summary>The term of the leader that dispatched the operation (the fencing token).</summary>
    public long Term { get; init; }
    /// <summary>
    /// The <c>op-digest</c> of the parameters the operation ran with (<see cref="Vigil.Scheduler.OperationDigest.ForResource"/>),
    /// or null when unknown (commands written before digests were recorded have none).
    /// </summary>
    public string? OpDigest { get; init; }
    /// <summary>
    /// The boot id of the daemon whose executor ran the operation, when known. A result of an earlier boot
    /// that arrives after the node's restart was recorded (a delayed answer) is not recorded: it would stand
    /// for a resource the restart forgot (found by the simulator: seed 477 with witnesses and link cuts).
    /// </summary>
    public string? Boot { get; init; }
}

/// <summary>A node joined or left the membership (the leader's view).</summary>
public sealed record NodeMembershipCommand(string Node, bool Online) : ClusterCommand
{
    /// <summary>Expected state: "member" while it should run, "down" after a clean shutdown.</summary>
    public string? Expected { get; init; }
    /// <summary>
    /// The joining daemon's boot id (new at every daemon start). The node's operation history is kept
    /// when it is the same (the node was only cut off, its resources may still run) and forgotten when
    /// it differs (the daemon restarted: its resources are probed again).
    /// </summary>
    public string? Boot { get; init; }
}

/// <summary>Set (or with a null value, delete) a node attribute; transient ones live in the status and vanish on restart.</summary>
public sealed record SetNodeAttributeCommand(string Node, string Name, string? Value, bool Transient) : ClusterCommand;

/// <summary>Forget failures (fail counts and failed operations) of a resource, on one node or all.</summary>
public sealed record CleanupCommand(string? Resource, string? Node) : ClusterCommand;
