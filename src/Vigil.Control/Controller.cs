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
    /// <summary>The <c>op-digest</c> of <see cref="Parameters"/> as the scheduler computes it; recorded with the result.</summary>
    public string? OpDigest { get; init; }
}

/// <summary>A node the scheduler wants fenced before anything it ran may run elsewhere.</summary>
public sealed record FenceRequest(string Target, string Action, long Term)
{
    /// <summary>The transition's action this fencing carries out (report it with <see cref="Controller.Recorded"/> once confirmed).</summary>
    public PlannedAction? Planned { get; init; }

    /// <summary>The in-flight key: one fencing of a node at a time.</summary>
    public string Key => $"#fence|{Target}";
}

/// <summary>
/// What the other members said of a member the leader does not reach: when one of them last reached it
/// (the answer's arrival), and when the latest probe that found nobody reaching it was asked.
/// </summary>
public sealed record IndirectContact(DateTimeOffset? ReachedAt, DateTimeOffset? UnreachedAskedAt);

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
/// the fencing as confirmed (<see cref="FenceResultCommand"/>): nothing a lost node ran starts
/// elsewhere before that.</para>
/// </summary>
public sealed class Controller
{
    private readonly IReadOnlyList<string> _members;
    private readonly string _self;
    private readonly TimeSpan _memberDownAfter;
    private readonly Dictionary<string, DateTimeOffset> _lastSeen = new(StringComparer.Ordinal);
    /// <summary>How long a member was already silent when this controller started leading (the former leader): counted towards its loss.</summary>
    private readonly Dictionary<string, TimeSpan> _silentBefore = new(StringComparer.Ordinal);
    /// <summary>The former leader whose lease may count from before this leadership began (see <see cref="Lead"/>), until it is seen.</summary>
    private readonly HashSet<string> _formerLeaderEarly = new(StringComparer.Ordinal);
    /// <summary>Real sightings of a member in this term (directly, or by another member), not the stamps of <see cref="Lead"/> or <see cref="SeenAll"/>.</summary>
    private readonly Dictionary<string, DateTimeOffset> _sighted = new(StringComparer.Ordinal);
    /// <summary>When the consensus layer saw a member stop answering this leader, after a sighting in this term (see <see cref="LeaseOrigin"/>).</summary>
    private readonly Dictionary<string, DateTimeOffset> _contactEnded = new(StringComparer.Ordinal);
    private DateTimeOffset _ledSince = DateTimeOffset.MinValue;
    private long? _ledTerm;
    private long _plannedVersion = -1;
    private DateTimeOffset _plannedAt = DateTimeOffset.MinValue;
    /// <summary>resource|node pairs whose last action got no answer: probed again before anything else is done to them.</summary>
    private readonly HashSet<string> _uncertain = new(StringComparer.Ordinal);

    /// <summary>Time-based rules (failure-timeout, date rules) need a plan now and then even without changes.</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(10);

    /// <param name="leaseBeforeContactEnded">How much earlier than the moment the consensus layer saw a member stop answering
    /// this leader a lost member's lease may be counted (<see cref="LeaseOrigin"/>; zero: not at all).</param>
    /// <param name="leaseBeforeElection">How much earlier than this leadership's start the lease of the leader it directly
    /// succeeded may be counted (<see cref="LeaseOrigin"/>; zero: not at all).</param>
    public Controller(IReadOnlyList<string> members, string self, TimeSpan memberDownAfter, TimeSpan leaseBeforeContactEnded = default,
        TimeSpan leaseBeforeElection = default)
    {
        _members = members;
        _self = self;
        _memberDownAfter = memberDownAfter;
        _leaseBeforeContactEnded = leaseBeforeContactEnded;
        _leaseBeforeElection = leaseBeforeElection;
    }

    private readonly TimeSpan _leaseBeforeContactEnded;
    private readonly TimeSpan _leaseBeforeElection;

    /// <summary>When this leader last saw <paramref name="node"/> reachable (its leadership start at the earliest), if ever.</summary>
    public DateTimeOffset? LastSeen(string node) => _lastSeen.TryGetValue(node, out var t) ? t : null;

