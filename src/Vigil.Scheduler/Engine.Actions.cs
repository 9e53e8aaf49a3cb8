using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

[Flags]
internal enum EdgeFlags
{
    None = 0,
    /// <summary>If the first action is required, so is the second.</summary>
    ImpliesThen = 1,
    /// <summary>If the second action is required, so is the first.</summary>
    ImpliesFirst = 2,
    /// <summary>The second action cannot run unless the first can.</summary>
    RunnableLeft = 4,
    /// <summary>stop → start of one resource: a required or unrunnable start makes the stop required.</summary>
    Restart = 8,
    /// <summary>The second can run when enough (<see cref="Act.MinRunnable"/>, default one) of such inputs can.</summary>
    OneOrMore = 16,
    /// <summary>Non-symmetrical mandatory order: the second cannot run unless the first can, if its resource is inactive.</summary>
    Asymmetrical = 32,
}

/// <summary>An action while the graph is being built.</summary>
internal sealed class Act(int id, string task, Rsc? rsc, NodeInfo? node)
{
    public int Id { get; } = id;
    public string Task { get; } = task;
    public Rsc? Rsc { get; } = rsc;
    public NodeInfo? Node { get; } = node;
    public bool Optional { get; set; }
    public bool Runnable { get; set; } = true;
    public bool Pseudo { get; set; }
    public long IntervalMs { get; set; }
    /// <summary>How many <see cref="EdgeFlags.OneOrMore"/> inputs must be runnable (clone-min).</summary>
    public int MinRunnable { get; set; } = 1;
    public string? Detail { get; set; }

    // A cold 10,000-resource cluster has 320,000 probes with one edge each: an action keeps its first
    // edge of each direction inline and makes a list only for the second (see EdgeList).
    private EdgeList _inputs;
    private EdgeList _outputs;
    public EdgeList Inputs => _inputs;
    public EdgeList Outputs => _outputs;

    public void AddOutput(Act then, EdgeFlags flags) => _outputs.Add(then, flags);
    public void AddInput(Act first, EdgeFlags flags) => _inputs.Add(first, flags);
    public override string ToString() => $"{Rsc?.Id}_{Task}_{Node?.Uname}{(Optional ? " (optional)" : "")}{(Runnable ? "" : " (unrunnable)")}";
}

/// <summary>
/// The edges of one action in one direction, in the order they were added. The first edge is kept
/// inline and only a second one makes a list: most actions (probes, monitors) have one edge, and a
/// list per action was two objects of about 110 bytes for each of 320,000 probes, which the garbage
/// collector then had to mark and copy. A copy of this struct sees edges added later to the list
/// but not a first edge added later; nothing adds edges to an action while walking its edges.
/// </summary>
internal struct EdgeList
{
    private Act? _first;
    private EdgeFlags _firstFlags;
    private List<(Act Act, EdgeFlags Flags)>? _more;

    public void Add(Act act, EdgeFlags flags)
    {
        if (_first is null) { _first = act; _firstFlags = flags; }
        else (_more ??= []).Add((act, flags));
    }

    public readonly bool Any(Func<(Act Act, EdgeFlags Flags), bool> predicate)
    {
        foreach (var e in this) if (predicate(e)) return true;
        return false;
    }

    public readonly List<(Act Act, EdgeFlags Flags)> ToList()
    {
        var list = new List<(Act Act, EdgeFlags Flags)>();
        foreach (var e in this) list.Add(e);
        return list;
    }

    public readonly Enumerator GetEnumerator() => new(this);

    public struct Enumerator(EdgeList edges)
    {
        private int _index = -1;

        public readonly (Act Act, EdgeFlags Flags) Current => _index == 0 ? (edges._first!, edges._firstFlags) : edges._more![_index - 1];

        public bool MoveNext()
        {
            if (edges._first is null) return false;
            _index++;
            return _index == 0 || _index <= (edges._more?.Count ?? 0);
        }
    }
}

/// <summary>Creating actions and orderings, then settling which are required and runnable.</summary>
internal sealed partial class Engine
{
    private readonly List<Act> _acts = [];
    private static readonly List<Act> NoActs = [];
    private readonly Dictionary<NodeInfo, Act> _fencing = [];

