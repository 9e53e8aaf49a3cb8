using System.Collections.Immutable;
using System.Globalization;
using Vigil.Config.Xml;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Control;

/// <summary>
/// The replicated state of the cluster: a CIB (configuration and status) plus bookkeeping. Immutable;
/// <see cref="Apply"/> returns the next state. Every node applies the same commands in the same
/// order and so holds the same state. Its persisted form is CIB XML (see <see cref="ToSnapshot"/>).
/// </summary>
public sealed partial record ClusterState
{
    /// <summary>How many request ids are remembered to make repeated proposals idempotent.</summary>
    public const int RememberedRequests = 4096;

    public Cib Cib { get; init; } = new() { Status = new ClusterStatus() };
    /// <summary>Number of commands applied (the configuration epoch grows with configuration changes).</summary>
    public long Version { get; init; }
    public ImmutableQueue<string> RecentRequests { get; init; } = [];
    public ImmutableHashSet<string> RecentRequestSet { get; init; } = ImmutableHashSet.Create<string>(StringComparer.Ordinal);

    public static ClusterState Empty { get; } = new();

    /// <summary>The node_state attribute that holds the boot id of the node's daemon.</summary>
    public const string BootAttribute = "vigil-boot";

    /// <summary>
    /// Whether a result from the daemon boot <paramref name="resultBoot"/> comes from another boot than the
    /// node's recorded one. Only the part before the dot counts: a member that ran alone adds ".N" to the
    /// same boot. Unknown on either side: not from another boot.
    /// </summary>
    public static bool FromEarlierBoot(string? resultBoot, string? recordedBoot) =>
        resultBoot is not null && recordedBoot is not null && BootStem(resultBoot) != BootStem(recordedBoot);

    /// <summary>A boot id without the ".N" a member adds each time it runs alone: the daemon process it names.</summary>
    public static string? BootStem(string? boot) => boot?.Split('.')[0];

    /// <summary>The boot id of the daemon the node last joined with, if known.</summary>
    public static string? BootOf(NodeState n) => n.Extra.FirstOrDefault(kv => kv.Key == BootAttribute).Value;

    /// <summary>
    /// The transient node attribute a daemon sets when it is asked to stop (Pacemaker's <c>shutdown</c>, the time
    /// of the request): the scheduler then moves or stops everything on that node.
    /// </summary>
    public const string ShutdownAttribute = "shutdown";

    /// <summary>Whether the node asked to shut down (its transient <see cref="ShutdownAttribute"/> is set and not 0).</summary>
    public static bool ShutdownRequested(NodeState n) => n.TransientAttributes.Get(ShutdownAttribute) is { Length: > 0 } v && v != "0";

    /// <summary>Whether the node is online, asked to shut down, and not yet recorded as done (expected down).</summary>
    public static bool ShutdownPending(NodeState n) => n.Crmd == "online" && n.Expected != "down" && ShutdownRequested(n);

    /// <summary>
    /// Whether the cluster recorded this daemon life of the node (<paramref name="boot"/>, the boot id it joined with) as
    /// done shutting down: expected down, still online. A record of its previous boot does not count: it stays in the state
    /// until the leader records the new boot, and a daemon that read it as its own left at once, unacknowledged (simulator).
    /// </summary>
    public static bool ShutdownRecorded(NodeState n, string boot) => n is { Expected: "down", Crmd: "online" } && BootOf(n) == boot;

    public Configuration Configuration => Cib.Configuration;
    public IReadOnlyList<NodeState> Nodes => Cib.Status?.Nodes ?? [];

    /// <summary>Applies one command. Invalid commands (bad XML, unknown node) change nothing but still count as applied.</summary>
    public ClusterState Apply(ClusterCommand command)
    {
        if (RecentRequestSet.Contains(command.RequestId)) return this with { Version = Version + 1 };
        var next = command switch
        {
            ConfigureCommand c => Configure(c),
            RecordOperationCommand r => RecordOperation(r),
            NodeMembershipCommand m => Membership(m),
            SetNodeAttributeCommand a => SetAttribute(a),
            CleanupCommand c => Cleanup(c),
            FenceResultCommand f => Fenced(f),
            ApiTokenCommand t => ApiToken(t),
            _ => this,
        };
        var queue = next.RecentRequests.Enqueue(command.RequestId);
        var set = next.RecentRequestSet.Add(command.RequestId);
        if (set.Count > RememberedRequests)
        {
            queue = queue.Dequeue(out var oldest);
            set = set.Remove(oldest);
        }
        return next with { Version = Version + 1, RecentRequests = queue, RecentRequestSet = set };
    }

