using Vigil.Core;

namespace Vigil.Scheduler;

/// <summary>Assigning resources to nodes: scores, colocations, groups (Pacemaker's allocation phase).</summary>
internal sealed partial class Engine
{
    private const int Inf = Score.InfinityValue;

    private static int Add(int a, int b) => (new Score(a) + new Score(b)).Value;

    private void Assign()
    {
        // Groups: each member is placed with the one before it.
        foreach (var g in _rscById.Values.Where(r => r.Kind == RscKind.Group).ToList())
        {
            if (!g.Colocated) continue;
            for (var i = 1; i < g.Children.Count; i++)
            {
                var co = new Coloc("group:internal_colocation", g.Children[i], g.Children[i - 1], Inf);
                g.Children[i].ColocAsDependent.Add(co);
                g.Children[i - 1].ColocAsPrimary.Add(co);
            }
        }
        foreach (var r in _rscById.Values)
        {
            if (r.Orphan) r.NextRole = Role.Stopped;
        }
        var sortedNodes = _nodes.OrderByDescending(n => n.CanRunResources).ThenBy(n => n.Uname, StringComparer.Ordinal).ToList();
        // Sort keys computed once per resource: the score on its current node, then its scores in node order.
        var order = _top.Select((r, i) =>
        {
            var w = MergeWeights(r, null, "#uname", 1.0, MergeFlags.Init | MergeFlags.Forward);
            var current = FirstCurrent(r) is { } n && w[n.Index] != Rsc.Absent ? w[n.Index] : -Inf;
            var byNode = sortedNodes.Select(x => w[x.Index] == Rsc.Absent ? -Inf : w[x.Index]).ToArray();
            return (r, i, current, byNode);
        }).ToList();
        // Pacemaker 2.1.5 sorts by scores only under a placement strategy other than "default"; with
        // "default" it keeps the order of unpacking (priority, then configuration order). Found by the
        // differential test (DifferentialTests): a location score of -10 used to move a resource ahead.
        var byScores = _placementStrategy != "default";
        order.Sort((a, b) =>
        {
            if (a.r.Priority != b.r.Priority) return b.r.Priority.CompareTo(a.r.Priority);
            if (!byScores) return a.i.CompareTo(b.i);
            if (a.current != b.current) return b.current.CompareTo(a.current);
            for (var k = 0; k < a.byNode.Length; k++)
                if (a.byNode[k] != b.byNode[k]) return b.byNode[k].CompareTo(a.byNode[k]);
            return a.i.CompareTo(b.i);
        });
        foreach (var (r, _, _, _) in order) AssignAny(r, null);
        if (_explain is not null) Explain();
    }

    private static NodeInfo? FirstCurrent(Rsc r)
    {
        if (r.Kind == RscKind.Primitive) return r.CurrentNode;
        foreach (var p in r.Primitives()) if (p.CurrentNode is { } n) return n;
        return null;
    }


    private NodeInfo? AssignAny(Rsc r, NodeInfo? prefer)
    {
        if (r.Parent is { Kind: RscKind.Group } g && g.Provisional && !g.Allocating) { AssignGroup(g, prefer); return r.AllocatedTo; }
        if (r.Parent is { Kind: RscKind.Clone } c && c.Provisional && !c.Allocating) { AssignClone(c); return r.AllocatedTo; }
        return r.Kind switch
        {
            RscKind.Primitive => AssignPrimitive(r, prefer),
            RscKind.Group => AssignGroup(r, prefer),
            _ => AssignClone(r),
        };
    }

    private NodeInfo? AssignGroup(Rsc g, NodeInfo? prefer)
    {
        if (!g.Provisional) return g.AllocatedTo;
        if (g.Allocating) return null;
        g.Allocating = true;
        if (g.Children.Count > 0)
        {
            g.Children[0].ColocAsDependent.AddRange(g.ColocAsDependent);
            g.ColocAsDependent.Clear();
            g.Children[^1].ColocAsPrimary.AddRange(g.ColocAsPrimary);
            g.ColocAsPrimary.Clear();
        }
        NodeInfo? first = null;
        for (var i = 0; i < g.Children.Count; i++)
        {
            var n = AssignAny(g.Children[i], prefer);
            if (i == 0) first = n;
        }
        g.AllocatedTo = first;
        g.Allocating = false;
        g.Provisional = false;
        return first;
    }

