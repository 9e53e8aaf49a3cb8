using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>
/// Definition changes: every recorded operation carries a digest (MD5) of the parameters it ran
/// with (<c>op-digest</c>) and, for agents that can reload, a digest of the parameters that need a
/// restart (<c>op-restart-digest</c> over the names in <c>op-force-restart</c>). When the configured
/// parameters no longer produce the recorded digest, the resource restarts, or reloads when only
/// reloadable parameters changed (Pacemaker 2.1.5's rule, as in its regression suite).
/// </summary>
internal sealed partial class Engine
{
    /// <summary>History entries of resources active on a node, checked once the status is unpacked.</summary>
    private readonly List<(Rsc Rsc, NodeInfo Node, LrmResource Lrm)> _activeHistories = [];
    /// <summary>Resources whose definition changed in a way only a restart applies.</summary>
    private readonly HashSet<Rsc> _definitionRestart = [];
    /// <summary>Resources (and the node) whose reloadable parameters changed: an agent reload.</summary>
    private readonly Dictionary<Rsc, NodeInfo> _definitionReload = [];

    /// <summary>The history in execution order (call id; pending operations last).</summary>
    private static List<LrmOp> SortedOps(LrmResource lrm) =>
        lrm.Ops.Select((o, i) => (o, i))
            .OrderBy(t => t.o.CallId < 0 ? int.MaxValue : t.o.CallId).ThenBy(t => t.o.CallId >= 0 ? t.o.LastRcChange : 0)
            .ThenByDescending(t => t.i).Select(t => t.o).ToList();

    private void CheckDefinitions()
    {
        foreach (var (rsc, node, lrm) in _activeHistories)
        {
            if (rsc.Orphan || rsc.Prim is null || !rsc.RunningOn.Contains(node)) continue;
            var ops = SortedOps(lrm);
            var (start, stop) = ActiveRange(ops);
            if (start < stop) continue; // stopped since
            for (var i = Math.Max(start, 0); i < ops.Count; i++)
            {
                var op = ops[i];
                var task = op.Operation;
                if (op.IntervalMs != 0 || task is not ("monitor" or "start" or "promote" or "migrate_from")) continue;
                var result = Compare(rsc, node, op);
                // A pending start restarts anyway: nothing to reload yet.
                if (result == DigestResult.Changed && rsc.StartPending) result = DigestResult.Restart;
                switch (result)
                {
                    case DigestResult.Restart:
                        _definitionRestart.Add(rsc);
                        break;
                    case DigestResult.Changed when op.Attribute("op-restart-digest") is not null:
                        if (rsc.Managed && !rsc.Failed) _definitionReload.TryAdd(rsc, node);
                        break;
                    case DigestResult.Changed:
                        _definitionRestart.Add(rsc);
                        break;
                }
            }
        }
    }

    /// <summary>Index of the last start (or implied start) and of the last successful stop, as Pacemaker counts them.</summary>
    private static (int Start, int Stop) ActiveRange(List<LrmOp> ops)
    {
        int start = -1, stop = -1, impliedMonitor = -1, impliedClone = -1;
        for (var i = 0; i < ops.Count; i++)
        {
            var task = ops[i].Operation;
            if (task == "stop" && ops[i].Attribute("op-status") == "0") stop = i;
            else if (task is "start" or "migrate_from") start = i;
            else if (impliedMonitor <= stop && task == "monitor" && ops[i].Attribute("rc-code") is "0" or "8") impliedMonitor = i;
            else if (task is "promote" or "demote") impliedClone = i;
        }
        if (start == -1) start = impliedClone != -1 ? impliedClone : impliedMonitor;
        return (start, stop);
    }

    private enum DigestResult { Match, Changed, Restart }