    /// <summary>
    /// Where the majority counts <paramref name="node"/>'s lease from when it is lost without a fence device: its last
    /// sighting, or for the leader this controller directly succeeded and has not seen since, that much earlier as
    /// <see cref="Lead"/> allows. Null if never seen.
    /// </summary>
    /// <remarks>
    /// A member this leader sighted in its term and then lost: its last contact with a majority was this leader's
    /// heartbeat, which it got before the consensus layer saw it stop answering (the request after it failed). It
    /// noticed the silence at most the upper election timeout after that heartbeat, so its own deadline falls before
    /// that moment plus the lease minus (its skew - the upper election timeout): the lease may count from that much
    /// (less a margin) before the moment it stopped answering (the daemon's NodeDaemon.LeaseBeforeContactEnded). Each
    /// bound holds on its own, so the earlier one is used.
    /// </remarks>
    public DateTimeOffset? LeaseOrigin(string node) => LeaseCount(node)?.From;

    /// <summary><see cref="LeaseOrigin"/> with the reason for it, in words for the log (what the count starts from).</summary>
    public (DateTimeOffset From, string Basis)? LeaseCount(string node)
    {
        if (!_lastSeen.TryGetValue(node, out var t)) return null;
        (DateTimeOffset From, string Basis) count = _formerLeaderEarly.Contains(node)
            ? (t - _leaseBeforeElection, $"{_leaseBeforeElection.TotalMilliseconds:F0} ms before this leader's election ({node} led the term before; its own deadline falls later than that plus the lease)")
            : (t, "when this leader last saw it");
        if (_leaseBeforeContactEnded > TimeSpan.Zero && _contactEnded.TryGetValue(node, out var ended) && ended - _leaseBeforeContactEnded < count.From)
            count = (ended - _leaseBeforeContactEnded, $"{_leaseBeforeContactEnded.TotalMilliseconds:F0} ms before it stopped answering this leader's consensus requests (its own deadline falls later than that plus the lease)");
        return count;
    }

    /// <summary>The term this controller leads in, or null while it does not lead.</summary>
    public long? LedTerm => _ledTerm;

    /// <summary>This node does not lead (any more): the next leadership starts afresh.</summary>
    public void Follow()
    {
        _ledTerm = null;
        _uncertain.Clear();
    }

    /// <summary>
    /// A dispatched action got no answer (lost message, dead connection, timeout): it may or may not
    /// have run. The resource is probed on that node before anything else is done to it.
    /// </summary>
    public void Unanswered(PlannedAction a)
    {
        if (!a.IsFence) _uncertain.Add($"{a.Resource}|{a.Node}");
    }



    /// <summary>
    /// Called on every round while leading. Returns true when leadership is new in this term: every
    /// member then gets a grace period before it is judged unreachable, and the next round plans.
    /// </summary>
    /// <param name="formerLeader">The leader this node followed before, if it knows one: an election means
    /// the voters had not heard from it for at least <paramref name="formerLeaderSilent"/> (the lower election
    /// timeout), so judging it lost starts that much earlier (it still rejoins the moment it answers).</param>
    /// <param name="formerLeaderTerm">The term <paramref name="formerLeader"/> led in (0: unknown). When it is the term just
    /// before this one, nobody led in between, and the former leader's last contact with a majority is bounded by this
    /// election: its lease may count from the constructor's allowance before now (<see cref="LeaseOrigin"/>; the daemon
    /// derives it from the consensus layer's leader lease, its voters' leader stickiness and the lost node's own skew,
    /// see NodeDaemon.LeaseBeforeElection). In any other case (a term in between, an unknown term) the lease counts
    /// from now: another leader may have been in contact with it.</param>
    public bool Lead(long term, DateTimeOffset now, string? formerLeader = null, TimeSpan formerLeaderSilent = default, long formerLeaderTerm = 0)
    {
        if (_ledTerm == term) return false;
        _ledTerm = term;
        foreach (var m in _members) _lastSeen[m] = now;
        _ledSince = now;
        _silentBefore.Clear();
        _formerLeaderEarly.Clear();
        _sighted.Clear();
        _contactEnded.Clear();
        if (formerLeader is not null && formerLeader != _self && _members.Contains(formerLeader))
        {
            if (formerLeaderSilent > TimeSpan.Zero) _silentBefore[formerLeader] = formerLeaderSilent;
            if (formerLeaderTerm > 0 && formerLeaderTerm + 1 == term && _leaseBeforeElection > TimeSpan.Zero)
                _formerLeaderEarly.Add(formerLeader);
        }
        _plannedVersion = -1;
        _uncertain.Clear();
        _graph = null;
        return true;
    }

