using System.Collections.Immutable;

namespace Vigil.Host.Agents;

/// <summary>
/// One action to run on one resource on this node: what Pacemaker's controller hands its executor.
/// <see cref="Meta"/> holds every other <c>CRM_meta_*</c> value (clone, promotable, notify, role,
/// migrate_*, …) by its name without the prefix; names may use '-' or '_' (converted to '_').
/// </summary>
public sealed record AgentAction(AgentId Agent, string ResourceId, string Action)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    /// <summary>Instance attributes, passed as OCF_RESKEY_name (fence agents: name=value on stdin).</summary>
    public ImmutableDictionary<string, string> Parameters { get; init; } = ImmutableDictionary<string, string>.Empty;
    public ImmutableDictionary<string, string> Meta { get; init; } = ImmutableDictionary<string, string>.Empty;
    /// <summary>0 for one-shot actions; a monitor with interval 0 is a probe.</summary>
    public TimeSpan Interval { get; init; }
    /// <summary>op timeout &gt; op_defaults timeout &gt; 20 s (agent meta-data values are only hints).</summary>
    public TimeSpan Timeout { get; init; } = DefaultTimeout;
    /// <summary>OCF_CHECK_LEVEL from the op's instance attributes (monitor depth 0/10/20).</summary>
    public int? CheckLevel { get; init; }
    /// <summary>The rc the controller expects (CRM_meta_op_target_rc); null = derived (7 for probes, 0 otherwise).</summary>
    public int? TargetRc { get; init; }
    public string NodeName { get; init; } = "";
    public string? NodeUuid { get; init; }
    /// <summary>The controller's transition key (recorded in history; the term it carries is the controller's fencing token).</summary>
    public string? TransitionKey { get; init; }
    /// <summary>The controller's digest of the parameters (op-digest), kept with the results; never given to the agent.</summary>
    public string? OpDigest { get; init; }

    /// <summary>
    /// A probe that may be answered from the executor's own history of the resource instead of by the agent
    /// (<see cref="Executor"/>): what a new leader asks of a node whose results its predecessor recorded.
    /// </summary>
    public bool FromHistory { get; init; }
    public bool IsProbe => Action == "monitor" && Interval == TimeSpan.Zero;
    public bool IsRecurring => Interval > TimeSpan.Zero;
    public long IntervalMs => (long)Interval.TotalMilliseconds;
    public int ExpectedRc => TargetRc ?? (IsProbe ? OcfCode.NotRunning : OcfCode.Success);

    /// <summary>The operation key Pacemaker uses in history ids: rsc_action_intervalMs.</summary>
    public string OperationKey => $"{ResourceId}_{Action}_{IntervalMs}";

    public AgentAction WithParameter(string name, string value) => this with { Parameters = Parameters.SetItem(name, value) };
    public AgentAction WithMeta(string name, string value) => this with { Meta = Meta.SetItem(name, value) };
    public AgentAction WithMeta(IEnumerable<KeyValuePair<string, string>> values) => this with { Meta = Meta.SetItems(values) };
}

/// <summary>Builders for the clone, promotable and notification meta variables, in every spelling agents read.</summary>
public static class CloneMeta
{
    /// <summary>Clone meta for instance <paramref name="instance"/>; promotable clones get the new and the legacy names (drbd reads only master_max).</summary>
    public static ImmutableDictionary<string, string> For(int instance, int cloneMax, int cloneNodeMax = 1, bool globallyUnique = false,
        bool notify = false, int? promotedMax = null, int promotedNodeMax = 1)
    {
        var b = ImmutableDictionary.CreateBuilder<string, string>();
        b["clone"] = Inv(instance);
        b["clone_max"] = Inv(cloneMax);
        b["clone_node_max"] = Inv(cloneNodeMax);
        b["globally_unique"] = globallyUnique ? "true" : "false";
        b["notify"] = notify ? "true" : "false";
        if (promotedMax is int pm)
        {
            b["promoted_max"] = Inv(pm);
            b["promoted_node_max"] = Inv(promotedNodeMax);
            b["master_max"] = Inv(pm);
            b["master_node_max"] = Inv(promotedNodeMax);
        }
        return b.ToImmutable();
    }

    /// <summary>
    /// Notification variables for one notify (or notified) action. Lists are instance ids and node
    /// names in parallel; empty lists are a single space, as Pacemaker sends them. Promoted and
    /// unpromoted lists are also written under their legacy master/slave names.
    /// </summary>
    public static ImmutableDictionary<string, string> Notify(string type, string operation, NotifyLists lists)
    {
        var b = ImmutableDictionary.CreateBuilder<string, string>();
        b["notify_type"] = type;
        b["notify_operation"] = operation;
        b["notify_key_type"] = type;
        b["notify_key_operation"] = operation;
        void Pair(string name, IReadOnlyList<(string Resource, string Node)> list, params string[] legacy)
        {
            var rsc = Join(list.Select(x => x.Resource));
            var uname = Join(list.Select(x => x.Node));
            b[$"notify_{name}_resource"] = rsc;
            b[$"notify_{name}_uname"] = uname;
            foreach (var l in legacy)
            {
                b[$"notify_{l}_resource"] = rsc;
                b[$"notify_{l}_uname"] = uname;
            }
        }
        Pair("start", lists.Start);
        Pair("stop", lists.Stop);
        Pair("promote", lists.Promote);
        Pair("demote", lists.Demote);
        Pair("active", lists.Active);
        Pair("promoted", lists.Promoted, "master");
        Pair("unpromoted", lists.Unpromoted, "slave");
        b["notify_inactive_resource"] = Join(lists.Inactive);
        b["notify_all_uname"] = Join(lists.AllNodes);
        b["notify_available_uname"] = Join(lists.AvailableNodes);
        return b.ToImmutable();
    }

    private static string Join(IEnumerable<string> items)
    {
        var s = string.Join(' ', items);
        return s.Length == 0 ? " " : s;
    }

    private static string Inv(int v) => v.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The instance/node lists a notification carries.</summary>
public sealed record NotifyLists
{
    public IReadOnlyList<(string Resource, string Node)> Start { get; init; } = [];
    public IReadOnlyList<(string Resource, string Node)> Stop { get; init; } = [];
    public IReadOnlyList<(string Resource, string Node)> Promote { get; init; } = [];
    public IReadOnlyList<(string Resource, string Node)> Demote { get; init; } = [];
    public IReadOnlyList<(string Resource, string Node)> Active { get; init; } = [];
    public IReadOnlyList<(string Resource, string Node)> Promoted { get; init; } = [];
    public IReadOnlyList<(string Resource, string Node)> Unpromoted { get; init; } = [];
    public IReadOnlyList<string> Inactive { get; init; } = [];
    public IReadOnlyList<string> AllNodes { get; init; } = [];
    public IReadOnlyList<string> AvailableNodes { get; init; } = [];
}
