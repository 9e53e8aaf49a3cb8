using System.Globalization;

namespace Vigil.Core.Model;

/// <summary>The status section: what each node reported (membership, attributes, operation history).</summary>
public sealed record ClusterStatus
{
    public IReadOnlyList<NodeState> Nodes { get; init; } = [];
    public IReadOnlyList<OpaqueElement> Other { get; init; } = [];
}

/// <summary>One node_state: membership flags, transient attributes (fail counts, promotion scores) and the LRM history.</summary>
public sealed record NodeState(string Id)
{
    public string? Uname { get; init; }
    /// <summary>"true"/"false", or a timestamp in newer Pacemaker.</summary>
    public string? InCcm { get; init; }
    /// <summary>"online"/"offline", or a timestamp in newer Pacemaker.</summary>
    public string? Crmd { get; init; }
    public string? Join { get; init; }
    public string? Expected { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];
    public string? TransientId { get; init; }
    public IReadOnlyList<AttributeSet> TransientAttributes { get; init; } = [];
    public string? LrmId { get; init; }
    public string? LrmResourcesId { get; init; }
    public IReadOnlyList<LrmResource> Resources { get; init; } = [];
    /// <summary>False when the node_state had no lrm element (nothing known yet).</summary>
    public bool HasLrm { get; init; }
}

/// <summary>The operation history of one resource on one node.</summary>
public sealed record LrmResource(string Id)
{
    public string? Class { get; init; }
    public string? Provider { get; init; }
    public string? Type { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];
    public IReadOnlyList<LrmOp> Ops { get; init; } = [];
}

/// <summary>One recorded operation result (lrm_rsc_op). All attributes are kept; the common ones are typed.</summary>
public sealed record LrmOp(string Id)
{
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; init; } = [];
    public IReadOnlyList<OpaqueElement> Children { get; init; } = [];

    public string? Attribute(string name)
    {
        foreach (var kv in Attributes)
            if (kv.Key == name) return kv.Value;
        return null;
    }

    public string Operation => Attribute("operation") ?? "";
    public int CallId => Int("call-id", -1);
    public int Rc => Int("rc-code", -1);
    public int OpStatus => Int("op-status", 0);
    public long IntervalMs => long.TryParse(Attribute("interval"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
    public long LastRcChange => long.TryParse(Attribute("last-rc-change"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
    public long LastRun => long.TryParse(Attribute("last-run"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
    public string? TransitionKey => Attribute("transition-key");
    public string? TransitionMagic => Attribute("transition-magic");
    public string? OnNode => Attribute("on_node");

    private int Int(string name, int fallback) =>
        int.TryParse(Attribute(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : fallback;
}