    /// <summary>
    /// What <c>op-digest</c> covers for one operation of a primitive on a node: the resource's
    /// parameters (rules evaluated for the node, parents' added beneath) and the operation's own
    /// instance attributes over them, without <c>CRM_meta_*</c>; and whether the operation has any
    /// of its own. The one definition the comparison and every recorder of results use.
    /// </summary>
    private (SortedDictionary<string, string> All, bool HasOpParameters) DigestParameters(Rsc rsc, NodeInfo node, string task, long intervalMs)
    {
        var configured = ConfiguredOp(rsc.Prim!, task, intervalMs);
        var extra = configured is null ? [] : Flatten(configured.InstanceAttributes, node.Attribute);
        foreach (var name in extra.Where(kv => kv.Value == "#default").Select(kv => kv.Key).ToList()) extra.Remove(name);
        var parameters = ResourceParameters(rsc, node);
        var all = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in parameters) all[kv.Key] = kv.Value;
        foreach (var kv in extra) all[kv.Key] = kv.Value;
        foreach (var name in all.Keys.Where(k => k.StartsWith("CRM_meta_", StringComparison.Ordinal)).ToList()) all.Remove(name);
        return (all, extra.Count > 0);
    }

    /// <summary>
    /// Prepares this engine for <see cref="DigestFor"/> only: the nodes, resources and node attributes
    /// are unpacked (nothing else decides the parameters), placement is not run.
    /// </summary>
    internal Engine ForDigests()
    {
        UnpackOptions();
        UnpackNodes();
        UnpackResources();
        UnpackNodeStates();
        return this;
    }

    /// <summary>
    /// The digest of an operation as <see cref="Compare"/> will compute it, and the resource's
    /// parameters for the node; null when the primitive or the node is not in the configuration.
    /// </summary>
    internal OperationDigest.ForOperation? DigestFor(string resource, string nodeName, string task, long intervalMs)
    {
        var node = _nodeByName.GetValueOrDefault(nodeName) ?? _nodes.FirstOrDefault(n => n.Id == nodeName);
        // An anonymous clone's history is kept under the primitive's id: any instance has the same parameters.
        var rsc = _rscById.GetValueOrDefault(resource) is { Prim: not null } exact ? exact
            : _primitives.FirstOrDefault(p => p.Prim!.Id == resource);
        if (node is null || rsc is null) return null;
        var (all, _) = DigestParameters(rsc, node, task, intervalMs);
        return new OperationDigest.ForOperation(OperationDigest.Compute(all), ResourceParameters(rsc, node));
    }

    private DigestResult Compare(Rsc rsc, NodeInfo node, LrmOp op)
    {
        var (all, hasOpParameters) = DigestParameters(rsc, node, op.Operation, op.IntervalMs);
        var result = CompareDigests(op, all, hasOpParameters);
        // Only private parameters (passwords, left out of a sanitised CIB) changed: nothing to do.
        if (result != DigestResult.Match && op.Attribute("op-secure-digest") is { } recordedSecure)
        {
            var secret = (op.Attribute("op-secure-params") ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            var isFencing = rsc.IsFencing;
            var secure = new SortedDictionary<string, string>(
                all.Where(kv => !secret.Contains(kv.Key) && !(isFencing && IsFencingParameter(kv.Key))).ToDictionary(), StringComparer.Ordinal);
            if (OperationDigest.Compute(secure) == recordedSecure) return DigestResult.Match;
        }
        return result;
    }

    /// <summary>Parameters Pacemaker adds to fencing devices itself (pcmk_host_list, pcmk_reboot_action, …), not the agent's.</summary>
    private static bool IsFencingParameter(string name)
    {
        if (!name.StartsWith("pcmk_", StringComparison.Ordinal)) return false;
        if (name is "pcmk_action_limit" or "pcmk_delay_base" or "pcmk_delay_max" or "pcmk_host_argument" or "pcmk_host_check" or "pcmk_host_list" or "pcmk_host_map")
            return true;
        var rest = name.IndexOf('_', 5) is var u and >= 0 ? name[u..] : "";
        return rest is "_action" or "_timeout" or "_retries";
    }

    private static DigestResult CompareDigests(LrmOp op, SortedDictionary<string, string> all, bool hasOpParameters)
    {
        var recordedAll = op.Attribute("op-digest");
        var recordedRestart = op.Attribute("op-restart-digest");

        if (recordedRestart is not null)
        {
            var restart = all;
            if (op.Attribute("op-force-restart") is { } forced)
            {
                var names = forced.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
                restart = new SortedDictionary<string, string>(all.Where(kv => names.Contains(kv.Key)).ToDictionary(), StringComparer.Ordinal);
            }
            if (OperationDigest.Compute(restart) != recordedRestart) return DigestResult.Restart;
        }
        // Pacemaker restarts when a history entry has no digest at all. Vigil's daemon recorded none
        // before it recorded op-digest, so such entries are taken as unchanged: a state written by an
        // older daemon must not restart every resource at once.
        if (recordedAll is null) return recordedRestart is null ? DigestResult.Match : DigestResult.Changed;
        if (OperationDigest.Compute(all) == recordedAll) return DigestResult.Match;
        // Parameters given to this very operation only take effect through a restart.
        return hasOpParameters ? DigestResult.Restart : DigestResult.Changed;
    }

    /// <summary>The resource's instance attributes for a node (rules evaluated), its parents' added beneath.</summary>
    private Dictionary<string, string> ResourceParameters(Rsc rsc, NodeInfo node)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var r = rsc; r is not null; r = r.Parent)
            foreach (var kv in Flatten(r.Config.InstanceAttributes, node.Attribute))
                if (kv.Value != "#default") result.TryAdd(kv.Key, kv.Value);
        return result;
    }

    private static Operation? ConfiguredOp(Primitive p, string task, long intervalMs)
    {
        foreach (var o in p.Operations)
            if (o.Name == task && (long)o.IntervalValue.TotalMilliseconds == intervalMs) return o;
        return null;
    }
}