    /// <summary>Members whose reachability disagrees with the recorded membership for longer than the loss threshold.</summary>
    /// <param name="boot">A reachable member's boot id when the shell knows it (null otherwise): a changed one is recorded as a restart.</param>
    /// <param name="indirect">What the other members said of a member this leader does not reach (indirect
    /// probes; null when no other member can be asked). A leader that loses contact with a member may be the
    /// one at fault (a lossy link of its own, a cut between just the two of them) while the member still runs
    /// its resources in contact with the majority: judging it lost then starts a second copy without fencing
    /// (found by the testbed's fault campaign: 30 % packet loss on the leader). So a recorded-online member
    /// counts as seen when another member reached it, and it is judged lost only once a probe asked after it
    /// was last seen found nobody reaching it. This only keeps a member online: a lost member rejoins by
    /// answering this leader itself (with its boot id). Seeing it later is also the safe side of the lease
    /// (<see cref="LastSeen"/>: the leader waits longer).</param>
    /// <param name="contactEnded">When the consensus layer saw an unreached member stop answering (null: unknown). Used for
    /// its lease (<see cref="LeaseOrigin"/>) only when this leader sighted it since its leadership began plus the loss
    /// threshold (a status older than the term is corrected by then), and nobody saw it after that moment.</param>
    public IReadOnlyList<MembershipChange> ReconcileMembership(ClusterState state, long term, Func<string, bool> reachable, DateTimeOffset now,
        Func<string, string?>? boot = null, Func<string, IndirectContact?>? indirect = null, Func<string, DateTimeOffset?>? contactEnded = null)
    {
        var result = new List<MembershipChange>();
        foreach (var name in _members)
        {
            bool reached = name == _self || reachable(name);
            if (reached) Seen(name, now, sighting: true);
            else if (contactEnded?.Invoke(name) is { } ended && _sighted.TryGetValue(name, out var sighted) &&
                     sighted >= _ledSince + _memberDownAfter && sighted <= ended)
                _contactEnded[name] = ended;
            var recorded = state.Nodes.FirstOrDefault(n => n.Uname == name);
            bool recordedOnline = recorded?.Crmd == "online";
            var others = reached || !recordedOnline ? null : indirect?.Invoke(name);
            if (others?.ReachedAt is { } seenByOther && seenByOther > _lastSeen.GetValueOrDefault(name, DateTimeOffset.MinValue))
            {
                Seen(name, seenByOther > now ? now : seenByOther, sighting: true);
            }
            // The others have not answered yet since this leader last saw it: wait for them.
            bool othersPending = others is not null && !(others.UnreachedAskedAt >= _lastSeen.GetValueOrDefault(name, now));
            // The grace period only delays judging a member lost; a member recorded as lost comes back
            // only when it is really reachable (a new leader must not revive a lost node that waits for fencing).
            bool online = reached || (recordedOnline && (othersPending || now - _lastSeen.GetValueOrDefault(name, now) + _silentBefore.GetValueOrDefault(name) < _memberDownAfter));
            var bootId = reached ? boot?.Invoke(name) : null;
            if (online && recordedOnline && bootId is not null && ClusterState.BootOf(recorded!) != bootId)
            {
                // A boot id "BOOT.N" is the same boot after running alone (two-node clusters): it still runs what it ran, probes find it.
                var sameProcess = ClusterState.BootStem(ClusterState.BootOf(recorded!)) == ClusterState.BootStem(bootId);
                result.Add(new MembershipChange(new NodeMembershipCommand(name, true) { Boot = bootId, RequestId = $"membership:{name}:boot:{bootId}:{term}:{state.Version}" },
                    sameProcess ? $"node {name} ran alone while cut off (boot {bootId}): what it runs is probed again"
                                : $"node {name} restarted (boot {bootId}): what it ran is gone"));
                continue;
            }
            if (online == recordedOnline) continue;
            if (!online && recorded is null) continue;
            var message = online ? $"node {name} joined" : $"node {name} is lost (unreachable for {(long)_memberDownAfter.TotalMilliseconds} ms)";
            result.Add(new MembershipChange(new NodeMembershipCommand(name, online) { Boot = online ? bootId : null, RequestId = $"membership:{name}:{online}:{term}:{state.Version}" }, message));
        }
        return result;
    }