    private Act NewAct(string task, Rsc? rsc, NodeInfo? node, bool optional, bool pseudo = false)
    {
        var a = new Act(_acts.Count, task, rsc, node) { Optional = optional, Pseudo = pseudo };
        _acts.Add(a);
        if (rsc is not null)
        {
            var list = FindActs(rsc, task);
            if (list is null) rsc.ActsByTask.Add((task, list = []));
            list.Add(a);
        }
        return a;
    }

    /// <summary>The resource's actions of one task, in creation order; an empty list (not to be added to) when none.</summary>
    private static List<Act> ActsOf(Rsc rsc, string task) => FindActs(rsc, task) ?? NoActs;

    private static List<Act>? FindActs(Rsc rsc, string task)
    {
        foreach (var (t, acts) in rsc.ActsByTask)
            if (t == task) return acts;
        return null;
    }

    private static void Order(Act first, Act then, EdgeFlags flags)
    {
        if (first == then) return;
        first.AddOutput(then, flags);
        then.AddInput(first, flags);
    }

    private void CreateActions()
    {
        // Fencing of unclean nodes.
        var stonithAction = _config.Property("stonith-action") ?? "reboot";
        if (stonithAction == "poweroff") stonithAction = "off";
        var haveManaged = _primitives.Any(p => p.Managed);
        foreach (var node in _nodes)
        {
            if (node.Unclean && haveManaged && CanFence(node))
            {
                var f = NewAct("stonith", null, node, optional: false);
                f.Detail = stonithAction;
                node.Fenced = true;
                _fencing[node] = f;
            }
        }
        foreach (var r in _primitives) CreatePrimitiveActions(r);
        foreach (var r in _rscById.Values.Where(r => r.Kind != RscKind.Primitive).OrderBy(r => r.Id, StringComparer.Ordinal))
            CreateCollectiveActions(r);
        foreach (var o in _orders) ApplyOrder(o);
        CreateProbesAndMonitors();
        // Shutdown of nodes that asked for it, after everything on them stopped.
        foreach (var node in _nodes)
        {
            if (!node.Shutdown || !node.Online || node.Unclean) continue;
            var sd = NewAct("do_shutdown", null, node, optional: false);
            foreach (var r in _primitives)
                foreach (var s in ActsOf(r, "stop"))
                    if (s.Node == node) Order(s, sd, EdgeFlags.RunnableLeft);
        }
        Settle();
        // A required stop or demote makes the reload pointless (the start applies the parameters).
        foreach (var r in _definitionReload.Keys)
            foreach (var reload in ActsOf(r, "reload-agent"))
                if (Done(Find(r, "stop", reload.Node)) || Done(Find(r, "demote", reload.Node))) reload.Optional = true;
        CreateMigrations();
    }

    /// <summary>
    /// Live migration: a started primitive with allow-migrate that moves between two healthy nodes
    /// migrates (migrate_to on the source, migrate_from on the target, then stop on the source)
    /// instead of stopping and starting; the start becomes a pseudo action.
    /// </summary>
    private void CreateMigrations()
    {
        foreach (var r in _primitives)
        {
            if (!r.Managed || r.Failed || !Truth.IsTrue(r.MetaValue("allow-migrate")) || r.CloneParent is not null) continue;
            if (r.RunningOn.Count != 1 || r.AllocatedTo is not { } next || r.RunningOn[0] is not { } cur || cur == next) continue;
            if (!cur.Online || cur.Unclean || cur.Fenced || r.Role != Role.Started || r.NextRole != Role.Started) continue;
            var start = Find(r, "start", next);
            var stop = Find(r, "stop", cur);
            if (start is null || stop is null || start.Optional || !start.Runnable || stop.Optional || !stop.Runnable) continue;
            // A resource ordered after something that really starts (not migrates) restarts instead.
            if (start.Inputs.Any(i => i.Act != stop && !i.Act.Optional && i.Act.Runnable &&
                                      (i.Flags & (EdgeFlags.ImpliesThen | EdgeFlags.RunnableLeft)) != 0 &&
                                      i.Act.Task is "start" or "running" or "promote" or "promoted" &&
                                      !(i.Act.Rsc is { } fr && IsAncestor(fr, r)) &&
                                      !(i.Act.Task == "start" && i.Act.Pseudo && i.Act.Rsc?.Kind == RscKind.Primitive)))
                continue;
            var to = NewAct("migrate_to", r, cur, optional: false);
            var from = NewAct("migrate_from", r, next, optional: false);
            foreach (var (f, flags) in start.Inputs.ToList())
                if (f != stop) Order(f, to, flags);
            Order(to, from, EdgeFlags.None);
            Order(from, stop, EdgeFlags.None);
            Order(from, start, EdgeFlags.None);
            start.Pseudo = true;
        }
    }