    private NodeInfo? AssignPrimitive(Rsc r, NodeInfo? prefer)
    {
        if (!r.Provisional) return r.AllocatedTo;
        if (r.Allocating) return null;
        r.Allocating = true;
        foreach (var co in r.ColocAsDependent.ToList())
        {
            AssignAny(co.Primary, null);
            // An optional negative (or promoted-role) colocation that leaves no node is undone.
            var archive = co.DependentRole >= Role.Promoted || co.Score < 0 && co.Score > -Inf ? (int[])r.Allowed.Clone() : null;
            ColocationLh(r, co.Primary, co);
            if (archive is not null && !CanRunAny(r.Allowed)) r.Allowed = archive;
        }
        foreach (var co in r.ColocAsPrimary.ToList())
        {
            if (!HasInfluence(co)) continue;
            r.Allowed = MergeWeights(co.Dependent, r.Allowed, co.NodeAttribute, (double)co.Score / Inf, MergeFlags.Rollback);
        }
        if (r.NextRole == Role.Stopped)
            Finalize(r, null, force: true);
        else if (!r.Managed)
            Finalize(r, r.RunningOn.Count > 0 ? r.RunningOn[0] : null, force: true);
        else
            ChooseNode(r, prefer);
        r.Allocating = false;
        return r.AllocatedTo;
    }

    private static bool HasInfluence(Coloc co) => co.Influence || co.Primary.RunningOn.Count == 0 && !co.Primary.Primitives().Any(p => p.RunningOn.Count > 0);

    private bool Available(NodeInfo n) => n.CanRunResources;

    private List<NodeInfo> SortNodes(int[] weights, NodeInfo? active)
    {
        var list = new List<NodeInfo>();
        foreach (var n in _nodes) if (weights[n.Index] != Rsc.Absent) list.Add(n);
        list.Sort((a, b) => CompareNodes(a, b, weights, active));
        return list;
    }

    private int CompareNodes(NodeInfo a, NodeInfo b, int[] weights, NodeInfo? active)
    {
        if (a == b) return 0;
        var wa = Available(a) ? weights[a.Index] : -Inf;
        var wb = Available(b) ? weights[b.Index] : -Inf;
        if (wa != wb) return wb.CompareTo(wa);
        if (_placementStrategy != "minimal")
        {
            if (_placementStrategy == "balanced")
            {
                var c = CompareCapacity(a, b);
                if (c != 0) return c;
            }
            if (a.AssignedCount != b.AssignedCount) return a.AssignedCount.CompareTo(b.AssignedCount);
            if (active is not null)
            {
                if (active == a) return -1;
                if (active == b) return 1;
            }
        }
        return string.CompareOrdinal(a.Uname, b.Uname);
    }

    private void ChooseNode(Rsc r, NodeInfo? prefer)
    {
        ApplyUtilization(r);
        // The best node by CompareNodes: one linear pass instead of sorting every node.
        NodeInfo? best = null;
        foreach (var n in _nodes)
            if (r.Allowed[n.Index] != Rsc.Absent && (best is null || CompareNodes(n, best, r.Allowed, r.CurrentNode) < 0)) best = n;
        NodeInfo? chosen = null;
        if (prefer is not null && best is not null)
        {
            var w = r.Allowed[prefer.Index];
            if (w != Rsc.Absent && w >= r.Allowed[best.Index] && Available(prefer) && w >= 0) chosen = prefer;
        }
        if (chosen is null && best is not null)
        {
            chosen = best;
            var parentUnique = r.CloneParent is { GloballyUnique: true };
            if (!parentUnique && r.Allowed[chosen.Index] > 0 && Available(chosen))
            {
                // Among equally good nodes, stay where it runs (in the sorted order, the nodes of
                // the best weight come first, and only available ones have it).
                var running = r.CurrentNode;
                if (running is not null && Available(running) && r.Allowed[running.Index] >= 0 && r.Allowed[running.Index] == r.Allowed[chosen.Index])
                    chosen = running;
            }
        }
        Finalize(r, chosen, force: false);
    }

    private void Finalize(Rsc r, NodeInfo? chosen, bool force)
    {
        if (!force && chosen is not null && (r.Allowed[chosen.Index] < 0 || !Available(chosen))) chosen = null;
        r.Provisional = false;
        r.AllocatedTo = chosen;
        if (chosen is null)
        {
            r.NextRole = Role.Stopped;
            return;
        }
        chosen.AssignedCount++;
        if (r.Prim is not null)
            foreach (var (k, v) in Utilization(r)) chosen.AddUse(k, v);
    }

    // ------------------------------------------------------------ colocation

