using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>
/// One scheduler run. The phases follow Pacemaker's: unpack nodes, resources and status; apply
/// location constraints and stickiness; assign resources to nodes (colocations, groups, clones,
/// promotion); create actions and orderings; then derive the summary and final placement.
/// Split by aspect into partial files (Engine.Unpack, Engine.Assign, Engine.Clones, Engine.Actions, …).
/// </summary>
internal sealed partial class Engine
{
    private readonly Cib _cib;
    private readonly Configuration _config;
    private readonly DateTimeOffset _now;
    private readonly string? _explain;
    private readonly List<string> _explanation = [];

    private readonly List<NodeInfo> _nodes = [];
    private readonly Dictionary<string, NodeInfo> _nodeByName = new(StringComparer.Ordinal);
    private readonly List<Rsc> _top = [];
    private readonly Dictionary<string, Rsc> _rscById = new(StringComparer.Ordinal);
    private readonly List<Rsc> _primitives = [];
    private readonly List<Coloc> _colocs = [];
    private readonly List<OrderSpec> _orders = [];
    private readonly Dictionary<string, Rule> _rulesById = new(StringComparer.Ordinal);

    // cluster options
    private bool _stonithEnabled = true;
    private bool _symmetric = true;
    private bool _haveQuorum = true;
    private string _noQuorumPolicy = "stop";
    private bool _startupFencing = true;
    private bool _stopOrphans = true;
    private bool _maintenanceMode;
    private bool _haveFencingDevice;
    private string _placementStrategy = "default";
    private Dictionary<string, string> _rscDefaults = new(StringComparer.Ordinal);
    private Dictionary<string, string> _opDefaults = new(StringComparer.Ordinal);

    public Engine(Cib cib, DateTimeOffset now, string? explain)
    {
        _cib = cib;
        _config = cib.Configuration;
        _now = now;
        _explain = explain;
    }

    public Transition Run(Action<string>? phaseDone = null)
    {
        UnpackOptions();
        UnpackNodes();
        UnpackResources();
        phaseDone?.Invoke("unpack resources");
        UnpackConstraints();
        phaseDone?.Invoke("unpack constraints");
        UnpackStatus();
        phaseDone?.Invoke("unpack status");
        CheckDefinitions();
        ApplyLocations();
        ApplyStickinessAndThresholds();
        phaseDone?.Invoke("locations, stickiness");
        Assign();
        phaseDone?.Invoke("assign");
        CreateActions();
        phaseDone?.Invoke("actions");
        var transition = BuildTransition();
        phaseDone?.Invoke("transition");
        return transition;
    }

    private int NodeCount => _nodes.Count;

    private void UnpackOptions()
    {
        var p = Flatten(_config.Properties);
        string? Get(string n) => p.TryGetValue(n, out var v) ? v : null;
        _stonithEnabled = !Truth.IsFalse(Get("stonith-enabled"));
        _symmetric = !Truth.IsFalse(Get("symmetric-cluster"));
        _noQuorumPolicy = Get("no-quorum-policy")?.ToLowerInvariant() ?? "stop";
        _startupFencing = !Truth.IsFalse(Get("startup-fencing"));
        // Watchdog (lease) self-fencing counts as a way to fence even without a fence device.
        if (Duration.Positive(Get("stonith-watchdog-timeout")) is not null) _haveFencingDevice = true;
        _stopOrphans = !Truth.IsFalse(Get("stop-orphan-resources"));
        _maintenanceMode = Truth.IsTrue(Get("maintenance-mode"));
        _placementStrategy = Get("placement-strategy")?.ToLowerInvariant() ?? "default";
        var hq = _cib.HeaderValue("have-quorum");
        _haveQuorum = hq is null || Truth.IsTrue(hq);
        _rscDefaults = Flatten(_config.ResourceDefaults);
        _opDefaults = Flatten(_config.OperationDefaults);
        // Legacy cluster-wide defaults still honoured by Pacemaker 2.1 when rsc_defaults lacks them.
        if (Get("default-resource-stickiness") is { } drs) _rscDefaults.TryAdd("resource-stickiness", drs);
        if (Get("is-managed-default") is { } imd) _rscDefaults.TryAdd("is-managed", imd);
        if (Get("default-migration-threshold") is { } dmt) _rscDefaults.TryAdd("migration-threshold", dmt);
        if (Get("default-failure-timeout") is { } dft) _rscDefaults.TryAdd("failure-timeout", dft);
    }

    /// <summary>Attribute sets of one kind merged: higher score first, first value wins; rules evaluated without a node.</summary>
    private Dictionary<string, string> Flatten(IReadOnlyList<AttributeSet> sets, Func<string, string?>? attr = null)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        // One set or none (nearly every resource) needs no sort: this runs for each resource and kind of set.
        IEnumerable<AttributeSet> ordered = sets.Count <= 1 ? sets : sets.Select((s, i) => (s, i))
            .OrderByDescending(t => t.s.Score?.Value ?? 0).ThenBy(t => t.i).Select(t => t.s);
        foreach (var s in ordered)
        {
            if (s.Rule is not null && !Rules.Matches(s.Rule, attr ?? (_ => null), _now, _rulesById)) continue;
            foreach (var pair in s.Pairs)
                if (pair.Value is not null) result.TryAdd(pair.Name, pair.Value);
        }
        return result;
    }

    private bool CanFence(NodeInfo? node)
    {
        if (!_stonithEnabled || !_haveFencingDevice) return false;
        if (_haveQuorum || _noQuorumPolicy == "ignore") return true;
        return node is not null && node.Online;
    }

    private static int ToInt(string? s, int fallback)
    {
        if (s is null) return fallback;
        return Score.TryParse(s, out var v) ? v.Value : fallback;
    }
}