    /// <summary>
    /// Probes (monitor_0) wherever a resource's state is unknown, before it may start anywhere, and
    /// the configured recurring monitors for the role it ends in, after it starts or changes role.
    /// </summary>
    private void CreateProbesAndMonitors()
    {
        var probedAnonymous = new HashSet<(string, int)>();
        foreach (var r in _primitives)
        {
            if (r.Orphan || !r.Managed) continue;
            var anonymous = r.CloneParent is { GloballyUnique: false };
            foreach (var node in _nodes)
            {
                if (!node.Online || node.Unclean || node.Maintenance || node.Shutdown || node.Pending) continue;
                var known = r.KnownOn.Contains(node.Index) || r.RunningOn.Contains(node);
                if (anonymous)
                {
                    var key = (r.Prim!.Id, node.Index);
                    known |= AnyInstanceKnownOn(r.CloneParent!, r.Prim.Id, node);
                    if (known || !probedAnonymous.Add(key)) continue;
                }
                else if (known) continue;
                var probe = NewAct("monitor", r, node, optional: false);
                foreach (var s in ActsOf(r, "start")) if (s.Node is not null) Order(probe, s, EdgeFlags.None);
            }
            if (r.AllocatedTo is not { } next || r.Prim is null) continue;
            var role = r.NextRole;
            var start = Find(r, "start", next);
            var promote = Find(r, "promote", next);
            var demote = Find(r, "demote", null);
            foreach (var op in r.Prim.Operations)
            {
                if (op.Name != "monitor" || !op.Enabled) continue;
                var interval = (long)op.IntervalValue.TotalMilliseconds;
                if (interval <= 0) continue;
                var opRole = Roles.TryParse(op.Role, out var or) ? or : Role.Unknown;
                if (opRole == Role.Started) opRole = Role.Unknown;
                var matches = opRole == Role.Unknown ? role != Role.Promoted : opRole == role;
                if (!matches) continue;
                // A monitor is (re)scheduled when the resource starts or enters the role on that node.
                var after = opRole == Role.Promoted ? promote : start;
                if (opRole == Role.Unpromoted && demote is not null && r.RunningOn.Contains(next) && start is { Optional: true }) after = demote;
                if (after is null) continue;
                var mon = NewAct("monitor", r, next, optional: true);
                mon.IntervalMs = interval;
                Order(after, mon, EdgeFlags.ImpliesThen | EdgeFlags.RunnableLeft);
            }
        }
    }

    /// <summary>Whether any copy of the primitive <paramref name="primId"/> in the clone has history on or runs on the node.</summary>
    private static bool AnyInstanceKnownOn(Rsc collective, string primId, NodeInfo node)
    {
        // A loop instead of Primitives().Any(…): this runs for every instance × node × instance.
        foreach (var c in collective.Children)
        {
            if (c.Kind != RscKind.Primitive) { if (AnyInstanceKnownOn(c, primId, node)) return true; continue; }
            if (c.Prim?.Id == primId && (c.KnownOn.Contains(node.Index) || c.RunningOn.Contains(node))) return true;
        }
        return false;
    }

    private static bool IsAncestor(Rsc candidate, Rsc r)
    {
        for (var p = r.Parent; p is not null; p = p.Parent) if (p == candidate) return true;
        return false;
    }

    private bool IsFenced(NodeInfo n) => _fencing.ContainsKey(n);

