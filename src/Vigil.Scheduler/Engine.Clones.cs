using Vigil.Core;

namespace Vigil.Scheduler;

/// <summary>Clones: distributing instances over nodes, colocation with clones, and promotion.</summary>
internal sealed partial class Engine
{
    private NodeInfo? AssignClone(Rsc clone)
    {
        if (!clone.Provisional) return null;
        if (clone.Allocating) return null;
        clone.Allocating = true;
        if (clone.Promotable) AddPromotionScores(clone);
        foreach (var co in clone.ColocAsDependent.ToList()) AssignAny(co.Primary, null);
        foreach (var co in clone.ColocAsPrimary.ToList())
        {
            if (!HasInfluence(co)) continue;
            clone.Allowed = MergeWeights(co.Dependent, clone.Allowed, co.NodeAttribute, (double)co.Score / Inf, MergeFlags.Rollback | MergeFlags.Positive);
        }
        var nodes = SortNodes(clone.Allowed, null);
        var ordered = clone.Children.Select((c, i) => (c, i)).ToList();
        ordered.Sort((a, b) => { var c = CompareInstances(a.c, b.c); return c != 0 ? c : a.i.CompareTo(b.i); });
        // Pacemaker sorts the instances in place: colocations with this clone and the promotion order
        // then meet them in this order (it matters when a colocation is rolled back for leaving no node).
        clone.Children.Clear();
        clone.Children.AddRange(ordered.Select(t => t.c));
        Distribute(clone, [.. clone.Children], nodes);
        if (clone.Promotable) SetInstanceRoles(clone);
        clone.Allocating = false;
        clone.Provisional = false;
        return null;
    }

    private int CompareInstances(Rsc a, Rsc b)
    {
        var na = ActiveNodes(a);
        var nb = ActiveNodes(b);
        if (na.Count > 0 && nb.Count > 0 && na.Count != nb.Count) return na.Count.CompareTo(nb.Count);
        // An instance active on a node it may no longer run on goes after the others, inactive ones too.
        var aa = na.Count == 0 || a.Allowed[na[0].Index] is not Rsc.Absent and >= 0;
        var ab = nb.Count == 0 || b.Allowed[nb[0].Index] is not Rsc.Absent and >= 0;
        if (aa != ab) return aa ? -1 : 1;
        // Priority: configured, raised by promotion scores (AddPromotionScores).
        if (a.Priority != b.Priority) return b.Priority.CompareTo(a.Priority);
        var ca = na.Count > 0 && na[0].CanRunResources;
        var cb = nb.Count > 0 && nb[0].CanRunResources;
        if (ca != cb) return ca ? -1 : 1;
        if (na.Count > 0 != nb.Count > 0) return na.Count > 0 ? -1 : 1;
        var fa = a.Primitives().Any(p => p.Failed);
        var fb = b.Primitives().Any(p => p.Failed);
        if (fa != fb) return fa ? 1 : -1;
        return 0;
    }

    private static List<NodeInfo> ActiveNodes(Rsc r)
    {
        var result = new List<NodeInfo>();
        foreach (var p in r.Primitives())
            foreach (var n in p.RunningOn)
                if (!result.Contains(n)) result.Add(n);
        return result;
    }

    private static Role CurrentRole(Rsc r)
    {
        var role = Role.Stopped;
        foreach (var p in r.Primitives()) if (p.Role > role) role = p.Role;
        return role;
    }

