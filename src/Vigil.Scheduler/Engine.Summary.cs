using Vigil.Core;

namespace Vigil.Scheduler;

/// <summary>Turning the settled actions into the summary, the final placement and the graph.</summary>
internal sealed partial class Engine
{
    private Transition BuildTransition()
    {
        var summary = new List<SummaryItem>();
        foreach (var node in _nodes)
            if (_fencing.ContainsKey(node))
                summary.Add(new SummaryItem($"Fence ({_fencing[node].Detail})", "node", node.Uname, null));
        var placements = new List<Placement>();
        foreach (var top in _top)
        {
            foreach (var p in top.Primitives())
            {
                Summarise(p, summary);
                Place(p, placements);
            }
        }
        PlaceFinalOrphans(placements);
        var nodes = _nodes.Select(n => new NodeOutcome(n.Uname,
            Online: n.Online && !n.Fenced,
            Standby: n.Standby,
            Maintenance: n.Maintenance,
            Unclean: n.Unclean && !n.Fenced,
            Shutdown: n.Shutdown && !n.Fenced,
            Pending: n.Pending)).ToList();

        // Sized up front: grown step by step, these lists of 350,000 actions and 700,000 orderings
        // (a cold 10,000-resource cluster) are copied about 20 times on the large-object heap.
        var graph = new List<GraphAction>(_acts.Count);
        // Graph index of each action by its id (its index in _acts); -1 for those left out.
        var map = new int[_acts.Count];
        Array.Fill(map, -1);
        foreach (var a in _acts)
        {
            if (a.Optional || !a.Runnable) continue;
            var kind = a.Pseudo ? ActionKind.Pseudo : a.Task switch
            {
                "stonith" => ActionKind.Fence,
                "do_shutdown" => ActionKind.Cluster,
                _ => ActionKind.Resource,
            };
            map[a.Id] = graph.Count;
            graph.Add(new GraphAction(graph.Count, kind, a.Task, a.Rsc?.Id, a.Node?.Uname)
            {
                IntervalMs = a.IntervalMs,
                Detail = a.Detail,
                Anonymous = a.Rsc?.CloneParent is { GloballyUnique: false },
            });
        }
        var edges = 0;
        foreach (var a in _acts)
            if (map[a.Id] >= 0)
                foreach (var (t, _) in a.Outputs) if (map[t.Id] >= 0) edges++;
        var orderings = new List<Ordering>(edges);
        foreach (var a in _acts)
        {
            var ai = map[a.Id];
            if (ai < 0) continue;
            foreach (var (t, _) in a.Outputs)
                if (map[t.Id] is var ti and >= 0) orderings.Add(new Ordering(ai, ti));
        }
        return new Transition
        {
            Nodes = nodes,
            Placements = placements,
            Summary = summary,
            Actions = graph,
            Orderings = orderings,
            Explanation = _explanation,
        };
    }

    private static Act? Find(Rsc r, string task, NodeInfo? node)
    {
        foreach (var a in ActsOf(r, task))
            if (node is null || a.Node == node) return a;
        return null;
    }

    private static bool Done(Act? a) => a is not null && !a.Optional && a.Runnable;

