using System.Globalization;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>Unpacking configuration and status into the working model.</summary>
internal sealed partial class Engine
{
    private void UnpackNodes()
    {
        foreach (var n in _config.Nodes)
        {
            if (n.Type is "remote") continue;
            if (_nodeByName.ContainsKey(n.Uname)) continue;
            var node = new NodeInfo(_nodes.Count, n.Id, n.Uname);
            foreach (var kv in Flatten(n.InstanceAttributes)) node.Attributes[kv.Key] = kv.Value;
            foreach (var kv in Flatten(n.Utilization))
                if (long.TryParse(kv.Value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var cap)) node.SetCapacity(UtilKey(kv.Key), cap);
            node.Attributes["#uname"] = n.Uname;
            node.Attributes["#id"] = n.Id;
            node.Attributes["#kind"] = "cluster";
            node.Attributes["#is_dc"] = n.Id == _cib.HeaderValue("dc-uuid") ? "true" : "false";
            if (n.Type is "ping") node.Pending = false;
            _nodes.Add(node);
            _nodeByName[n.Uname] = node;
        }
    }

    private void UnpackResources()
    {
        foreach (var r in _config.Resources)
        {
            var rsc = BuildResource(r, null, -1);
            if (rsc is null) continue;
            _top.Add(rsc);
        }
        foreach (var rsc in _top)
            foreach (var p in rsc.Primitives())
                if (p.IsFencing) _haveFencingDevice = true;
    }

    private Rsc? BuildResource(Resource r, Rsc? parent, int instance)
    {
        var id = instance >= 0 ? $"{r.Id}:{instance}" : r.Id;
        Rsc rsc;
        switch (r)
        {
            case Primitive p:
                rsc = new Rsc(id, RscKind.Primitive, p);
                break;
            case Group g:
                rsc = new Rsc(id, RscKind.Group, g);
                break;
            case Clone c:
                rsc = new Rsc(id, RscKind.Clone, c) { Promotable = c.IsPromotable };
                break;
            default:
                return null;
        }
        rsc.Parent = parent;
        rsc.InstanceNo = instance;
        // Old CIBs spell meta attributes with underscores (clone_max); Pacemaker's schema upgrade renames them.
        rsc.Meta = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var kv in Flatten(r.MetaAttributes)) rsc.Meta.TryAdd(kv.Key.Replace('_', '-'), kv.Value);
        if (parent is not null)
            foreach (var kv in parent.Meta) rsc.Meta.TryAdd(kv.Key, kv.Value);
        foreach (var kv in _rscDefaults) rsc.Meta.TryAdd(kv.Key, kv.Value);
        ApplyMeta(rsc);
        if (!_rscById.TryAdd(id, rsc)) return null;