    private void Distribute(Rsc clone, List<Rsc> children, List<NodeInfo> nodes)
    {
        var max = clone.CloneMax;
        var perHost = clone.CloneNodeMax;
        clone.Counts = new int[NodeCount];
        var available = nodes.Count(Available);
        var allColoc = max < available;
        var loopMax = available > 0 ? Math.Max(1, max / available) : 1;
        var allocated = 0;
        foreach (var child in children)
        {
            if (allocated >= max) break;
            var active = ActiveNodes(child);
            if (active.Count == 0 || !child.Provisional || child.Primitives().Any(p => p.Failed)) continue;
            var node = active[0];
            if (!(Available(node) && child.Allowed[node.Index] != Rsc.Absent && child.Allowed[node.Index] >= 0)) continue;
            if (clone.Allowed[node.Index] != Rsc.Absent && clone.Counts[node.Index] >= loopMax) continue;
            if (AllocateInstance(clone, child, node, allColoc, perHost)) allocated++;
        }
        foreach (var child in children)
        {
            if (!child.Provisional) continue;
            if (allocated >= max)
            {
                foreach (var x in SelfAndDescendants(child))
                    for (var i = 0; i < NodeCount; i++) x.Allowed[i] = -Inf;
                AssignStopped(child);
                continue;
            }
            if (AllocateInstance(clone, child, null, allColoc, perHost)) allocated++;
        }
    }

    private void AssignStopped(Rsc r)
    {
        foreach (var x in SelfAndDescendants(r))
        {
            x.Provisional = false;
            x.AllocatedTo = null;
            x.NextRole = Role.Stopped;
        }
    }

    private bool AllocateInstance(Rsc clone, Rsc inst, NodeInfo? prefer, bool allColoc, int limit)
    {
        if (!inst.Provisional) return inst.AllocatedTo is not null;
        if (inst.Allocating) return false;
        foreach (var co in clone.ColocAsDependent)
            if (allColoc || co.Score < 0 || co.Score >= Inf) AddOnce(inst.ColocAsDependent, co);
        foreach (var co in clone.ColocAsPrimary)
            if (HasInfluence(co) && (allColoc || co.Score < 0)) AddOnce(inst.ColocAsPrimary, co);
        if (prefer is not null)
        {
            var w = inst.Allowed[prefer.Index];
            if (w == Rsc.Absent || w < 0) return false;
        }
        // can_run_instance: no node over its per-host limit, no unavailable node, and no node where the
        // clone's own score is negative (Pacemaker 2.1.5 bans an instance there, whatever its own score)
        foreach (var x in SelfAndDescendants(inst))
            for (var i = 0; i < NodeCount; i++)
            {
                if (x.Allowed[i] == Rsc.Absent) continue;
                if (inst.Orphan || !Available(_nodes[i]) || clone.Counts[i] >= limit || clone.Allowed[i] < 0) x.Allowed[i] = -Inf;
            }
        var backup = SelfAndDescendants(inst).Select(x => (x, (int[])x.Allowed.Clone(), x.ColocAsDependent.ToList(), x.ColocAsPrimary.ToList())).ToList();
        var chosen = AssignAny(inst, prefer);
        if (chosen is not null && prefer is not null && chosen != prefer)
        {
            foreach (var (x, allowed, dep, pri) in backup)
            {
                if (x.AllocatedTo is { } n) n.AssignedCount--;
                x.Allowed = allowed;
                x.AllocatedTo = null;
                x.Provisional = true;
                x.NextRole = x.TargetRole == Role.Stopped ? Role.Stopped : (x.Orphan ? Role.Stopped : UnpackedNextRole(x));
                x.ColocAsDependent.Clear(); x.ColocAsDependent.AddRange(dep);
                x.ColocAsPrimary.Clear(); x.ColocAsPrimary.AddRange(pri);
            }
            return false;
        }
        if (chosen is not null) clone.Counts[chosen.Index]++;
        return chosen is not null;
    }

    private readonly Dictionary<Rsc, Role> _unpackedNextRole = [];
    private Role UnpackedNextRole(Rsc x) => _unpackedNextRole.TryGetValue(x, out var r) ? r : Role.Unknown;

    /// <summary>Adds a clone's colocation to an instance in front, as Pacemaker does: the instance meets them in reverse.</summary>
    private static void AddOnce(List<Coloc> list, Coloc co)
    {
        if (!list.Contains(co)) list.Insert(0, co);
    }