    /// <summary>
    /// Members that asked to shut down and have finished: nothing recorded active there (nor a failure recorded last,
    /// which the scheduler still stops there: <see cref="Activity.Unsettled"/>), nothing in flight to
    /// them, and their state learned under this term. Each is recorded as expected down (still online), as
    /// Pacemaker's DC acknowledges a node's shutdown: when it then leaves it is not lost but gone, so it is not
    /// fenced and nobody waits for its lease. Its daemon exits once it sees this record.
    /// </summary>
    public IReadOnlyList<MembershipChange> CompletedShutdowns(ClusterState state, long term, IReadOnlySet<string> inFlight)
    {
        var result = new List<MembershipChange>();
        var leaving = state.Nodes.Where(ClusterState.ShutdownPending).ToList();
        if (leaving.Count == 0) return result;
        var active = Activity.Active(state).Values.SelectMany(l => l).Select(x => x.Node).ToHashSet(StringComparer.Ordinal);
        var unprobed = MissingProbes(state, term, _uncertain).Select(p => p.Node).ToHashSet(StringComparer.Ordinal);
        // A failure recorded last there (a failed probe, a monitor that found it stopped) is not "nothing runs there" to the
        // scheduler: it stops the resource there first, and would fence the node for it once gone (found by the simulator).
        var unsettled = Activity.Unsettled(state);
        foreach (var n in leaving)
        {
            var node = n.Uname ?? n.Id;
            if (active.Contains(node) || unsettled.Contains(node) || unprobed.Contains(node) || inFlight.Any(k => k.EndsWith("|" + node, StringComparison.Ordinal))) continue;
            result.Add(new MembershipChange(new NodeMembershipCommand(node, true) { Expected = "down", RequestId = $"shutdown:{node}:{ClusterState.BootOf(n)}:{term}" },
                $"node {node} shut down cleanly: nothing runs there any more, it may leave (it will not be fenced)"));
        }
        return result;
    }

    /// <summary>
    /// What to do now, or null when nothing changed. Like Pacemaker's DC, the controller carries a
    /// transition through to its end while every recorded result is the expected one, and plans anew
    /// only when it is complete or aborted: by an unexpected result, an action without an answer, or
    /// any other change of the state (membership, configuration, a node's report). Re-planning after
    /// each expected result instead lets placements flip on intermediate states (found by the
    /// simulator: with stickiness 0 a move stopped the resource, and the next plan started it where it
    /// had been, over and over). A fresh plan is also made when the heartbeat is due and no transition is running.
    /// </summary>
    public ControllerPlan? PlanIfDue(ClusterState state, long term, IReadOnlySet<string> inFlight, bool replanRequested, DateTimeOffset now)
    {
        bool continuing = _graph is not null && !_abort && state.Version == _graphVersion + _expected && !GraphComplete();
        if (continuing)
        {
            if (!replanRequested && state.Version == _plannedVersion) return null;
            _plannedVersion = state.Version;
            return Select(state, term, _graph!, _generation, _done, inFlight, _uncertain, now);
        }
        if (state.Version == _plannedVersion && !replanRequested && !_abort && now - _plannedAt <= Heartbeat) return null;
        _plannedVersion = state.Version;
        _plannedAt = now;
        _graph = state.Configuration.Resources.Count == 0 ? new Transition() : Vigil.Scheduler.Scheduler.Run(state.Cib, now);
        _generation++;
        _graphVersion = state.Version;
        _expected = 0;
        _abort = false;
        _done.Clear();
        return Select(state, term, _graph, _generation, _done, inFlight, _uncertain, now);
    }

    private Transition? _graph;
    private int _generation;
    private long _graphVersion;
    private int _expected;
    private bool _abort;
    private readonly HashSet<int> _done = [];