    private void Summarise(Rsc r, List<SummaryItem> summary)
    {
        var anonymous = r.CloneParent is { GloballyUnique: false };
        var current = r.CurrentNode;
        var next = r.AllocatedTo;
        if (current is null && r.Orphan) return;
        if (!r.Managed || current is null && next is null) return;
        var role = r.Role == Role.Stopped && current is not null ? Role.Started : r.Role;
        if (r.CloneParent is { Promotable: true } && role == Role.Started) role = Role.Unpromoted;
        var nextRole = r.NextRole;
        var moving = current is not null && next is not null && current != next;
        var start = next is null ? null : Find(r, "start", next);
        var startNode = start is null || !start.Runnable ? null : current;
        var stop = startNode is null ? ActsOf(r, "stop").FirstOrDefault() : Find(r, "stop", startNode);
        var promote = next is null ? null : Find(r, "promote", next);
        var demote = Find(r, "demote", null);
        var needRole = role > Role.Started || nextRole > Role.Unpromoted;

        void Item(string change, NodeInfo? origin, NodeInfo? dest, Act? action)
        {
            var blocked = action is not null && !action.Runnable;
            string? from, to;
            Role? rb = null, ra = null;
            var sameHost = origin is not null && dest is not null && origin == dest;
            var sameRole = role == nextRole;
            if (needRole && origin is null) { from = null; to = dest?.Uname; rb = role; ra = nextRole; }
            else if (origin is null) { from = dest?.Uname; to = null; }
            else if (needRole && dest is null) { from = origin.Uname; to = null; rb = role; }
            else if (dest is null) { from = origin.Uname; to = null; }
            else if (needRole && sameRole && sameHost) { from = origin.Uname; to = null; rb = role; }
            else if (sameRole && sameHost) { from = origin.Uname; to = null; }
            else if (needRole && sameRole) { from = origin.Uname; to = dest.Uname; rb = role; }
            else if (sameRole) { from = origin.Uname; to = dest.Uname; }
            else if (sameHost) { from = origin.Uname; to = null; rb = role; ra = nextRole; }
            else { from = origin.Uname; to = dest.Uname; rb = role; ra = nextRole; }
            summary.Add(new SummaryItem(change, r.Id, from, to) { RoleBefore = rb, RoleAfter = ra, Blocked = blocked, Anonymous = anonymous });
        }

        if (role == nextRole && next is not null)
        {
            if (Find(r, "migrate_from", next) is { Runnable: true } && current is not null)
                Item("migrate", current, next, start);
            else if (Find(r, "reload-agent", next) is { } reload && Done(reload))
                Item("reload", current, next, reload);
            else if (r.MetaValue("multiple-active") == "stop_unexpected" && r.RunningOn.Contains(next) && r.RunningOn.Count(n => !n.Unclean) > 1 &&
                     r.RunningOn.Any(n => n != next && Done(Find(r, "stop", n))))
                // The copies elsewhere stop; the one that stays counts as restarted (recovered when failed).
                Item(r.Failed ? "recover" : "restart", next, next, r.RunningOn.Select(n => Find(r, "stop", n)).FirstOrDefault(a => a?.Node != next));
            else if (start is null || start.Optional)
            {
                if (demote is not null && promote is not null && !demote.Optional && !promote.Optional)
                    Item("re-promote", current, next, promote);
            }
            else if (!start.Runnable) Item("stop", current, null, stop);
            else if (moving && current is not null) Item(r.Failed ? "recover" : "move", current, next, stop);
            else if (r.Failed) Item("recover", current, null, stop);
            else Item("restart", current, next, start);
            return;
        }
        if (stop is not null && (nextRole == Role.Stopped || start is not null && !start.Runnable))
        {
            foreach (var n in r.RunningOn)
            {
                var s = Find(r, "stop", n);
                Item("stop", n, null, s ?? start);
            }
        }
        else if (stop is not null && r.Failed && !stop.Optional) Item("recover", current, next, stop);
        else if (moving) Item("move", current, next, stop);
        else if (stop is not null && !stop.Optional) Item("restart", current, next, start);
        else if (role == Role.Promoted && demote is not null) Item("demote", current, next, demote);
        else if (nextRole == Role.Promoted && promote is not null) Item("promote", current, next, promote);
        else if (role == Role.Stopped && nextRole > Role.Stopped) Item("start", current, next, start);
    }

    private void Place(Rsc r, List<Placement> placements)
    {
        var anonymous = r.CloneParent is { GloballyUnique: false };
        var promotable = r.CloneParent is { Promotable: true };
        var flagsUnmanaged = !r.Managed;
        var final = new List<(NodeInfo Node, Role Role)>();
        foreach (var n in r.RunningOn)
        {
            var stop = Find(r, "stop", n);
            if (r.Managed && Done(stop)) continue;
            var role = r.RoleOn.TryGetValue(n.Index, out var cr) ? cr : Role.Started;
            if (Done(Find(r, "demote", n))) role = Role.Unpromoted;
            if (n.Fenced) continue;
            final.Add((n, role));
        }
        var next = r.AllocatedTo;
        // The failure shows while a copy stays on a node whose history holds it.
        var failedStays = r.Failed && final.Any(f => r.FailedOn.Contains(f.Node.Index));
        if (next is not null && r.Managed)
        {
            var start = Find(r, "start", next);
            if (Done(start))
            {
                final.RemoveAll(f => f.Node == next);
                var role = Done(Find(r, "promote", next)) ? Role.Promoted : Role.Started;
                final.Add((next, role));
                failedStays = final.Count > 1 && r.Failed;
            }
            else if (Done(Find(r, "promote", next)))
            {
                var i = final.FindIndex(f => f.Node == next);
                if (i >= 0) final[i] = (next, Role.Promoted);
            }
        }
        _finalNodes[r] = final.Select(f => f.Node).ToList();
        if (final.Count == 0)
        {
            // Stopped orphans of anonymous clones come from the history as it will be (PlaceFinalOrphans).
            if (r.Orphan && anonymous) return;
            // Orphaned primitives are not shown once stopped; orphaned clone instances are.
            if (r.Orphan && r.CloneParent is null) return;
            placements.Add(new Placement(r.Id, Role.Stopped, null) { Anonymous = anonymous, Orphaned = r.Orphan, Unmanaged = flagsUnmanaged && !r.Orphan });
            return;
        }
        foreach (var (node, role) in final)
        {
            var shown = role == Role.Started && promotable ? Role.Unpromoted : role;
            if (role == Role.Unpromoted && !promotable) shown = Role.Started;
            placements.Add(new Placement(r.Id, shown, node.Uname)
            {
                Anonymous = anonymous,
                Failed = failedStays,
                Unmanaged = flagsUnmanaged,
                Blocked = r.Blocked,
                Orphaned = r.Orphan,
            });
        }
    }
}