    /// <summary>Colocation of a primitive (or instance) with a clone.</summary>
    private void ColocationWithClone(Rsc dep, Rsc clone, Coloc co)
    {
        if (clone.Promotable)
        {
            if (clone.Provisional) return;
            if (co.PrimaryRole != Role.Unknown)
            {
                if (dep.Provisional) { UpdateDependentWithPromotable(dep, clone, co); return; }
                if (co.DependentRole == Role.Promoted) { UpdatePromotableDependentPriority(dep, clone, co); return; }
            }
        }
        var depClone = co.Dependent.Kind == RscKind.Clone ? co.Dependent : null;
        var interleave = depClone is not null && depClone.Interleave && dep.CloneParent == depClone;
        if (clone.Provisional) return;
        if (!dep.Provisional) return;
        if (interleave)
        {
            var inst = FindCompatibleInstance(dep, clone, Role.Unknown);
            if (inst is not null)
            {
                var primaryNode = PlacedNode(inst);
                ApplyColocScore(dep, primaryNode, false, co);
            }
            else if (co.Score >= Inf)
            {
                for (var i = 0; i < NodeCount; i++) if (dep.Allowed[i] != Rsc.Absent) dep.Allowed[i] = -Inf;
            }
            return;
        }
        if (co.Score >= Inf)
        {
            var ok = new bool[NodeCount];
            foreach (var inst in clone.Children)
                if (PlacedNode(inst) is { } n && !inst.Primitives().Any(p => p.Blocked)) ok[n.Index] = true;
            for (var i = 0; i < NodeCount; i++)
                if (!ok[i] && dep.Allowed[i] != Rsc.Absent) dep.Allowed[i] = -Inf;
            return;
        }
        // Every instance counts, an unplaced one too (as a primary running nowhere).
        foreach (var inst in clone.Children)
            ApplyColocScore(dep, PlacedNode(inst), inst.Provisional, co);
    }

    private static NodeInfo? PlacedNode(Rsc r)
    {
        if (r.Kind == RscKind.Primitive) return r.AllocatedTo;
        if (r.Kind == RscKind.Group) return r.Children.Count > 0 ? r.Children[0].AllocatedTo : null;
        return null;
    }

    private Rsc? FindCompatibleInstance(Rsc dep, Rsc clone, Role role)
    {
        if (dep.AllocatedTo is { } placed) return InstanceOn(clone, placed, role);
        foreach (var n in SortNodes(dep.Allowed, null))
            if (InstanceOn(clone, n, role) is { } inst) return inst;
        return null;
    }

    private static Rsc? InstanceOn(Rsc clone, NodeInfo node, Role role)
    {
        foreach (var inst in clone.Children)
        {
            if (PlacedNode(inst) != node) continue;
            if (role != Role.Unknown && InstanceNextRole(inst) != role) continue;
            return inst;
        }
        return null;
    }

    private static Role InstanceNextRole(Rsc inst)
    {
        if (inst.Kind == RscKind.Primitive) return inst.NextRole == Role.Unknown ? (inst.AllocatedTo is null ? Role.Stopped : Role.Started) : inst.NextRole;
        var role = Role.Stopped;
        foreach (var p in inst.Primitives()) { var r = InstanceNextRole(p); if (r > role) role = r; }
        return role;
    }

    private void UpdateDependentWithPromotable(Rsc dep, Rsc clone, Coloc co)
    {
        var affected = new bool[NodeCount];
        foreach (var inst in clone.Children)
            if (PlacedNode(inst) is { } n && InstanceNextRole(inst) == co.PrimaryRole) affected[n.Index] = true;
        if (co.DependentRole != Role.Promoted && co.Score >= Inf)
        {
            for (var i = 0; i < NodeCount; i++)
                if (!affected[i] && dep.Allowed[i] != Rsc.Absent) dep.Allowed[i] = -Inf;
            return;
        }
        for (var i = 0; i < NodeCount; i++)
            if (affected[i] && dep.Allowed[i] != Rsc.Absent) dep.Allowed[i] = Add(co.Score, dep.Allowed[i]);
    }