    private ClusterState Configure(ConfigureCommand c)
    {
        var parsed = CibXmlReader.Read(c.ConfigurationXml, "configure");
        if (parsed.Value is null) return this; // validated before proposing; a bad one is ignored identically everywhere
        var epoch = long.TryParse(Cib.HeaderValue("epoch"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var e) ? e + 1 : 1;
        var header = new List<KeyValuePair<string, string>>
        {
            new("crm_feature_set", "3.16.2"), new("validate-with", "pacemaker-3.8"),
            new("epoch", epoch.ToString(CultureInfo.InvariantCulture)), new("num_updates", "0"), new("admin_epoch", "0"),
        };
        if (c.By is not null) header.Add(new("update-client", c.By));
        header.Add(new("cib-last-written", DateTimeOffset.FromUnixTimeSeconds(c.AtUnixSeconds).ToString("R", CultureInfo.InvariantCulture)));
        // Nodes are the cluster's to manage: ones that joined stay when a configuration without them is loaded.
        var config = parsed.Value.Configuration;
        var nodes = config.Nodes.ToList();
        foreach (var n in Configuration.Nodes)
            if (!nodes.Any(x => x.Uname == n.Uname)) nodes.Add(n);
        return this with { Cib = Cib with { Header = header, Configuration = config with { Nodes = nodes } } };
    }

    private NodeState NodeOrNew(string node) =>
        Nodes.FirstOrDefault(n => n.Id == node) ?? new NodeState(node) { Uname = node, HasLrm = true, LrmId = node };

    private ClusterState WithNode(NodeState updated)
    {
        var nodes = Nodes.ToList();
        var i = nodes.FindIndex(n => n.Id == updated.Id);
        if (i >= 0) nodes[i] = updated; else nodes.Add(updated);
        return this with { Cib = Cib with { Status = (Cib.Status ?? new ClusterStatus()) with { Nodes = nodes } } };
    }

    private ClusterState Membership(NodeMembershipCommand m)
    {
        var n = NodeOrNew(m.Node);
        // A node whose daemon restarted starts with a fresh executor: its old history is forgotten and
        // its resources are probed again, as Pacemaker does on join; it also loses its transient
        // attributes (fail counts), as with Pacemaker's attrd. A node that was only cut off (same boot
        // id) keeps its history: what it ran may still run, and forgetting it could start it twice.
        var recordedBoot = BootOf(n);
        bool recordedOnlineDown = n is { Crmd: "online", Expected: "down" };
        bool restarted = m.Online && m.Boot is not null && recordedBoot is not null && recordedBoot != m.Boot;
        bool sameBoot = m.Boot is not null && m.Boot == recordedBoot;
        if (m.Online && ((n.Crmd != "online" && !sameBoot) || restarted)) n = n with { Resources = [] };
        if (restarted) n = n with { TransientAttributes = [] };
        if (m.Online && m.Boot is not null) n = n with { Extra = [.. n.Extra.Where(kv => kv.Key != BootAttribute), new(BootAttribute, m.Boot)] };
        n = n with
        {
            InCcm = m.Online ? "true" : "false",
            Crmd = m.Online ? "online" : "offline",
            Join = m.Online ? "member" : "down",
            Expected = m.Expected ?? (m.Online ? "member" : n.Expected ?? "down"),
        };
        // A node that leaves loses its transient attributes, as with Pacemaker's attrd.
        if (!m.Online) n = n with { TransientAttributes = [] };
        // A node that leaves after it was recorded as cleanly shut down ran nothing any more: its history is erased, as
        // Pacemaker's controller erases a cleanly departed node's. A failure it reported just before leaving (a monitor
        // that found a resource stopped) would otherwise count as a resource to stop on an offline node, which only
        // fencing could do (simulator --clean-stops, seed 735).
        if (!m.Online && n.Expected == "down" && recordedOnlineDown) n = n with { Resources = [] };
        var next = WithNode(n);
        if (next.Configuration.Nodes.Any(x => x.Uname == m.Node)) return next;
        var nodes = next.Configuration.Nodes.Append(new Node(m.Node, m.Node)).ToList();
        return next with { Cib = next.Cib with { Configuration = next.Configuration with { Nodes = nodes } } };
    }

    private ClusterState SetAttribute(SetNodeAttributeCommand a)
    {
        if (a.Transient)
        {
            var n = NodeOrNew(a.Node);
            var sets = SetPair(n.TransientAttributes, $"status-{a.Node}", a.Name, a.Value);
            return WithNode(n with { TransientId = n.TransientId ?? a.Node, TransientAttributes = sets });
        }
        var nodes = Configuration.Nodes.ToList();
        var i = nodes.FindIndex(x => x.Uname == a.Node);
        if (i < 0)
        {
            if (a.Value is null) return this;
            nodes.Add(new Node(a.Node, a.Node));
            i = nodes.Count - 1;
        }
        nodes[i] = nodes[i] with { InstanceAttributes = SetPair(nodes[i].InstanceAttributes, $"nodes-{a.Node}", a.Name, a.Value) };
        return this with { Cib = Cib with { Configuration = Configuration with { Nodes = nodes } } };
    }

    private static IReadOnlyList<AttributeSet> SetPair(IReadOnlyList<AttributeSet> sets, string setId, string name, string? value)
    {
        var list = sets.ToList();
        var set = list.FirstOrDefault(s => s.Rule is null) ?? new AttributeSet(AttributeSetKind.Instance, setId);
        var pairs = set.Pairs.Where(p => p.Name != name).ToList();
        if (value is not null) pairs.Add(new NvPair($"{set.Id}-{name}", name, value));
        var updated = set with { Pairs = pairs };
        var i = list.IndexOf(set);
        if (i >= 0) list[i] = updated; else list.Insert(0, updated);
        return list;
    }

    private ClusterState RecordOperation(RecordOperationCommand r)
    {
        var n = NodeOrNew(r.Node);
        if (FromEarlierBoot(r.Boot, BootOf(n))) return this;
        // A late report of the boot that shut down cleanly and left: that boot runs nothing any more (see Membership).
        if (n is { Crmd: not "online", Expected: "down" } && r.Boot is not null && BootStem(r.Boot) == BootStem(BootOf(n))) return this;
        var resources = n.Resources.ToList();
        var ri = resources.FindIndex(x => x.Id == r.Resource);
        var lrm = ri >= 0 ? resources[ri] : new LrmResource(r.Resource) { Class = r.Class, Provider = r.Provider, Type = r.Type };
        var ops = lrm.Ops.ToList();
        var interval = r.IntervalMs.ToString(CultureInfo.InvariantCulture);
        // A result older than the one recorded (a late report, e.g. of a stop made without quorum,
        // arriving after the resource was started again) must not overwrite it: call ids grow within
        // one executor's life, and a restart clears the node's history. Found by the simulator.
        var slot = r.IntervalMs > 0 ? $"{r.Resource}_{r.Operation}_{interval}" : $"{r.Resource}_last_0";
        if (r.CallId > 0 && r.Operation != "cancel" && ops.FirstOrDefault(o => o.Id == slot) is { } newer && newer.CallId > r.CallId) return this;
        var key = $"{r.Resource}_{r.Operation}_{interval}";
        var failed = r.OpStatus != 0 || r.Rc != r.TargetRc;
        var now = r.AtUnixSeconds.ToString(CultureInfo.InvariantCulture);
        List<KeyValuePair<string, string>> Attrs(string id) =>
        [
            new("operation_key", key), new("operation", r.Operation), new("crm-debug-origin", "vigil"),
            new("transition-key", $"0:0:{r.TargetRc}:vigil-{r.Term}"),
            new("transition-magic", $"{r.OpStatus}:{r.Rc};0:0:{r.TargetRc}:vigil-{r.Term}"),
            new("exit-reason", r.ExitReason ?? ""), new("on_node", r.Node),
            new("call-id", r.CallId.ToString(CultureInfo.InvariantCulture)), new("rc-code", r.Rc.ToString(CultureInfo.InvariantCulture)),
            new("op-status", r.OpStatus.ToString(CultureInfo.InvariantCulture)), new("interval", interval),
            new("last-rc-change", now), new("last-run", now), new("exec-time", r.ExecMs.ToString(CultureInfo.InvariantCulture)), new("queue-time", "0"),
            .. r.OpDigest is null || r.Operation == "cancel" ? [] : new KeyValuePair<string, string>[] { new("op-digest", r.OpDigest) },
        ];
        void Put(string id)
        {
            var op = new LrmOp(id) { Attributes = Attrs(id) };
            var i = ops.FindIndex(o => o.Id == id);
            if (i >= 0) ops[i] = op; else ops.Add(op);
        }
        if (r.IntervalMs > 0)
        {
            if (r.Operation == "cancel") ops.RemoveAll(o => o.Id == $"{r.Resource}_monitor_{interval}");
            else Put($"{r.Resource}_{r.Operation}_{interval}");
        }
        else
        {
            Put($"{r.Resource}_last_0");
            // Role changes cancel the recurring monitors, and Pacemaker deletes a cancelled monitor's
            // history entry: a stale "running" monitor must not outlive the stop.
            // A start, or a probe that finds it not running, also ends what earlier recurring monitors said:
            // their stop may never have been recorded (a leader change lost it), and a promoted monitor's
            // rc 8 left behind made the resource look promoted after a restart (found by the simulator with
            // promotable clones, seed 257).
            if (r.Operation is "stop" or "start" or "promote" or "demote" or "migrate_to" or "migrate_from" || (r.Operation == "monitor" && r.Rc == 7))
                ops.RemoveAll(o => o.Id.StartsWith($"{r.Resource}_monitor_", StringComparison.Ordinal) && o.IntervalMs > 0);
        }
        if (failed && r.Operation != "cancel") Put($"{r.Resource}_last_failure_0");
        resources = [.. resources];
        var updated = lrm with { Ops = ops };
        if (ri >= 0) resources[ri] = updated; else resources.Add(updated);
        n = n with { Resources = resources, HasLrm = true, LrmId = n.LrmId ?? r.Node };
        // Fail counts as Pacemaker keeps them: fail-count-<rsc>#<op>_<interval> and last-failure-…
        if (failed && r.Operation is not ("cancel" or "notify") && !(r.Operation == "monitor" && r.IntervalMs == 0))
        {
            var name = $"{r.Resource}#{r.Operation}_{interval}";
            var current = n.TransientAttributes.Get($"fail-count-{name}");
            var count = Score.TryParse(current, out var s) ? s + new Score(1) : new Score(1);
            // A failed start is fatal by default (start-failure-is-fatal): the count goes to INFINITY.
            if (r.Operation == "start" && !Truth.IsFalse(Configuration.Property("start-failure-is-fatal"))) count = Score.Infinity;
            var sets = SetPair(n.TransientAttributes, $"status-{r.Node}", $"fail-count-{name}", count.ToString());
            sets = SetPair(sets, $"status-{r.Node}", $"last-failure-{name}", now);
            n = n with { TransientId = n.TransientId ?? r.Node, TransientAttributes = sets };
        }
        return WithNode(n);
    }

    private ClusterState Cleanup(CleanupCommand c)
    {
        var nodes = Nodes.ToList();
        for (int i = 0; i < nodes.Count; i++)
        {
            var n = nodes[i];
            if (c.Node is not null && n.Id != c.Node) continue;
            bool Matches(string rsc) => c.Resource is null || rsc == c.Resource || rsc.StartsWith(c.Resource + ":", StringComparison.Ordinal);
            var sets = n.TransientAttributes.Select(s => s with
            {
                Pairs = s.Pairs.Where(p => !((p.Name.StartsWith("fail-count-", StringComparison.Ordinal) || p.Name.StartsWith("last-failure-", StringComparison.Ordinal))
                    && Matches(p.Name[(p.Name.IndexOf('-', p.Name.IndexOf('-') + 1) + 1)..].Split('#')[0]))).ToList(),
            }).ToList();
            var resources = n.Resources.Select(r => Matches(r.Id) ? r with { Ops = r.Ops.Where(o => !o.Id.EndsWith("_last_failure_0", StringComparison.Ordinal)).ToList() } : r).ToList();
            nodes[i] = n with { TransientAttributes = sets, Resources = resources };
        }
        return this with { Cib = Cib with { Status = (Cib.Status ?? new ClusterStatus()) with { Nodes = nodes } } };
    }

    // ----- persistence ----------------------------------------------------------------------------

    /// <summary>The snapshot format: the CIB as XML, with the version in a comment-free header attribute.</summary>
    public string ToSnapshot()
    {
        var header = Cib.Header.Where(kv => !IsOwnHeader(kv.Key)).Append(new("vigil-version", Version.ToString(CultureInfo.InvariantCulture))).ToList();
        if (!FencingHistory.IsEmpty) header.Add(new(FencingHeader, FencingHistoryJson()));
        if (!ApiTokens.IsEmpty) header.Add(new(ApiTokensHeader, ApiTokensJson()));
        return CibXmlWriter.Write(Cib with { Header = header });
    }

    public static ClusterState FromSnapshot(string xml)
    {
        var parsed = CibXmlReader.Read(xml, "snapshot");
        if (parsed.Value is null)
            throw new InvalidDataException("the cluster state snapshot is not readable: " + string.Join("; ", parsed.Diagnostics.Where(d => d.Severity == Severity.Error)));
        var version = long.TryParse(parsed.Value.HeaderValue("vigil-version"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
        var cib = parsed.Value with { Header = parsed.Value.Header.Where(kv => !IsOwnHeader(kv.Key)).ToList(), Status = parsed.Value.Status ?? new ClusterStatus() };
        return new ClusterState
        {
            Cib = cib, Version = version,
            FencingHistory = ReadFencingHistory(parsed.Value.HeaderValue(FencingHeader)),
            ApiTokens = ReadApiTokens(parsed.Value.HeaderValue(ApiTokensHeader)),
        };
    }

    /// <summary>The &lt;cib&gt; attributes the snapshot adds for its own records (not part of the CIB).</summary>
    private static bool IsOwnHeader(string key) => key is "vigil-version" or FencingHeader or ApiTokensHeader;
}