    /// <summary>Applies one colocation to a dependent primitive whose primary is already placed.</summary>
    private void ColocationLh(Rsc dep, Rsc primary, Coloc co)
    {
        if (primary.Kind == RscKind.Group)
        {
            if (primary.Children.Count == 0) return;
            primary = co.Score >= Inf ? primary.Children[^1] : primary.Children[0];
            if (primary.Kind != RscKind.Primitive) return;
        }
        if (primary.Kind == RscKind.Clone)
        {
            // A colocation for the dependent's promoted (or unpromoted) role does not move it;
            // it only weighs in when roles are chosen.
            var rolePhase = co.DependentRole >= Role.Unpromoted && dep.CloneParent is { Promotable: true } && !dep.Provisional;
            if (!rolePhase && dep.Provisional && co.DependentRole != Role.Unknown && co.DependentRole != dep.NextRole) return;
            ColocationWithClone(dep, primary, co);
            return;
        }
        if (!AffectsLocation(dep, primary, co, out var roleOnly))
        {
            if (roleOnly) ApplyColocToPriority(dep, primary, co);
            return;
        }
        ApplyColocScore(dep, primary.Provisional ? null : primary.AllocatedTo, primary.Provisional, co);
    }

    private static bool AffectsLocation(Rsc dep, Rsc primary, Coloc co, out bool roleOnly)
    {
        roleOnly = false;
        if (co.DependentRole >= Role.Unpromoted && dep.CloneParent is { Promotable: true } && !dep.Provisional)
        {
            roleOnly = true;
            return false;
        }
        if (!dep.Provisional) return false;
        if (co.DependentRole != Role.Unknown && co.DependentRole != dep.NextRole) return false;
        if (co.PrimaryRole != Role.Unknown && co.PrimaryRole != primary.NextRole) return false;
        return true;
    }

    private void ApplyColocScore(Rsc dep, NodeInfo? primaryNode, bool primaryProvisional, Coloc co)
    {
        if (primaryProvisional) return;
        if (primaryNode is null && co.Score < 0) return;
        var work = (int[])dep.Allowed.Clone();
        var value = primaryNode?.Attribute(co.NodeAttribute);
        for (var i = 0; i < work.Length; i++)
        {
            if (work[i] == Rsc.Absent) continue;
            // A primary that runs nowhere costs a positive colocation its score on every node.
            if (primaryNode is null) work[i] = Add(work[i], -co.Score);
            else if (value is not null && _nodes[i].Attribute(co.NodeAttribute) == value)
            {
                if (co.Score < Inf) work[i] = Add(work[i], co.Score);
            }
            else if (co.Score >= Inf) work[i] = -Inf;
        }
        if (CanRunAny(work) || co.Score <= -Inf || co.Score >= Inf) dep.Allowed = work;
    }

    private void ApplyColocToPriority(Rsc dep, Rsc primary, Coloc co)
    {
        if (primary.AllocatedTo is null || dep.AllocatedTo is null) return;
        var dv = dep.AllocatedTo.Attribute(co.NodeAttribute);
        var pv = primary.AllocatedTo.Attribute(co.NodeAttribute);
        if (dv != pv)
        {
            if (co.Score >= Inf && co.DependentRole == Role.Promoted) dep.PromotionPriority = -Inf;
            return;
        }
        if (co.PrimaryRole != Role.Unknown && co.PrimaryRole != primary.NextRole) return;
        var mult = co.DependentRole == Role.Unpromoted ? -1 : 1;
        dep.PromotionPriority = Add(mult * co.Score, dep.PromotionPriority);
    }

    private bool CanRunAny(int[] w)
    {
        for (var i = 0; i < w.Length; i++)
            if (w[i] != Rsc.Absent && w[i] >= 0 && Available(_nodes[i])) return true;
        return false;
    }

    [Flags]
    private enum MergeFlags { None = 0, Init = 1, Forward = 2, Rollback = 4, Positive = 8 }