    private void CreatePrimitiveActions(Rsc r)
    {
        var next = r.AllocatedTo;
        var nextRole = next is null ? Role.Stopped : (r.NextRole is Role.Unknown or Role.Stopped ? Role.Started : r.NextRole);
        if (next is not null && r.CloneParent is { Promotable: true } && nextRole == Role.Started) nextRole = Role.Unpromoted;
        r.NextRole = nextRole;
        if (!r.Managed)
        {
            // Unmanaged: nothing is done to it, but orderings may still refer to its start.
            var cur = r.RunningOn.Count > 0 ? r.RunningOn[0] : null;
            var s0 = NewAct("start", r, cur, optional: true);
            s0.Runnable = cur is not null;
            return;
        }
        // Multiply active counts clean nodes only (an unclean node's copy goes away with fencing);
        // multiple-active=stop_unexpected stops the extra copies without restarting the wanted one.
        var multiple = r.RunningOn.Count(n => !n.Unclean) > 1 && r.MetaValue("multiple-active") != "stop_unexpected";
        Act? start = null;
        var stops = new List<Act>();
        foreach (var cur in r.RunningOn)
        {
            var needStop = next is null || cur != next || multiple || r.RecoverOn.Contains(cur.Index) || r.StopFailedOn.Contains(cur.Index) ||
                           _definitionRestart.Contains(r);
            var curRole = r.RoleOn.TryGetValue(cur.Index, out var cr) ? cr : r.Role;
            if (curRole == Role.Promoted && (needStop || nextRole != Role.Promoted))
            {
                var demote = NewAct("demote", r, cur, optional: false);
                if (IsFenced(cur)) { demote.Pseudo = true; Order(_fencing[cur], demote, EdgeFlags.ImpliesThen); }
                else if (!cur.Online) demote.Runnable = false;
            }
            var stop = NewAct("stop", r, cur, optional: !needStop);
            if (IsFenced(cur)) { stop.Pseudo = true; Order(_fencing[cur], stop, EdgeFlags.RunnableLeft); }
            else if (!cur.Online || cur.Unclean) stop.Runnable = false;
            stops.Add(stop);
            foreach (var d in ActsOf(r, "demote")) if (d.Node == cur) Order(d, stop, EdgeFlags.ImpliesFirst);
        }
        if (next is null)
        {
            var none = NewAct("start", r, null, optional: true);
            none.Runnable = false;
            foreach (var s in stops) Order(s, none, EdgeFlags.None);
        }
        if (next is not null)
        {
            var running = r.RunningOn.Contains(next) && !multiple && !r.RecoverOn.Contains(next.Index);
            start = NewAct("start", r, next, optional: running && !_definitionRestart.Contains(r));
            if (running && _definitionReload.TryGetValue(r, out var reloadOn) && reloadOn == next)
                NewAct("reload-agent", r, next, optional: false);
            if (!Available(next)) start.Runnable = false;
            if (!_haveQuorum)
            {
                // Without quorum: "stop" (and "suicide") start nothing, "freeze" starts only what is already active.
                if (r.MetaValue("requires") == "nothing") { }
                else if (_noQuorumPolicy is "suicide" or "stop") start.Runnable = false;
                else if (_noQuorumPolicy == "freeze" && r.RunningOn.Count == 0) start.Runnable = false;
            }
            foreach (var s in stops)
            {
                var flags = EdgeFlags.ImpliesThen;
                if (s.Node == next) flags |= EdgeFlags.Restart;
                if (s.Node != next || multiple) flags |= EdgeFlags.RunnableLeft;
                // Stopping an extra copy elsewhere does not restart the copy that stays.
                if (s.Node != next && running) flags = EdgeFlags.None;
                Order(s, start, flags);
            }
            if (!r.RunningOn.Contains(next) && r.RunningOn.Count == 0)
            {
                // A resource that needs fencing to be safe waits for fencing of nodes where it might run.
                foreach (var (n, f) in _fencing)
                    if (r.KnownOn.Contains(n.Index) || true) Order(f, start, EdgeFlags.None);
            }
            var curRoleNext = r.RoleOn.TryGetValue(next.Index, out var rn) ? rn : Role.Stopped;
            if (nextRole == Role.Promoted && (curRoleNext != Role.Promoted || !running))
            {
                var promote = NewAct("promote", r, next, optional: false);
                // Without quorum nothing may raise its role (unless the policy ignores quorum).
                if (!_haveQuorum && _noQuorumPolicy != "ignore" && r.MetaValue("requires") != "nothing") promote.Runnable = false;
                Order(start, promote, EdgeFlags.RunnableLeft | EdgeFlags.ImpliesThen);
                foreach (var d in ActsOf(r, "demote")) Order(d, promote, EdgeFlags.None);
            }
            else if (nextRole == Role.Promoted && running)
            {
                var promote = NewAct("promote", r, next, optional: true);
                Order(start, promote, EdgeFlags.RunnableLeft | EdgeFlags.ImpliesThen);
            }
        }
    }