    /// <summary>
    /// Every member was reachable when the caller last looked, and it has waited since for a change in reachability
    /// to wake it (settled, see <see cref="Settled"/>): count them as seen at <paramref name="now"/>, when it woke.
    /// Without this, a wait of a second would make the last sighting that much older, and a member would be judged
    /// lost sooner than the grace allows, and its lease counted from too early. A member that stopped answering in
    /// between counts as seen a little later than it was: the safe side (judged lost later, its lease waited longer).
    /// </summary>
    public void SeenAll(DateTimeOffset now)
    {
        foreach (var name in _members) Seen(name, now, sighting: false);
    }

    /// <summary>
    /// Counts a member as seen at <paramref name="at"/>: what was assumed about it before (silence, an earlier lease) no
    /// longer applies. A <paramref name="sighting"/> (not a stamp) also ends what the consensus layer said of its silence.
    /// </summary>
    private void Seen(string name, DateTimeOffset at, bool sighting)
    {
        _lastSeen[name] = at;
        _silentBefore.Remove(name);
        _formerLeaderEarly.Remove(name);
        if (!sighting) return;
        _sighted[name] = at;
        _contactEnded.Remove(name);
    }

    /// <summary>
    /// No transition is running or aborted and nothing is uncertain: until the state changes, the next plan
    /// can only come from <see cref="Heartbeat"/>.
    /// </summary>
    public bool Settled => (_graph is null || (!_abort && GraphComplete())) && _uncertain.Count == 0;

    private bool GraphComplete() => _graph!.Actions.All(a => _done.Contains(a.Id) || !Executable(a));

    private static bool Executable(GraphAction a) =>
        (a.Kind == ActionKind.Fence && a.Node is not null)
        || (a.Kind == ActionKind.Resource && a.Resource is not null && a.Node is not null && a.Task is not ("notify" or "cancel"));

    /// <summary>
    /// A result was recorded (committed). Expected results of the running transition let it go on;
    /// anything else aborts it, and the next round plans from the new state.
    /// </summary>
    public void Recorded(PlannedAction a, bool expected)
    {
        _uncertain.Remove($"{a.Resource}|{a.Node}");
        if (!expected || a.Generation != _generation) { _abort = true; return; }
        if (a.Id >= 0) _done.Add(a.Id);
        _expected++;
    }

    /// <summary>One fresh planning round (no transition carried over): the scheduler's transition and what may run now.</summary>
    public static ControllerPlan Plan(ClusterState state, long term, IReadOnlySet<string> inFlight, DateTimeOffset now, IReadOnlySet<string>? uncertain = null)
    {
        if (state.Configuration.Resources.Count == 0) return ControllerPlan.None;
        return Select(state, term, Vigil.Scheduler.Scheduler.Run(state.Cib, now), 0, new HashSet<int>(), inFlight, uncertain, now);
    }

