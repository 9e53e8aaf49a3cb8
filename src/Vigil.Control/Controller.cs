using Vigil.Core;
using Vigil.Core.Model;
using Vigil.Scheduler;

namespace Vigil.Control;

/// <summary>An operation resolved from the configuration: everything an executor needs to run it.</summary>
public sealed record ActionRequest(PlannedAction Action, long Term, string Class, string? Provider, string Type)
{
    public long TimeoutMs { get; init; } = 20_000;
    public int? TargetRc { get; init; }
    public Dictionary<string, string> Parameters { get; init; } = [];
    public Dictionary<string, string> Meta { get; init; } = [];
}

/// <summary>A node the scheduler wants fenced before anything it ran may run elsewhere.</summary>
public sealed record FenceRequest(string Target, string Action, long Term)
{
    /// <summary>The in-flight key: one fencing of a node at a time.</summary>
    public string Key => $"fence|{Target}";
}

/// <summary>A membership change the leader proposes, with the line to log.</summary>
public sealed record MembershipChange(NodeMembershipCommand Command, string Message);

/// <summary>What one planning round decided: operations to dispatch and nodes to fence.</summary>
public sealed record ControllerPlan(IReadOnlyList<ActionRequest> Actions, IReadOnlyList<FenceRequest> Fencing)
{
    public static ControllerPlan None { get; } = new([], []);
}

/// <summary>
/// The DC's decisions as a clock-free state machine (pure): the shell feeds it the replicated state,
/// which members it reaches, what is in flight and "now", and carries out what it returns. The real
/// daemon and the simulator drive the same code.
/// <para>A fence action of the transition blocks everything ordered after it until the shell records
/// the fencing as confirmed (<see cref="NodeFencedCommand"/>): nothing a lost node ran starts
/// elsewhere before that.</para>
/// </summary>
public sealed class Controller
{
    private readonly IReadOnlyList<string> _members;
    private readonly string _self;
    private readonly TimeSpan _memberDownAfter;
    private readonly Dictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    private long? _ledTerm;
    private long _plannedVersion = -1;
    private DateTimeOffset _plannedAt = DateTimeOffset.MinValue;

    /// <summary>Time-based rules (failure-timeout, date rules) need a plan now and then even without changes.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    public Controller(IReadOnlyList<string> members, string self, TimeSpan memberDownAfter)
    {
        _members = members;
        _self = self;
        _memberDownAfter = memberDownAfter;
    }

    /// <summary>The term this controller leads in, or null while it does not lead.</summary>
    public long? LedTerm => _ledTerm;

    /// <summary>This node does not lead (any more): the next leadership starts afresh.</summary>
    public void Follow() => _ledTerm = null;

    /// <summary>
    /// Called on every round while leading. Returns true when leadership is new in this term: every
    /// member then gets a grace period before it is judged unreachable, and the next round plans.
    /// </summary>
    public bool Lead(long term, DateTimeOffset now)
    {
        if (_ledTerm == term) return false;
        _ledTerm = term;
        foreach (var m in _members) _lastSeen[m] = now;
        _plannedVersion = -1;
        return true;
    }

    /// <summary>Members whose reachability disagrees with the recorded membership for longer than the loss threshold.</summary>
    public IReadOnlyList<MembershipChange> ReconcileMembership(ClusterState state, long term, Func<string, bool> reachable, DateTimeOffset now)
    {
        var result = new List<MembershipChange>();
        foreach (var name in _members)
        {
            bool reached = name == _self || reachable(name);
            if (reached) _lastSeen[name] = now;
            bool online = reached || now - _lastSeen.GetValueOrDefault(name, now) < _memberDownAfter;
            var recorded = state.Nodes.FirstOrDefault(n => n.Uname == name);
            bool recordedOnline = recorded?.Crmd == "online";
            if (online == recordedOnline) continue;
            if (!online && recorded is null) continue;
            var message = online ? $"node {name} joined" : $"node {name} is lost (unreachable for {(long)_memberDownAfter.TotalMilliseconds} ms)";
            result.Add(new MembershipChange(new NodeMembershipCommand(name, online) { RequestId = $"membership:{name}:{online}:{term}:{state.Version}" }, message));
        }
        return result;
    }

    /// <summary>Plans when the state changed, a re-plan was asked for, or the heartbeat is due; otherwise null.</summary>
    public ControllerPlan? PlanIfDue(ClusterState state, long term, IReadOnlySet<string> inFlight, bool replanRequested, DateTimeOffset now)
    {
        if (state.Version == _plannedVersion && !replanRequested && now - _plannedAt <= Heartbeat) return null;
        _plannedVersion = state.Version;
        _plannedAt = now;
        return Plan(state, term, inFlight, now);
    }