    /// <summary>Pseudo actions of groups and clones, which orderings on them attach to.</summary>
    private void CreateCollectiveActions(Rsc r)
    {
        var start = NewAct("start", r, null, optional: true, pseudo: true);
        var running = NewAct("running", r, null, optional: true, pseudo: true);
        var stop = NewAct("stop", r, null, optional: true, pseudo: true);
        var stopped = NewAct("stopped", r, null, optional: true, pseudo: true);
        var isClone = r.Kind == RscKind.Clone;
        Order(start, running, EdgeFlags.None);
        Order(stop, stopped, EdgeFlags.None);
        Order(stopped, start, EdgeFlags.None);
        foreach (var child in r.Children)
        {
            foreach (var cs in StartsOf(child))
            {
                Order(start, cs, EdgeFlags.ImpliesThen | EdgeFlags.RunnableLeft);
                Order(cs, running, EdgeFlags.ImpliesThen | (isClone ? EdgeFlags.OneOrMore : EdgeFlags.RunnableLeft));
            }
            foreach (var cs in StopsOf(child))
            {
                Order(stop, cs, EdgeFlags.ImpliesThen);
                Order(cs, stopped, EdgeFlags.ImpliesThen);
            }
        }
        if (isClone)
        {
            if (r.Promotable)
            {
                var promote = NewAct("promote", r, null, optional: true, pseudo: true);
                var promoted = NewAct("promoted", r, null, optional: true, pseudo: true);
                var demote = NewAct("demote", r, null, optional: true, pseudo: true);
                var demoted = NewAct("demoted", r, null, optional: true, pseudo: true);
                Order(running, promote, EdgeFlags.RunnableLeft);
                Order(promote, promoted, EdgeFlags.None);
                Order(demote, demoted, EdgeFlags.None);
                Order(demoted, stop, EdgeFlags.None);
                foreach (var p in r.Primitives())
                {
                    foreach (var a in ActsOf(p, "promote")) { Order(promote, a, EdgeFlags.RunnableLeft); Order(a, promoted, EdgeFlags.ImpliesThen); }
                    foreach (var a in ActsOf(p, "demote")) { Order(demote, a, EdgeFlags.None); Order(a, demoted, EdgeFlags.ImpliesThen); }
                }
            }
            if (r.Ordered)
            {
                var byNumber = r.Children.OrderBy(c => c.InstanceNo).ToList();
                for (var i = 1; i < byNumber.Count; i++)
                    foreach (var a in StartsOf(byNumber[i - 1]))
                        foreach (var b in StartsOf(byNumber[i])) Order(a, b, EdgeFlags.None);
            }
        }
        else if (r.Ordered)
        {
            for (var i = 1; i < r.Children.Count; i++)
            {
                foreach (var a in StartsOf(r.Children[i - 1]))
                    foreach (var b in StartsOf(r.Children[i]))
                        Order(a, b, EdgeFlags.ImpliesThen | EdgeFlags.RunnableLeft);
                foreach (var a in StopsOf(r.Children[i]))
                    foreach (var b in StopsOf(r.Children[i - 1]))
                        Order(a, b, EdgeFlags.ImpliesFirst);
            }
        }
    }

    /// <summary>The action that completes "start" of a resource (its own start, or a collective's running).</summary>
    private List<Act> StartsOf(Rsc r) => r.Kind == RscKind.Primitive ? ActsOf(r, "start") : ActsOf(r, "running");
    private List<Act> StopsOf(Rsc r) => r.Kind == RscKind.Primitive ? ActsOf(r, "stop") : ActsOf(r, "stopped");

    private List<Act> FirstSide(Rsc r, string action)
    {
        if (r.Kind == RscKind.Primitive) return ActsOf(r, action);
        return action switch
        {
            "start" => ActsOf(r, "running"),
            "stop" => ActsOf(r, "stopped"),
            "promote" => ActsOf(r, "promoted"),
            "demote" => ActsOf(r, "demoted"),
            _ => ActsOf(r, action),
        };
    }

    private List<Act> ThenSide(Rsc r, string action) => ActsOf(r, action);

    private static string Invert(string action) => action switch
    {
        "start" => "stop",
        "stop" => "start",
        "promote" => "demote",
        "demote" => "promote",
        "promoted" => "demoted",
        "demoted" => "promoted",
        "running" => "stopped",
        "stopped" => "running",
        _ => action,
    };