    /// <summary>
    /// Folds the node preferences of resources colocated with <paramref name="rsc"/> into a score table,
    /// scaled by the colocation score (Pacemaker's merge_weights). Follows chains of colocations once.
    /// </summary>
    private int[] MergeWeights(Rsc rsc, int[]? nodes, string attr, double factor, MergeFlags flags)
    {
        if (rsc.Merging) return nodes ?? (int[])rsc.Allowed.Clone();
        rsc.Merging = true;
        int[] work;
        if (rsc.Kind == RscKind.Group && rsc.Children.Count > 0)
        {
            work = MergeWeights(rsc.Children[0], nodes, attr, factor, flags);
            foreach (var co in rsc.ColocAsPrimary)
                if (HasInfluence(co)) work = MergeWeights(co.Dependent, work, co.NodeAttribute, (double)co.Score / Inf, flags & ~MergeFlags.Init);
            rsc.Merging = false;
            return work;
        }
        if ((flags & MergeFlags.Init) != 0)
        {
            work = (int[])rsc.Allowed.Clone();
            flags &= ~MergeFlags.Init;
        }
        else
        {
            work = (int[])nodes!.Clone();
            AddMatching(work, rsc, attr, factor, (flags & MergeFlags.Positive) != 0);
        }
        if (CanRunAny(work))
        {
            var mult = factor < 0 ? -1 : 1;
            if ((flags & MergeFlags.Forward) != 0)
            {
                foreach (var co in rsc.ColocAsDependent)
                    work = MergeWeights(co.Primary, work, co.NodeAttribute, mult * (double)co.Score / Inf, flags);
            }
            else
            {
                foreach (var co in rsc.ColocAsPrimary)
                    if (HasInfluence(co)) work = MergeWeights(co.Dependent, work, co.NodeAttribute, mult * (double)co.Score / Inf, flags);
            }
        }
        else if ((flags & MergeFlags.Rollback) != 0 && nodes is not null)
        {
            work = nodes;
        }
        rsc.Merging = false;
        return work;
    }

    private void AddMatching(int[] work, Rsc rsc, string attr, double factor, bool onlyPositive)
    {
        for (var i = 0; i < work.Length; i++)
        {
            if (work[i] == Rsc.Absent) continue;
            var best = -Inf;
            if (attr == "#uname")
            {
                // node names are unique: the only matching node is the node itself (O(nodes), not O(nodes²))
                var w = rsc.Allowed[i];
                if (w != Rsc.Absent && w > best && Available(_nodes[i])) best = w;
            }
            else
            {
                var value = _nodes[i].Attribute(attr);
                for (var j = 0; j < rsc.Allowed.Length; j++)
                {
                    var w = rsc.Allowed[j];
                    if (w == Rsc.Absent || w <= best || !Available(_nodes[j])) continue;
                    if (_nodes[j].Attribute(attr) == value) best = w;
                }
            }
            if (factor < 0 && best < 0) continue;
            // Rounded in single precision as Pacemaker does; a nonzero score never scales to nothing:
            // it becomes 1 with the sign of the factor (even a negative score under a positive factor).
            var scaled = (float)factor * best;
            var weight = (int)(scaled < 0 ? scaled - 0.5f : scaled + 0.5f);
            if (weight == 0 && best != 0) weight = Math.Sign(factor);
            if (best <= -Inf) weight = factor > 0 ? -Inf : Inf;
            else if (best >= Inf) weight = factor > 0 ? (int)Math.Round(factor * Inf) : -(int)Math.Round(-factor * Inf);
            var updated = Add(weight, work[i]);
            if (onlyPositive && updated < 0 && work[i] > 0) { work[i] = 1; continue; }
            if (onlyPositive && updated < 0 && work[i] == 0) continue;
            work[i] = updated;
        }
    }

    // ------------------------------------------------------------ utilization

    private readonly Dictionary<Rsc, (int Key, long Value)[]> _utilization = [];
    private readonly Dictionary<string, int> _utilKeys = new(StringComparer.Ordinal);

    /// <summary>The number of a utilization attribute (cpu, memory, …): nodes keep capacity and use by it.</summary>
    private int UtilKey(string name)
    {
        if (!_utilKeys.TryGetValue(name, out var key)) _utilKeys[name] = key = _utilKeys.Count;
        return key;
    }

    /// <summary>A primitive's utilization attributes (read once: the configuration does not change during a run).</summary>
    private (int Key, long Value)[] Utilization(Rsc r)
    {
        if (_utilization.TryGetValue(r, out var cached)) return cached;
        var result = new Dictionary<int, long>();
        if (r.Prim is not null)
            foreach (var kv in Flatten(r.Prim.Utilization))
                if (long.TryParse(kv.Value, out var v)) result[UtilKey(kv.Key)] = v;
        return _utilization[r] = [.. result.Select(kv => (kv.Key, kv.Value))];
    }