    /// <summary>
    /// Runs the scheduler and picks what may run now: probes first (nothing starts while an online
    /// node has not told what it runs), then every action whose predecessors are done, then missing
    /// recurring monitors once the transition has nothing ready.
    /// </summary>
    public static ControllerPlan Plan(ClusterState state, long term, IReadOnlySet<string> inFlight, DateTimeOffset now)
    {
        if (state.Configuration.Resources.Count == 0) return ControllerPlan.None;
        var transition = Vigil.Scheduler.Scheduler.Run(state.Cib, now);
        var actions = transition.Actions.Select(a =>
        {
            if (a.Kind == ActionKind.Fence && a.Node is not null)
                return (a.Id, true, (PlannedAction?)new PlannedAction(a.Id, a.Detail ?? "reboot", "", a.Node, 0) { IsFence = true });
            bool executable = a.Kind == ActionKind.Resource && a.Resource is not null && a.Node is not null && a.Task is not ("notify" or "cancel");
            PlannedAction? p = executable ? new PlannedAction(a.Id, a.Task, a.Resource!, a.Node!, a.IntervalMs) : null;
            return (a.Id, executable, p);
        }).ToList();
        var probes = MissingProbes(state);
        List<PlannedAction> ready;
        if (probes.Count > 0) ready = probes;
        else
        {
            ready = Dispatch.Ready(actions, transition.Orderings.Select(o => (o.Before, o.After)).ToList(), inFlight).ToList();
            if (actions.Count == 0 || ready.Count == 0) ready.AddRange(MissingMonitors(state).Where(a => !inFlight.Contains(a.Key)));
        }
        var requests = new List<ActionRequest>();
        var fencing = new List<FenceRequest>();
        foreach (var a in ready)
        {
            if (a.IsFence) fencing.Add(new FenceRequest(a.Node, a.Task, term));
            else if (BuildRequest(a, state, term) is { } r) requests.Add(r);
        }
        return new ControllerPlan(requests, fencing);
    }

    /// <summary>Probes (monitor, interval 0) for every primitive an online node has no history of.</summary>
    public static List<PlannedAction> MissingProbes(ClusterState state)
    {
        var result = new List<PlannedAction>();
        var primitives = state.Configuration.AllResources().OfType<Primitive>().Where(p => !p.IsFencingDevice).ToList();
        foreach (var n in state.Nodes.Where(n => n.Crmd == "online"))
            foreach (var p in primitives)
                if (!n.Resources.Any(r => r.Id == p.Id || r.Id.StartsWith(p.Id + ":", StringComparison.Ordinal)))
                    result.Add(new PlannedAction(-1, "monitor", p.Id, n.Uname ?? n.Id, 0));
        return result;
    }

    /// <summary>
    /// Recurring monitors defined for an active resource but not running on its node. The scheduler
    /// does not plan recurring monitors yet; until it does, the controller starts them once the
    /// transition is done (same action keys, so nothing is started twice).
    /// </summary>
    public static List<PlannedAction> MissingMonitors(ClusterState state)
    {
        var result = new List<PlannedAction>();
        var active = Activity.Active(state);
        foreach (var p in state.Configuration.AllResources().OfType<Primitive>())
        {
            if (!active.TryGetValue(p.Id, out var where)) continue;
            foreach (var (node, role) in where)
            {
                var history = state.Nodes.FirstOrDefault(n => n.Uname == node)?.Resources.FirstOrDefault(r => r.Id == p.Id);
                var last = history?.Ops.FirstOrDefault(o => o.Id.EndsWith("_last_0", StringComparison.Ordinal));
                foreach (var op in p.Operations.Where(o => o.Name == "monitor" && o.IntervalValue > TimeSpan.Zero && o.Enabled))
                {
                    var opRole = op.Role is { } r && Roles.TryParse(r, out var parsed) ? parsed : Role.Started;
                    if (opRole is not Role.Started && opRole != role) continue;
                    var ms = (long)op.IntervalValue.TotalMilliseconds;
                    var rec = history?.Ops.FirstOrDefault(o => o.Id == $"{p.Id}_monitor_{ms}");
                    if (rec is not null && last is not null && rec.CallId > last.CallId) continue;
                    result.Add(new PlannedAction(-1, "monitor", p.Id, node, ms));
                }
            }
        }
        return result;
    }

    /// <summary>Resolves an action's agent, parameters, meta attributes, timeout and expected result from the configuration.</summary>
    public static ActionRequest? BuildRequest(PlannedAction a, ClusterState state, long term)
    {
        var id = a.Resource.Contains(':') ? a.Resource[..a.Resource.IndexOf(':')] : a.Resource;
        var config = state.Configuration;
        var prim = config.AllResources().OfType<Primitive>().FirstOrDefault(p => p.Id == id);
        if (prim is null) return null;
        var op = prim.Operations.FirstOrDefault(o => o.Name == a.Task && (long)o.IntervalValue.TotalMilliseconds == a.IntervalMs);
        var timeout = op?.Timeout ?? config.OperationDefaults.Get("timeout");
        var timeoutMs = Duration.TryParse(timeout, out var t) ? (long)t.TotalMilliseconds : 20_000;
        int? target = a.Task == "monitor" && a.IntervalMs == 0 ? 7
            : a.Task == "monitor" && op?.Role is { } role && Roles.TryParse(role, out var r) && r == Role.Promoted ? 8 : 0;
        var meta = prim.MetaAttributes.Flatten();
        foreach (var s in op?.MetaAttributes ?? []) foreach (var p in s.Pairs) if (p.Value is not null) meta[p.Name] = p.Value;
        meta["timeout"] = timeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new ActionRequest(a, term, prim.Class, prim.Provider, prim.Type)
        {
            TimeoutMs = timeoutMs, TargetRc = target, Parameters = prim.InstanceAttributes.Flatten(), Meta = meta,
        };
    }

    /// <summary>
    /// The executor's fencing-token rule: an action is admitted only when its term is not older than
    /// the newest term the node has seen (from earlier actions or from consensus). Returns the new floor.
    /// </summary>
    public static bool AdmitTerm(long seen, long consensusTerm, long requestTerm, out long newSeen)
    {
        newSeen = Math.Max(seen, requestTerm);
        return requestTerm >= Math.Max(seen, consensusTerm);
    }
}
