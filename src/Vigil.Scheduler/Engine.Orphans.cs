using Vigil.Core;

namespace Vigil.Scheduler;

/// <summary>
/// Which stopped orphan instances of anonymous clones the final placement shows. Pacemaker's final
/// state is its own history after the transition, read again: a history entry left on a node is
/// matched to an instance the same way as at the start (the instance already active on that node,
/// else the first instance active nowhere), and an entry that matches none is an orphan instance.
/// So the orphans shown are those of the history as it will be, not as it was.
/// </summary>
internal sealed partial class Engine
{
    /// <summary>One history entry of an anonymous clone's primitive on a node, in unpacking order, and the instance it went to.</summary>
    private readonly List<(NodeInfo Node, Rsc Clone, string LrmId, string BaseId, Rsc Mapped, bool Active)> _anonymousHistory = [];

    /// <summary>Where each primitive runs once the transition is done (filled by <see cref="Place"/>).</summary>
    private readonly Dictionary<Rsc, List<NodeInfo>> _finalNodes = [];

    /// <summary>Position of each node's node_state in the status section.</summary>
    private readonly Dictionary<NodeInfo, int> _statusOrder = [];

    private bool FinallyOn(Rsc r, NodeInfo n) => _finalNodes.TryGetValue(r, out var l) && l.Contains(n);

    /// <summary>An instance while the final history is matched: where it is active, and which of its members are.</summary>
    private sealed class FinalSlot(Rsc? instance)
    {
        public Rsc? Instance { get; } = instance;
        public List<NodeInfo> Locations { get; } = [];
        public HashSet<string> ActiveMembers { get; } = new(StringComparer.Ordinal);
    }

    /// <summary>Adds a "Stopped, orphaned" placement for each member of each instance the final history needs beyond the configured ones.</summary>
    private void PlaceFinalOrphans(List<Placement> placements)
    {
        foreach (var group in _anonymousHistory.GroupBy(e => e.Clone))
        {
            var clone = group.Key;
            var configured = clone.Children.Where(c => !c.Primitives().Any(p => p.Orphan)).ToList();
            if (configured.Count == 0) continue;
            var members = configured[0].Primitives().Select(p => p.Prim!.Id).ToList();
            var slots = configured.Select(c => new FinalSlot(c)).ToList();
            var orphans = 0;
            foreach (var (node, baseId, active) in FinalEntries(group.ToList(), configured))
            {
                if (!members.Contains(baseId)) continue;
                FinalSlot? found = null, inactive = null;
                var skipInactive = false;
                foreach (var slot in slots)
                {
                    if (found is not null) break;
                    if (slot.Locations.Count > 0)
                    {
                        if (slot.Locations[0] != node) continue;
                        if (slot.ActiveMembers.Contains(baseId)) skipInactive = true;
                        else found = slot;
                    }
                    else if (!skipInactive && inactive is null && !(slot.Instance is { } inst && Member(inst, baseId) is { Blocked: true }))
                        inactive = slot;
                }
                if (found is null && !skipInactive) found = inactive;
                if (found is null)
                {
                    found = new FinalSlot(null);
                    slots.Add(found);
                    // Every member of the new orphan instance shows, stopped (unless this entry keeps it active).
                    foreach (var m in members)
                        if (!(active && m == baseId))
                            placements.Add(new Placement($"{m}:{clone.Children.Count + orphans}", Role.Stopped, null) { Anonymous = true, Orphaned = true });
                    orphans++;
                }
                if (!active) continue;
                found.ActiveMembers.Add(baseId);
                if (!found.Locations.Contains(node)) found.Locations.Add(node);
            }
        }
    }

    /// <summary>
    /// One clone's history after the transition, node by node in unpacking order: each entry and
    /// whether it is active then, and an added active entry wherever an instance's member starts
    /// on a node it had no history on. Fenced nodes lose their history.
    /// </summary>
    private List<(NodeInfo Node, string BaseId, bool Active)> FinalEntries(List<(NodeInfo Node, Rsc Clone, string LrmId, string BaseId, Rsc Mapped, bool Active)> history, List<Rsc> instances)
    {
        var result = new List<(NodeInfo, string, bool)>();
        var prims = instances.SelectMany(i => i.Primitives()).ToList();
        var nodes = _nodes.Where(n => history.Any(e => e.Node == n) || prims.Any(p => FinallyOn(p, n)))
            .OrderBy(n => n.Online ? 0 : 1).ThenBy(n => _statusOrder.TryGetValue(n, out var o) ? o : int.MaxValue).ThenBy(n => n.Index);
        foreach (var node in nodes)
        {
            if (node.Fenced) continue;
            var here = history.Where(e => e.Node == node).ToList();
            var active = here.Select(e => e.Active && FinallyOn(e.Mapped, node)).ToList();
            foreach (var p in prims)
            {
                if (!FinallyOn(p, node) || here.Any(e => e.Active && e.Mapped == p)) continue;
                // A start writes to the entry the instance already has on the node, else to a new one.
                var i = here.FindIndex(e => e.LrmId == p.Id);
                if (i < 0) i = here.FindIndex(e => e.Mapped == p);
                if (i >= 0) active[i] = true;
                else { here.Add((node, p.CloneParent!, p.Id, p.Prim!.Id, p, true)); active.Add(true); }
            }
            for (var i = 0; i < here.Count; i++) result.Add((node, here[i].BaseId, active[i]));
        }
        return result;
    }
}