    private void UpdatePromotableDependentPriority(Rsc dep, Rsc clone, Coloc co)
    {
        var inst = FindCompatibleInstance(dep, clone, co.PrimaryRole);
        if (inst is not null) dep.PromotionPriority = Add(dep.PromotionPriority, co.Score);
        else if (co.Score >= Inf) dep.PromotionPriority = -Inf;
    }

    // ------------------------------------------------------------ promotion

    private int PromotionScore(Rsc r, NodeInfo node, int notSet)
    {
        if (r.Kind == RscKind.Group)
        {
            var score = notSet;
            foreach (var c in r.Children)
            {
                var cs = PromotionScore(c, node, notSet);
                score = score == notSet ? cs : Add(score, cs);
            }
            return score;
        }
        if (!PromotionScoreApplies(r, node)) return notSet;
        var anonymous = r.CloneParent is { GloballyUnique: false };
        var baseName = r.Prim?.Id ?? r.Id;
        var value = node.Attribute("master-" + r.Id) ?? (anonymous ? node.Attribute("master-" + baseName) : null);
        return value is not null && Score.TryParse(value, out var v) ? v.Value : notSet;
    }

    /// <summary>
    /// Whether an instance's promotion score counts on a node (Pacemaker 2.1.5). An anonymous instance's
    /// score counts where it is active, or where no instance is active but some instance's history is
    /// known; otherwise (and for unique instances) where this instance's history is known, or anywhere
    /// when it has no history at all. Only on a node the instance may run on.
    /// </summary>
    private static bool PromotionScoreApplies(Rsc r, NodeInfo node)
    {
        var applies = false;
        if (r.CloneParent is { GloballyUnique: false } clone)
        {
            // Loops, not LINQ: this runs for every instance × node of every promotable clone.
            Rsc? active = null;
            var known = false;
            foreach (var c in clone.Children)
                foreach (var p in c.Primitives())
                {
                    if (p.Prim?.Id != r.Prim?.Id) continue;
                    if (active is null && p.RunningOn.Contains(node)) active = p;
                    known |= p.KnownOn.Contains(node.Index);
                }
            applies = active == r || active is null && known;
        }
        applies = applies || r.RunningOn.Count == 0 && r.KnownOn.Count == 0 || r.RunningOn.Contains(node) || r.KnownOn.Contains(node.Index);
        return applies && r.Allowed[node.Index] != Rsc.Absent && r.Allowed[node.Index] >= 0;
    }

    /// <summary>
    /// Before its instances are placed, a promotable clone adds each instance's positive promotion score
    /// to that instance's score on each node that can run resources, and raises the instance's priority
    /// to its best score there: instances likely to be promoted are placed first and keep their node.
    /// </summary>
    private void AddPromotionScores(Rsc clone)
    {
        foreach (var inst in clone.Children)
            foreach (var node in _nodes)
            {
                if (inst.Allowed[node.Index] == Rsc.Absent || !Available(node)) continue;
                var score = PromotionScore(inst, node, 0);
                if (score > 0) inst.Allowed[node.Index] = Add(inst.Allowed[node.Index], score);
                if (score > inst.Priority) inst.Priority = score;
            }
    }