    private void ApplyOrder(OrderSpec o)
    {
        if (o.Kind == OrderKind.Serialize) return;
        // Orderings between fencing devices and other resources are ignored (cl#5056).
        if (o.First.Primitives().Any(p => p.IsFencing) != o.Then.Primitives().Any(p => p.IsFencing)) return;
        // The deprecated restart-type=restart of the "then" resource upgrades an optional order: a
        // recovery of the first restarts it.
        var upgrade = o.Kind == OrderKind.Optional && o.Then.MetaValue("restart-type") == "restart";
        AddOrder(o.First, o.FirstAction, o.Then, o.ThenAction, o.Kind, invert: false, o.OneOrMore, o.Symmetrical, upgrade ? EdgeFlags.ImpliesThen : EdgeFlags.None);
        if (o.Symmetrical)
            AddOrder(o.Then, Invert(o.ThenAction), o.First, Invert(o.FirstAction), o.Kind, invert: true, false, extra: upgrade ? EdgeFlags.ImpliesFirst : EdgeFlags.None);
    }

    private void AddOrder(Rsc first, string firstAction, Rsc then, string thenAction, OrderKind kind, bool invert, bool oneOrMore, bool symmetrical = true,
                          EdgeFlags extra = EdgeFlags.None)
    {
        var flags = extra;
        if (kind == OrderKind.Mandatory && !symmetrical)
        {
            flags |= EdgeFlags.Asymmetrical;
        }
        else if (kind == OrderKind.Mandatory)
        {
            if (invert) flags |= EdgeFlags.ImpliesFirst;
            else
            {
                flags |= EdgeFlags.ImpliesThen;
                if (firstAction is "start" or "promote") flags |= EdgeFlags.RunnableLeft;
            }
        }
        if (oneOrMore) flags = (flags & ~EdgeFlags.RunnableLeft) | EdgeFlags.OneOrMore;
        var cloneMin = first.Kind == RscKind.Clone && firstAction == "start" ? ToInt(first.MetaValue("clone-min"), 0) : 0;
        if (cloneMin > 0)
        {
            // clone-min: the dependent may start once that many instances can be running.
            var f2 = (flags & ~EdgeFlags.RunnableLeft) | EdgeFlags.OneOrMore;
            var inputs = first.Children.SelectMany(c => c.Primitives()).SelectMany(p => ActsOf(p, "start")).ToList();
            foreach (var b in ThenSide(then, thenAction))
            {
                b.MinRunnable = cloneMin;
                foreach (var a in inputs) Order(a, b, f2);
            }
            return;
        }
        // Interleaved clones order instance by instance on the same node (unless any instance will do).
        if (first.Kind == RscKind.Clone && then.Kind == RscKind.Clone && then.Interleave && !oneOrMore)
        {
            foreach (var ti in then.Children)
            {
                var node = PlacedNode(ti) ?? FirstCurrent(ti);
                var fi = first.Children.FirstOrDefault(c => node is not null && (PlacedNode(c) == node || PlacedNode(c) is null && FirstCurrent(c) == node));
                if (fi is null) continue;
                foreach (var a in FirstSide(fi, firstAction))
                    foreach (var b in ThenSide(ti, thenAction)) Order(a, b, flags);
            }
            return;
        }
        foreach (var a in FirstSide(first, firstAction))
            foreach (var b in ThenSide(then, thenAction))
                Order(a, b, flags);
    }

    /// <summary>
    /// Propagates "required" and "runnable" along the edges until nothing changes. Both only ever
    /// flip one way (optional → required, runnable → unrunnable), so each action is pushed to its
    /// neighbours at most a few times: linear in the number of edges.
    /// </summary>
    private void Settle()
    {
        var queue = new Queue<Act>();
        // One delegate for the whole run: a local function passed as an argument makes a new one at
        // every call, 350,000 of them (22 MB) at 10,000 resources.
        Action<Act> changed = queue.Enqueue;
        foreach (var a in _acts)
            if (HasOneOrMoreInput(a)) CheckOneOrMore(a, changed);
        foreach (var a in _acts) Push(a, changed);
        while (queue.Count > 0) Push(queue.Dequeue(), changed);
    }

    private static bool HasOneOrMoreInput(Act a)
    {
        foreach (var (_, flags) in a.Inputs)
            if ((flags & EdgeFlags.OneOrMore) != 0) return true;
        return false;
    }