    /// <summary>
    /// Placement strategies other than "default": ban nodes without the capacity for this resource
    /// together with the still unplaced resources that must run with it (mandatory colocations),
    /// when some node has room for all of them; otherwise for this resource alone.
    /// </summary>
    private void ApplyUtilization(Rsc r)
    {
        if (_placementStrategy == "default") return;
        var own = Utilization(r);
        var set = MandatoryColocated(r);
        var anyCapable = false;
        if (set.Count > 1)
        {
            var sum = new Dictionary<int, long>();
            foreach (var x in set)
                if (x.Provisional)
                    foreach (var (k, v) in Utilization(x)) sum[k] = sum.GetValueOrDefault(k) + v;
            (int Key, long Value)[] need = [.. sum.Select(kv => (kv.Key, kv.Value))];
            for (var i = 0; i < _nodes.Count; i++)
                if (r.Allowed[i] != Rsc.Absent && Available(_nodes[i]) && r.Allowed[i] >= 0 && HasCapacity(_nodes[i], need)) anyCapable = true;
            if (anyCapable)
                for (var i = 0; i < _nodes.Count; i++)
                    if (r.Allowed[i] != Rsc.Absent && Available(_nodes[i]) && !HasCapacity(_nodes[i], need)) r.Allowed[i] = -Inf;
        }
        if (!anyCapable && own.Length > 0)
            for (var i = 0; i < _nodes.Count; i++)
                if (r.Allowed[i] != Rsc.Absent && Available(_nodes[i]) && !HasCapacity(_nodes[i], own)) r.Allowed[i] = -Inf;
    }

    private static bool HasCapacity(NodeInfo n, (int Key, long Value)[] need)
    {
        foreach (var (k, v) in need)
            if (n.CapacityOf(k) - n.UsedOf(k) < v) return false;
        return true;
    }

    /// <summary>This primitive and every primitive tied to it by INFINITY colocations, in either direction.</summary>
    private List<Rsc> MandatoryColocated(Rsc r)
    {
        if (_mandatoryColocated.TryGetValue(r, out var cached)) return cached;
        return _mandatoryColocated[r] = FindMandatoryColocated(r);
    }

    /// <summary>The colocations do not change during a run: each primitive's set is found once.</summary>
    private readonly Dictionary<Rsc, List<Rsc>> _mandatoryColocated = [];

    private static List<Rsc> FindMandatoryColocated(Rsc r)
    {
        var seen = new HashSet<Rsc> { r };
        var queue = new Queue<Rsc>();
        queue.Enqueue(r);
        // Loops rather than LINQ: this runs once for each of 10,000 primitives.
        while (queue.Count > 0)
        {
            var x = queue.Dequeue();
            foreach (var co in x.ColocAsDependent) Follow(co);
            foreach (var co in x.ColocAsPrimary) Follow(co);
        }
        var result = new List<Rsc>(seen.Count);
        foreach (var x in seen) if (x.Kind == RscKind.Primitive) result.Add(x);
        return result;

        void Follow(Coloc co)
        {
            if (co.Score < Inf) return;
            AddPrimitives(co.Dependent);
            AddPrimitives(co.Primary);
            if (co.Dependent.Kind == RscKind.Group && seen.Add(co.Dependent)) queue.Enqueue(co.Dependent);
            if (co.Primary.Kind == RscKind.Group && seen.Add(co.Primary)) queue.Enqueue(co.Primary);
        }

        void AddPrimitives(Rsc other)
        {
            if (other.Kind == RscKind.Clone) return;
            foreach (var p in other.Primitives())
                if (seen.Add(p)) queue.Enqueue(p);
        }
    }

    private int CompareCapacity(NodeInfo a, NodeInfo b)
    {
        var result = 0;
        for (var k = 0; k < _utilKeys.Count; k++)
        {
            var rb = b.CapacityOf(k) - b.UsedOf(k);
            if (a.DefinesCapacity(k))
            {
                var ra = a.CapacityOf(k) - a.UsedOf(k);
                if (ra > rb) result--; else if (ra < rb) result++;
            }
            else if (b.DefinesCapacity(k) && rb > 0) result++;
        }
        return result;
    }

    private void Explain()
    {
        foreach (var r in _rscById.Values.OrderBy(r => r.Id, StringComparer.Ordinal))
        {
            if (r.Id != _explain && r.Top.Id != _explain && !r.Id.StartsWith(_explain + ":", StringComparison.Ordinal)) continue;
            var parts = _nodes.Select(n => $"{n.Uname}={(r.Allowed[n.Index] == Rsc.Absent ? "(not allowed)" : new Score(r.Allowed[n.Index]).ToString())}{(Available(n) ? "" : "(unavailable)")}");
            _explanation.Add($"{r.Id}: {string.Join(" ", parts)} -> {(r.AllocatedTo?.Uname ?? "stopped")}");
        }
    }
}