        switch (r)
        {
            case Group g:
                foreach (var child in g.Children)
                    if (BuildResource(child, rsc, instance) is { } c) rsc.Children.Add(c);
                break;
            case Clone c:
                var max = ToInt(rsc.MetaValue("clone-max"), _nodes.Count);
                rsc.CloneMax = Math.Max(0, max);
                rsc.CloneNodeMax = Math.Max(0, ToInt(rsc.MetaValue("clone-node-max"), 1));
                rsc.PromotedMax = Math.Max(0, ToInt(rsc.MetaValue("promoted-max") ?? rsc.MetaValue("master-max"), 1));
                rsc.PromotedNodeMax = Math.Max(0, ToInt(rsc.MetaValue("promoted-node-max") ?? rsc.MetaValue("master-node-max"), 1));
                rsc.Interleave = Truth.IsTrue(rsc.MetaValue("interleave"));
                rsc.Ordered = Truth.IsTrue(rsc.MetaValue("ordered"));
                rsc.Notify = Truth.IsTrue(rsc.MetaValue("notify"));
                rsc.GloballyUnique = Truth.IsTrue(rsc.MetaValue("globally-unique"));
                foreach (var t in c.Child.SelfAndDescendants()) _cloneOfTemplate[t.Id] = rsc;
                for (var i = 0; i < rsc.CloneMax; i++)
                    AddCloneInstance(rsc, i, orphan: false);
                break;
        }
        if (rsc.Kind == RscKind.Primitive) _primitives.Add(rsc);
        return rsc;
    }

    private Rsc? AddCloneInstance(Rsc clone, int i, bool orphan)
    {
        var child = ((Clone)clone.Config).Child;
        var inst = BuildResource(child, clone, i);
        if (inst is null) return null;
        foreach (var x in SelfAndDescendants(inst))
        {
            x.Unique = clone.GloballyUnique;
            x.Orphan = orphan;
        }
        clone.Children.Add(inst);
        return inst;
    }

    private static IEnumerable<Rsc> SelfAndDescendants(Rsc r)
    {
        yield return r;
        foreach (var c in r.Children)
            foreach (var d in SelfAndDescendants(c)) yield return d;
    }

    private void ApplyMeta(Rsc rsc)
    {
        rsc.Priority = ToInt(rsc.MetaValue("priority"), 0);
        var stick = rsc.MetaValue("resource-stickiness");
        if (stick is not null && stick != "default") rsc.Stickiness = ToInt(stick, 0);
        else if (rsc.Kind == RscKind.Clone || rsc.Parent is { Kind: RscKind.Clone } || rsc.Parent?.Parent is { Kind: RscKind.Clone })
            rsc.Stickiness = 1; // Pacemaker 2.1 gives clones a default stickiness of 1
        var mt = rsc.MetaValue("migration-threshold");
        if (mt is not null) rsc.MigrationThreshold = ToInt(mt, Score.InfinityValue);
        if (rsc.MetaValue("failure-timeout") is { } ft && Duration.TryParse(ft, out var fts)) rsc.FailureTimeoutS = (long)fts.TotalSeconds;
        rsc.Managed = !Truth.IsFalse(rsc.MetaValue("is-managed")) && !_maintenanceMode && !Truth.IsTrue(rsc.MetaValue("maintenance"));
        if (rsc.MetaValue("target-role") is { } tr && Roles.TryParse(tr, out var role) && role != Role.Unknown) rsc.TargetRole = role;
        rsc.Colocated = !Truth.IsFalse(rsc.MetaValue("collocated"));
        rsc.Ordered = rsc.Kind == RscKind.Group ? !Truth.IsFalse(rsc.MetaValue("ordered")) : rsc.Ordered;
    }

    private Rsc? FindRsc(string? id) => id is not null && _rscById.TryGetValue(id, out var r) ? r : null;

    // ---------------------------------------------------------------- status

    /// <summary>Each configured node's status entry (the first one counts), its transient attributes added to the node's.</summary>
    private Dictionary<NodeInfo, NodeState> UnpackNodeStates()
    {
        var stateByNode = new Dictionary<NodeInfo, NodeState>();
        foreach (var ns in _cib.Status?.Nodes ?? [])
        {
            var node = (ns.Uname is not null && _nodeByName.TryGetValue(ns.Uname, out var n1) ? n1 : null)
                       ?? _nodes.FirstOrDefault(n => n.Id == ns.Id);
            if (node is null || stateByNode.ContainsKey(node)) continue;
            stateByNode[node] = ns;
            _statusOrder[node] = _statusOrder.Count;
            foreach (var kv in Flatten(ns.TransientAttributes)) node.Attributes[kv.Key] = kv.Value;
        }
        return stateByNode;
    }

    private void UnpackStatus()
    {
        var stateByNode = UnpackNodeStates();
        foreach (var node in _nodes)
        {
            node.Standby = Truth.IsTrue(node.Attribute("standby"));
            node.Maintenance = Truth.IsTrue(node.Attribute("maintenance"));
            if (stateByNode.TryGetValue(node, out var ns)) DetermineOnline(node, ns);
            else node.Unclean = _startupFencing && _stonithEnabled; // never seen: unclean until fenced (startup-fencing)
        }
        // Resource history: online nodes first, then the others, each in configuration order.
        var ordered = stateByNode.OrderBy(kv => kv.Key.Online ? 0 : 1).ThenBy(kv => kv.Key.Index).ToList();
        foreach (var (node, ns) in ordered)
        {
            // Without fencing, the history of a node that is cleanly offline is not trusted: its
            // resources count as stopped there and are recovered elsewhere (Pacemaker does the same).
            if (!_stonithEnabled && !node.Online && !node.Unclean) continue;
            foreach (var lrm in ns.Resources) UnpackLrmResource(node, lrm);
        }
        foreach (var rsc in _primitives.ToList())
        {
            // Nothing is done to a resource active on a node in maintenance.
            if (rsc.RunningOn.Any(n => n.Maintenance)) rsc.Managed = false;
            if (rsc.RunningOn.Count > 1)
            {
                rsc.Role = rsc.RoleOn.Values.Max();
                // multiple-active: stop_start (default) recovers in place; stop_only stops everywhere; block leaves it alone
                switch (rsc.MetaValue("multiple-active"))
                {
                    case "stop_only": rsc.NextRole = Role.Stopped; break;
                    case "block": rsc.Managed = false; rsc.Blocked = true; break;
                }
            }
            // target-role=Promoted is what promotion does anyway (and an error elsewhere): it sets no role limit.
            if (rsc.TargetRole is { } t && t != Role.Promoted && (rsc.NextRole == Role.Unknown || t < rsc.NextRole)) rsc.NextRole = t;
            _unpackedNextRole[rsc] = rsc.NextRole;
        }

    }

    private void DetermineOnline(NodeInfo node, NodeState ns)
    {
        node.Unseen = false;
        var inCcm = IsTrueOrStamp(ns.InCcm);
        var crmdOnline = ns.Crmd is not null && (ns.Crmd.Equals("online", StringComparison.OrdinalIgnoreCase) || IsStamp(ns.Crmd));
        var join = ns.Join?.ToLowerInvariant();
        var expected = ns.Expected?.ToLowerInvariant() ?? "down";
        node.ExpectedUp = expected == "member";
        var shutdownAttr = node.Attribute("shutdown");
        node.Shutdown = shutdownAttr is not null && shutdownAttr != "0" && shutdownAttr.Length > 0;
        var terminateAttr = node.Attribute("terminate");
        var terminate = Truth.IsTrue(terminateAttr) || (terminateAttr is { Length: > 0 } && terminateAttr[0] != '0' && char.IsAsciiDigit(terminateAttr[0]));
        bool online;
        if (_stonithEnabled)
        {
            online = inCcm;
            if (node.Shutdown) online = crmdOnline;
            else if (ns.InCcm is null) node.Unclean = true;
            else if (join == "banned") node.Unclean = true;
            else if (!terminate && expected == "down")
            {
                if (inCcm || crmdOnline) { node.Standby = true; node.Pending = true; }
            }
            else if (terminate && join == "down" && !inCcm && !crmdOnline) online = false;
            else if (!inCcm) node.Unclean = true;
            else if (!crmdOnline) node.Unclean = true;
            else if (terminate) node.Unclean = true;
            else if (join == "member") { }
            else if (join is "pending" or "down") { node.Standby = true; node.Pending = true; }
            else node.Unclean = true;
        }
        else
        {
            online = false;
            if (!inCcm) { }
            else if (crmdOnline) online = join == "member";
            else if (!node.ExpectedUp) { }
            else node.Unclean = true;
        }
        node.Online = online;
    }

    private static bool IsStamp(string s) => long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0;
    private static bool IsTrueOrStamp(string? s) => s is not null && (Truth.IsTrue(s) || IsStamp(s));

    private void UnpackLrmResource(NodeInfo node, LrmResource lrm)
    {
        var id = lrm.Id;
        var colon = id.LastIndexOf(':');
        var baseId = colon > 0 && int.TryParse(id.AsSpan(colon + 1), out _) ? id[..colon] : id;
        // The configuration the history is judged by (on-fail, failure-timeout): for an anonymous
        // clone any instance will do, they share one definition.
        var template = FindRsc(id) ?? FindRsc(baseId) ??
                       (_cloneOfTemplate.TryGetValue(baseId, out var tc0) && tc0.Children.Count > 0 ? Member(tc0.Children[0], baseId) : null);
        var result = Replay(node, lrm, template);
        Rsc? rsc = FindRsc(id);
        if (rsc is not null && rsc.Kind != RscKind.Primitive) rsc = null;
        if (rsc is not null && rsc.IsCloneInstance is false && rsc.Parent?.Parent is not { Kind: RscKind.Clone } && rsc.CloneParent is not null)
            rsc = null;
        var def = FindRsc(baseId);
        var clone = def?.CloneParent ?? rsc?.CloneParent ?? (_cloneOfTemplate.TryGetValue(baseId, out var tc) ? tc : null);
        if (clone is null && rsc is null && def is { Kind: RscKind.Primitive, CloneParent: null }) rsc = def;
        if (clone is not null)
        {
            if (!clone.GloballyUnique)
                rsc = FindAnonymousInstance(clone, baseId, node);
            else if (rsc is null || rsc.CloneParent != clone)
                rsc = OrphanCloneInstance(clone, id, baseId);
        }
        rsc ??= OrphanPrimitive(lrm);
        if (rsc is null) return;
        rsc.KnownOn.Add(node.Index);
        Apply(rsc, node, result);
        if (result.Active) _activeHistories.Add((rsc, node, lrm));
        if (clone is { GloballyUnique: false }) _anonymousHistory.Add((node, clone, id, baseId, rsc, result.Active));
    }

    /// <summary>The clone that holds each primitive or group id written inside a clone's template.</summary>
    private readonly Dictionary<string, Rsc> _cloneOfTemplate = new(StringComparer.Ordinal);

    /// <summary>
    /// Which instance of an anonymous clone a history entry belongs to (instance numbers in the
    /// history mean nothing): the instance already active on this node, else the first instance
    /// active nowhere; a second active history on one node becomes an orphan instance.
    /// </summary>
    private Rsc? FindAnonymousInstance(Rsc clone, string baseId, NodeInfo node)
    {
        Rsc? found = null, inactive = null;
        var skipInactive = false;
        foreach (var inst in clone.Children.ToList())
        {
            var locations = ActiveNodes(inst);
            if (locations.Count > 0)
            {
                if (locations[0] != node) continue;
                var member = Member(inst, baseId);
                if (member is null) continue;
                if (member.RunningOn.Count > 0) { skipInactive = true; found = null; break; }
                else { found = member; break; } // the first instance active here wins
            }
            else if (!skipInactive && inactive is null && !inst.Primitives().Any(p => p.Blocked))
            {
                inactive = Member(inst, baseId);
            }
        }
        if (found is null && !skipInactive && inactive is not null) found = inactive;
        // An instance that does not need fencing must not take an instance number on a node that
        // is down or unclean (its copy there counts as an orphan), unless the clone runs everywhere.
        if (found is not null && !NeedsFencing(found) && (!node.Online || node.Unclean) && clone.CloneMax != NodeCount) found = null;
        if (found is not null) return found;
        var orphan = AddCloneInstance(clone, clone.Children.Count, orphan: true);
        return orphan is null ? null : Member(orphan, baseId);
    }

    /// <summary>requires=fencing (the default with fencing enabled, except for fencing devices) or unfencing.</summary>
    private bool NeedsFencing(Rsc r)
    {
        var requires = r.MetaValue("requires") ?? r.CloneParent?.MetaValue("requires");
        if (requires is null) return _stonithEnabled && !r.IsFencing;
        return requires is "fencing" or "unfencing";
    }

    private static Rsc? Member(Rsc inst, string baseId) =>
        SelfAndDescendants(inst).FirstOrDefault(x => x.Kind == RscKind.Primitive && x.Prim!.Id == baseId);

    private Rsc? OrphanCloneInstance(Rsc clone, string id, string baseId)
    {
        var colon = id.LastIndexOf(':');
        var no = colon > 0 && int.TryParse(id.AsSpan(colon + 1), out var n) ? n : clone.Children.Count;
        if (FindRsc(id) is { } existing) return existing;
        var inst = BuildResource(((Clone)clone.Config).Child, clone, no);
        if (inst is null) return null;
        foreach (var x in SelfAndDescendants(inst)) { x.Unique = true; x.Orphan = true; }
        clone.Children.Add(inst);
        return SelfAndDescendants(inst).FirstOrDefault(x => x.Kind == RscKind.Primitive && x.Prim!.Id == baseId);
    }

    private Rsc OrphanPrimitive(LrmResource lrm)
    {
        var prim = new Primitive(lrm.Id, lrm.Class ?? "ocf", lrm.Provider, lrm.Type ?? "unknown");
        var rsc = new Rsc(lrm.Id, RscKind.Primitive, prim) { Orphan = true };
        foreach (var kv in _rscDefaults) rsc.Meta.TryAdd(kv.Key, kv.Value);
        ApplyMeta(rsc);
        // (A history named like a group or clone belongs to no configured primitive: an orphan
        // that must not shadow the collective of the same name.)
        _rscById.TryAdd(lrm.Id, rsc);
        _top.Add(rsc);
        _primitives.Add(rsc);
        rsc.Allowed = new int[NodeCount];
        Array.Fill(rsc.Allowed, Rsc.Absent);
        if (!_stopOrphans) rsc.Managed = false;
        return rsc;
    }

}