    private void SetInstanceRoles(Rsc clone)
    {
        var counts = new int[NodeCount];
        foreach (var inst in clone.Children)
        {
            var chosen = PlacedNode(inst);
            if (chosen is null) continue;
            var next = ConfiguredNextRole(inst);
            inst.PromotionPriority = next switch
            {
                Role.Unpromoted or Role.Stopped => -Inf,
                _ => PromotionScore(inst, chosen, -1),
            };
            foreach (var holder in inst.Primitives().Prepend(inst).Prepend(clone).Distinct())
                if (_promotedLocations.TryGetValue(holder, out var promotedLocs))
                    foreach (var (node, score) in promotedLocs)
                        if (node == chosen.Index) inst.PromotionPriority = Add(inst.PromotionPriority, score);
            foreach (var p in PromotionTargets(inst))
                foreach (var co in p.ColocAsDependent.ToList())
                    ColocationLh(p, co.Primary, co);
            if (inst.Kind == RscKind.Group)
                inst.PromotionPriority = Add(inst.PromotionPriority, inst.Children.Sum(c => c.PromotionPriority == 0 ? 0 : c.PromotionPriority));
            inst.SortIndex = inst.PromotionPriority;
            if (next == Role.Promoted) inst.SortIndex = Inf;
        }
        PromotionOrder(clone);
        var sorted = clone.Children.Select((c, i) => (c, i)).ToList();
        sorted.Sort((a, b) =>
        {
            if (a.c.SortIndex != b.c.SortIndex) return b.c.SortIndex.CompareTo(a.c.SortIndex);
            var ra = CurrentRole(a.c); var rb = CurrentRole(b.c);
            if (ra != rb) return rb.CompareTo(ra);
            return a.i.CompareTo(b.i);
        });
        var promoted = 0;
        // An unmanaged instance that is promoted stays promoted, and takes its share of promoted-max.
        var forced = new HashSet<Rsc>();
        foreach (var inst in clone.Children)
        {
            if (inst.Primitives().All(p => p.Managed) || CurrentRole(inst) != Role.Promoted) continue;
            forced.Add(inst);
            promoted++;
            if (PlacedNode(inst) is { } fn) counts[fn.Index]++;
        }
        foreach (var (inst, _) in sorted)
        {
            if (forced.Contains(inst)) continue;
            NodeInfo? chosen = null;
            var node = PlacedNode(inst);
            if (inst.SortIndex >= 0 && (promoted < clone.PromotedMax || !inst.Primitives().All(p => p.Managed)))
            {
                // A group instance is promoted only when every member is placed (never partially).
                if (node is not null && inst.PromotionPriority >= 0 && counts[node.Index] < clone.PromotedNodeMax &&
                    inst.Primitives().All(p => p.AllocatedTo is not null) &&
                    (_haveQuorum || _noQuorumPolicy == "ignore" || CurrentRole(inst) == Role.Promoted) &&
                    inst.Primitives().All(p => p.Managed || p.Role == Role.Promoted))
                    chosen = node;
            }
            foreach (var p in inst.Primitives())
                if (p.AllocatedTo is not null) p.NextRole = chosen is null ? Role.Unpromoted : Role.Promoted;
            if (chosen is null) continue;
            counts[chosen.Index]++;
            promoted++;
        }
    }

    private static IEnumerable<Rsc> PromotionTargets(Rsc inst) => inst.Kind == RscKind.Primitive ? [inst] : inst.Primitives();

    private Role ConfiguredNextRole(Rsc inst)
    {
        var role = Role.Unknown;
        foreach (var p in inst.Primitives())
        {
            var r = UnpackedNextRole(p);
            if (r != Role.Unknown && (role == Role.Unknown || r < role)) role = r;
        }
        return role;
    }

    private void PromotionOrder(Rsc clone)
    {
        var weights = (int[])clone.Allowed.Clone();
        foreach (var inst in clone.Children)
        {
            var n = PlacedNode(inst);
            if (n is null || inst.SortIndex < 0) continue;
            weights[n.Index] = Add(inst.SortIndex, weights[n.Index] == Rsc.Absent ? 0 : weights[n.Index]);
        }
        foreach (var co in clone.ColocAsDependent)
        {
            if (co.DependentRole != Role.Promoted) continue;
            weights = MergeWeights(co.Primary, weights, co.NodeAttribute, (double)co.Score / Inf, co.Score >= Inf ? MergeFlags.None : MergeFlags.Rollback);
        }
        foreach (var co in clone.ColocAsPrimary)
        {
            if (!HasInfluence(co) || co.PrimaryRole != Role.Promoted) continue;
            weights = MergeWeights(co.Dependent, weights, co.NodeAttribute, (double)co.Score / Inf, MergeFlags.Rollback | MergeFlags.Positive);
        }
        foreach (var inst in clone.Children)
        {
            var n = PlacedNode(inst);
            if (n is null || inst.SortIndex < 0) continue;
            inst.SortIndex = weights[n.Index] == Rsc.Absent ? -Inf : weights[n.Index];
        }
    }
}