    /// <summary>
    /// Picks what may run now: probes first (nothing starts while an online node has not told what
    /// it runs), then every action of the transition whose predecessors are done, then missing
    /// recurring monitors once the transition has nothing ready.
    /// </summary>
    private static ControllerPlan Select(ClusterState state, long term, Transition transition, int generation, IReadOnlySet<int> done, IReadOnlySet<string> inFlight, IReadOnlySet<string>? uncertain, DateTimeOffset now)
    {
        if (state.Configuration.Resources.Count == 0) return ControllerPlan.None;
        var actions = transition.Actions.Select(a =>
        {
            if (!Executable(a) || done.Contains(a.Id)) return (a.Id, false, (PlannedAction?)null);
            if (a.Kind == ActionKind.Fence)
                return (a.Id, true, new PlannedAction(a.Id, a.Detail ?? "reboot", "", a.Node!, 0) { IsFence = true, Generation = generation });
            // An anonymous clone's instances are interchangeable: their history lives under the
            // primitive's id (as Pacemaker records it), whatever instance number the plan chose.
            var resource = a.Anonymous && a.Resource!.Contains(':') ? a.Resource[..a.Resource.IndexOf(':')] : a.Resource!;
            return (a.Id, true, new PlannedAction(a.Id, a.Task, resource, a.Node!, a.IntervalMs) { Generation = generation });
        }).ToList();
        var probes = MissingProbes(state, term, uncertain).Select(p => p with { Generation = generation }).ToList();
        List<PlannedAction> ready;
        if (probes.Count > 0)
        {
            // Fencing a lost node does not wait for the probes of the others (Pacemaker fences in parallel with them too):
            // what they find cannot make the node less lost, and a new leader's probes of a slow agent took 0.6 s in the
            // testbed, all of it added to a failover.
            ready = probes;
            ready.AddRange(Dispatch.Ready(actions, transition.Orderings.Select(o => (o.Before, o.After)).ToList(), inFlight).Where(a => a.IsFence));
        }
        else
        {
            ready = Dispatch.Ready(actions, transition.Orderings.Select(o => (o.Before, o.After)).ToList(), inFlight).ToList();
            if (actions.Count == 0 || ready.Count == 0)
                ready.AddRange(MissingMonitors(state).Where(a => !inFlight.Contains(a.Key)).Select(p => p with { Generation = generation }));
        }
        // A re-plan while actions run does not know their outcome yet: nothing more is done to a
        // resource with an action in flight (else a start could go to a second node while the
        // first start is still running; found by the simulator). Pacemaker waits the same way.
        var busy = inFlight.Select(k => k[..Math.Max(0, k.IndexOf('|'))]).ToHashSet(StringComparer.Ordinal);
        // A node waiting to be fenced may run what nobody recorded (its last results may have died
        // with the previous leader): a resource starts elsewhere only when its state on that node was
        // learned under this term, as Pacemaker orders starts after the fencing of unprobed nodes.
        // Found by the simulator: a deposed leader's unrecorded start ran on beside the new one.
        var fencePending = actions.Where(a => a.Item3 is { IsFence: true }).Select(a => a.Item3!.Node).ToList();
        var requests = new List<ActionRequest>();
        var fencing = new List<FenceRequest>();
        OperationDigest.Calculator? digests = null;
        // An anonymous clone's instances share one history per node: a plan may stop one instance on a node
        // (it moves away) and start another there, unordered (Pacemaker orders them through the clone's
        // stopped/start pseudo actions, which this graph leaves out). Run together, the start could finish
        // first and the stop then end it (found by the simulator, seed 540 with link cuts). So one action per
        // resource and node at a time, stops and demotes first; the rest waits for the next round.
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var a in ready.OrderBy(a => a.Task is "stop" or "demote" or "migrate_to" ? 0 : 1))
        {
            if (!a.IsFence && busy.Contains(a.Resource)) continue;
            if (!a.IsFence && !claimed.Add($"{a.Resource}|{a.Node}")) continue;
            if (a.Task is "start" or "promote" or "migrate_from" && fencePending.Any(x => x != a.Node && !KnownOn(state, x, a.Resource, term, uncertain))) continue;
            if (a.IsFence) fencing.Add(new FenceRequest(a.Node, a.Task, term) { Planned = a });
            else if (BuildRequest(a, state, term, now, digests ??= OperationDigest.For(state.Cib, now)) is { } r) requests.Add(r);
        }
        return new ControllerPlan(requests, fencing);
    }

    /// <summary>
    /// Probes (monitor, interval 0) for every primitive on every online node whose history was not
    /// recorded under this leader's term, or whose last action got no answer. A new leader cannot
    /// know what its predecessor's last actions did (their results may never have been committed),
    /// so it learns what runs where before it acts, as Pacemaker's DC refreshes every node's
    /// executor state when it is elected. Found by the simulator: without it a start whose result
    /// was lost with the old leader ran a second copy elsewhere.
    /// A probe of a resource recorded under an earlier term may be answered from the node's executor history
    /// (<see cref="PlannedAction.FromHistory"/>), which that executor updates before it answers anything.
    /// </summary>
    public static List<PlannedAction> MissingProbes(ClusterState state, long term = 0, IReadOnlySet<string>? uncertain = null)
    {
        var result = new List<PlannedAction>();
        var primitives = state.Configuration.AllResources().OfType<Primitive>().Where(p => !p.IsFencingDevice).ToList();
        var suffix = $":vigil-{term}";
        foreach (var n in state.Nodes.Where(n => n.Crmd == "online"))
        {
            var node = n.Uname ?? n.Id;
            foreach (var p in primitives)
            {
                var history = n.Resources.Where(r => r.Id == p.Id || r.Id.StartsWith(p.Id + ":", StringComparison.Ordinal)).ToList();
                var unanswered = uncertain?.Contains($"{p.Id}|{node}") == true;
                bool known = history.Count > 0
                    && (term == 0 || history.Any(r => r.Ops.Any(o => o.TransitionKey?.EndsWith(suffix, StringComparison.Ordinal) == true)))
                    && !unanswered;
                // Recorded under an earlier term only: the node's executor knows what it last did there, including what a
                // predecessor's lost results would have said, so its history may answer (a new boot has none and runs the agent).
                if (!known) result.Add(new PlannedAction(-1, "monitor", p.Id, node, 0) { FromHistory = history.Count > 0 && !unanswered });
            }
        }
        return result;
    }

    /// <summary>
    /// Recurring monitors defined for an active resource but not running on its node. The scheduler plans
    /// them with a start or a role change only, not for a resource already running without them (Pacemaker
    /// does); until it does, the controller starts them once the transition is done (same action keys, so
    /// nothing is started twice).
    /// </summary>
    public static List<PlannedAction> MissingMonitors(ClusterState state)
    {
        var result = new List<PlannedAction>();
        var active = Activity.Active(state);
        var promotable = state.Configuration.Resources.OfType<Clone>().Where(c => c.IsPromotable)
            .SelectMany(c => c.SelfAndDescendants()).OfType<Primitive>().Select(x => x.Id).ToHashSet(StringComparer.Ordinal);
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
                    // A promotable clone's instance that is not promoted runs in the Unpromoted role (recorded as started).
                    var runs = role == Role.Started && promotable.Contains(p.Id) ? Role.Unpromoted : role;
                    if (opRole is not Role.Started && opRole != runs) continue;
                    var ms = (long)op.IntervalValue.TotalMilliseconds;
                    var rec = history?.Ops.FirstOrDefault(o => o.Id == $"{p.Id}_monitor_{ms}");
                    if (rec is not null && last is not null && rec.CallId > last.CallId) continue;
                    result.Add(new PlannedAction(-1, "monitor", p.Id, node, ms));
                }
            }
        }
        return result;
    }

    /// <summary>Whether the resource's state on the node was recorded under this term (and not made uncertain since).</summary>
    private static bool KnownOn(ClusterState state, string node, string resource, long term, IReadOnlySet<string>? uncertain)
    {
        if (uncertain?.Contains($"{resource}|{node}") == true) return false;
        var suffix = $":vigil-{term}";
        var n = state.Nodes.FirstOrDefault(x => x.Uname == node || x.Id == node);
        return n is not null && n.Resources.Any(r => (r.Id == resource || r.Id.StartsWith(resource + ":", StringComparison.Ordinal))
            && r.Ops.Any(o => o.TransitionKey?.EndsWith(suffix, StringComparison.Ordinal) == true));
    }

    /// <summary>
    /// Resolves an action's agent, parameters, meta attributes, timeout and expected result from the
    /// configuration, and the digest to record with its result. The parameters are the scheduler's
    /// (rules evaluated for the node, a group's or clone's added beneath): the agent gets what the digest covers.
    /// </summary>
    /// <param name="digests">Digests on <paramref name="state"/> when the caller builds many requests (see <see cref="OperationDigest.For"/>).</param>
    public static ActionRequest? BuildRequest(PlannedAction a, ClusterState state, long term, DateTimeOffset now, OperationDigest.Calculator? digests = null)
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
        var digest = (digests ?? OperationDigest.For(state.Cib, now)).ForResource(a.Resource, a.Node, a.Task, a.IntervalMs);
        return new ActionRequest(a, term, prim.Class, prim.Provider, prim.Type)
        {
            TimeoutMs = timeoutMs,
            TargetRc = target,
            Parameters = digest is null ? prim.InstanceAttributes.Flatten() : new Dictionary<string, string>(digest.ResourceParameters, StringComparer.Ordinal),
            Meta = meta,
            OpDigest = digest?.Digest,
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