    private void Push(Act a, Action<Act> changed)
    {
        if (!a.Runnable && a.Task is "start" or "promote" && a.Rsc is not null && _blockedFrom.Add(a.Rsc.Top)) BlockColocationDependents(a, changed);
        foreach (var (t, flags) in a.Outputs)
        {
            var was = (t.Optional, t.Runnable);
            if ((flags & EdgeFlags.RunnableLeft) != 0 && !a.Runnable) t.Runnable = false;
            if ((flags & EdgeFlags.Asymmetrical) != 0 && !a.Runnable && t.Rsc is { } tr && !tr.Primitives().Any(p => p.RunningOn.Count > 0))
                t.Runnable = false;
            if ((flags & EdgeFlags.ImpliesThen) != 0 && !a.Optional && a.Runnable) t.Optional = false;
            if ((flags & EdgeFlags.OneOrMore) != 0 && !a.Runnable) CheckOneOrMore(t, _ => { });
            if (was != (t.Optional, t.Runnable)) changed(t);
        }
        foreach (var (f, flags) in a.Inputs)
        {
            var was = (f.Optional, f.Runnable);
            if ((flags & EdgeFlags.ImpliesFirst) != 0 && !a.Optional) f.Optional = false;
            if ((flags & EdgeFlags.Restart) != 0 && f.Runnable && (!a.Optional || !a.Runnable) && f.Rsc is { Managed: true })
                f.Optional = false;
            if (was != (f.Optional, f.Runnable)) changed(f);
        }
    }

    private readonly HashSet<Rsc> _blockedFrom = [];

    /// <summary>
    /// A primary that cannot start anywhere blocks the starts of everything colocated with it at
    /// INFINITY (for a group or clone: only when no member or instance can start).
    /// </summary>
    private void BlockColocationDependents(Act a, Action<Act> changed)
    {
        var top = a.Rsc!.Top;
        foreach (var child in top.Children)
        {
            var first = FirstAction(child, a.Task);
            if (first is null || first.Runnable) { _blockedFrom.Remove(top); return; }
        }
        if (top.Kind == RscKind.Primitive && a.Rsc != top) { _blockedFrom.Remove(top); return; }
        var isStart = a.Task == "start";
        foreach (var co in ColocsWithPrimary(top))
        {
            if (co.Score < Inf) continue;
            if (!isStart && co.PrimaryRole != Role.Promoted) continue;
            // A dependent colocated in the promoted role only loses its promotion.
            var targets = ActsOf(co.Dependent, co.DependentRole == Role.Promoted ? "promote" : "start");
            foreach (var t in targets)
            {
                if (!t.Runnable) continue;
                t.Runnable = false;
                changed(t);
            }
        }
    }

    private Dictionary<Rsc, List<Coloc>>? _colocsByPrimary;

    private List<Coloc> ColocsWithPrimary(Rsc primary)
    {
        if (_colocsByPrimary is null)
        {
            _colocsByPrimary = [];
            foreach (var co in _colocs)
            {
                if (!_colocsByPrimary.TryGetValue(co.Primary, out var list)) _colocsByPrimary[co.Primary] = list = [];
                list.Add(co);
            }
        }
        return _colocsByPrimary.TryGetValue(primary, out var l) ? l : [];
    }

    private Act? FirstAction(Rsc r, string task)
    {
        if (r.Kind == RscKind.Primitive) return ActsOf(r, task).FirstOrDefault();
        foreach (var p in r.Primitives())
            if (ActsOf(p, task).FirstOrDefault() is { } act) return act;
        return null;
    }

    private void CheckOneOrMore(Act a, Action<Act> changed)
    {
        if (!a.Runnable) return;
        var runnable = 0;
        foreach (var (f, flags) in a.Inputs)
            if ((flags & EdgeFlags.OneOrMore) != 0 && f.Runnable && (f.Node is not null || f.Rsc?.Kind != RscKind.Primitive)) runnable++;
        if (runnable >= a.MinRunnable || a.Task == "running" && CloneKeepsRunning(a.Rsc)) return;
        a.Runnable = false;
        changed(a);
    }

    private static bool CloneKeepsRunning(Rsc? clone) =>
        clone is not null && clone.Children.Any(c => c.Primitives().Any(p => p.RunningOn.Count > 0 && p.AllocatedTo is not null && p.RunningOn.Contains(p.AllocatedTo)));
}
