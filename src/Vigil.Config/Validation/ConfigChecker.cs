using Regex = System.Text.RegularExpressions.Regex;
using RegexOptions = System.Text.RegularExpressions.RegexOptions;
using Vigil.Config.Crm;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Validation;

/// <summary>
/// Semantic checks over a parsed configuration, like <c>crm_verify</c>: references, duplicate ids,
/// impossible or contradictory constraints, option values, fencing and quorum settings, and (with a
/// catalog) agent parameters against the agents' meta-data. Never throws; returns diagnostics.
/// </summary>
public sealed class ConfigChecker
{
    private readonly Configuration _config;
    private readonly IReadOnlyDictionary<string, SourceLocation> _locations;
    private readonly string _source;
    private readonly IAgentCatalog? _agents;
    private readonly List<Diagnostic> _d = [];
    private readonly Dictionary<string, Resource> _resources = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Resource> _parents = new(StringComparer.Ordinal);

    private ConfigChecker(Configuration config, string source, IReadOnlyDictionary<string, SourceLocation>? locations, IAgentCatalog? agents)
    {
        _config = config;
        _source = source;
        _locations = locations ?? new Dictionary<string, SourceLocation>();
        _agents = agents;
    }

    public static IReadOnlyList<Diagnostic> Check(Configuration config, string source, IReadOnlyDictionary<string, SourceLocation>? locations = null, IAgentCatalog? agents = null)
    {
        var c = new ConfigChecker(config, source, locations, agents);
        c.Run();
        return c._d;
    }

    private void Run()
    {
        IndexResources();
        CheckDuplicateIds();
        CheckProperties();
        foreach (var r in _config.AllResources()) CheckResource(r);
        foreach (var k in _config.Constraints) CheckConstraint(k);
        CheckOrderLoops();
        CheckContradictions();
        CheckFencing();
        CheckDefaults();
    }

    private SourceLocation At(string id) => _locations.TryGetValue(id, out var l) ? l : new SourceLocation(_source, 0, 0);

    private void Add(Severity s, string code, string message, string atId, string? hint = null) =>
        _d.Add(new Diagnostic(s, code, message, At(atId)) { Hint = hint });

    private void IndexResources()
    {
        foreach (var top in _config.Resources)
            foreach (var r in top.SelfAndDescendants())
            {
                _resources.TryAdd(r.Id, r);
                switch (r)
                {
                    case Group g: foreach (var c in g.Children) _parents[c.Id] = g; break;
                    case Clone cl: _parents[cl.Child.Id] = cl; break;
                }
            }
    }

    // ----- ids -----------------------------------------------------------------------------------

    private void CheckDuplicateIds()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        void Id(string? id, string what)
        {
            if (string.IsNullOrEmpty(id)) return;
            if (!seen.Add(id))
                Add(Severity.Error, "VV001", $"the id '{id}' is used more than once (again by a {what})", id, "every element needs its own id; rename one");
        }
        void Sets(IEnumerable<AttributeSet> sets, string what)
        {
            foreach (var s in sets)
            {
                if (s.IdRef is null) Id(s.Id, what);
                foreach (var p in s.Pairs) if (p.IdRef is null) Id(p.Id, "name/value pair");
                if (s.Rule is not null) RuleIds(s.Rule);
            }
        }
        void RuleIds(Rule r)
        {
            if (r.IdRef is null) Id(r.Id, "rule");
            foreach (var e in r.Expressions)
            {
                if (e is Rule nested) RuleIds(nested);
                else Id(e.Id, "expression");
                if (e is DateExpression d) { Id(d.DateSpec?.Id, "date_spec"); Id(d.Duration?.Id, "duration"); }
            }
        }
        Sets(_config.Properties, "property set");
        foreach (var n in _config.Nodes) { Id(n.Id, "node"); Sets(n.InstanceAttributes, "node attribute set"); Sets(n.Utilization, "node utilization set"); }
        foreach (var r in _config.AllResources())
        {
            Id(r.Id, "resource");
            Sets(r.InstanceAttributes, "parameter set");
            Sets(r.MetaAttributes, "meta attribute set");
            Sets(r.Utilization, "utilization set");
            if (r is Primitive p)
                foreach (var op in p.Operations) { Id(op.Id, "operation"); Sets(op.InstanceAttributes, "operation parameter set"); Sets(op.MetaAttributes, "operation meta set"); }
        }
        foreach (var k in _config.Constraints)
        {
            Id(k.Id, "constraint");
            var sets = k switch { LocationConstraint l => l.Sets, ColocationConstraint c => c.Sets, OrderConstraint o => o.Sets, _ => [] };
            foreach (var s in sets) if (s.IdRef is null) Id(s.Id, "resource set");
            if (k is LocationConstraint loc) foreach (var r in loc.Rules) RuleIds(r);
        }
        Sets(_config.ResourceDefaults, "rsc_defaults set");
        Sets(_config.OperationDefaults, "op_defaults set");
        foreach (var l in _config.FencingTopology) Id(l.Id, "fencing level");
    }

    // ----- options --------------------------------------------------------------------------------

    private void CheckValue(KnownOptions.Option o, string? value, string atId, string owner)
    {
        if (value is null) return;
        bool ok = o.Kind switch
        {
            KnownOptions.Kind.Boolean => Truth.IsBoolean(value),
            KnownOptions.Kind.Score => Score.TryParse(value, out _),
            KnownOptions.Kind.Integer => long.TryParse(value, out _),
            KnownOptions.Kind.NonNegativeInteger => long.TryParse(value, out var n) && n >= 0,
            KnownOptions.Kind.Duration => Duration.TryParse(value, out _),
            KnownOptions.Kind.Choice => o.Choices.Contains(value),
            KnownOptions.Kind.Role => Roles.TryParse(value, out _),
            _ => true,
        };
        if (ok) return;
        var expected = o.Kind switch
        {
            KnownOptions.Kind.Boolean => "true or false",
            KnownOptions.Kind.Score => "an integer, INFINITY or -INFINITY",
            KnownOptions.Kind.Integer => "an integer",
            KnownOptions.Kind.NonNegativeInteger => "a whole number ≥ 0",
            KnownOptions.Kind.Duration => "a duration such as 30s, 5min or 500ms",
            KnownOptions.Kind.Choice => "one of " + string.Join(", ", o.Choices),
            KnownOptions.Kind.Role => "Started, Stopped, Promoted or Unpromoted",
            _ => "a valid value",
        };
        Add(Severity.Error, "VV010", $"{o.Name}='{value}' of {owner} is not valid", atId, $"write {expected}");
    }

    private void CheckProperties()
    {
        foreach (var set in _config.Properties)
            foreach (var p in set.Pairs)
            {
                if (KnownOptions.Properties.TryGetValue(p.Name, out var o))
                {
                    CheckValue(o, p.Value, set.Id, "the cluster");
                    if (p.Name == "default-resource-stickiness")
                        Add(Severity.Warning, "VV011", "default-resource-stickiness is deprecated", set.Id, $"write: rsc_defaults resource-stickiness={p.Value}");
                    if (p.Name == "is-managed-default")
                        Add(Severity.Warning, "VV011", "is-managed-default is deprecated", set.Id, $"write: rsc_defaults is-managed={p.Value}");
                }
                else
                    Add(Severity.Warning, "VV012", $"'{p.Name}' is not a cluster property Vigil knows; it has no effect", set.Id,
                        CrmParser.Suggest(p.Name, KnownOptions.Properties.Keys) ?? "check the spelling; known ones are listed by 'vigil property --list'");
            }
    }

    private void CheckMeta(IReadOnlyList<AttributeSet> sets, string ownerId, string owner, Dictionary<string, KnownOptions.Option> known)
    {
        foreach (var set in sets)
            foreach (var p in set.Pairs)
            {
                if (known.TryGetValue(p.Name, out var o)) { CheckValue(o, p.Value, ownerId, owner); continue; }
                // Unknown meta attributes are legal (agents see them); only likely typos are worth a warning.
                var suggestion = CrmParser.Suggest(p.Name, known.Keys);
                if (suggestion is not null)
                    Add(Severity.Warning, "VV013", $"meta attribute '{p.Name}' of {owner} is not one Pacemaker knows", ownerId, suggestion);
            }
    }

    private void CheckDefaults()
    {
        foreach (var s in _config.ResourceDefaults) CheckMeta([s], s.Id, "rsc_defaults", KnownOptions.ResourceMeta);
        foreach (var s in _config.OperationDefaults) CheckMeta([s], s.Id, "op_defaults", KnownOptions.OperationDefaults);
    }

    // ----- resources ------------------------------------------------------------------------------

    private bool IsPromotable(string id)
    {
        if (!_resources.TryGetValue(id, out var r)) return false;
        if (r is Clone c) return c.IsPromotable;
        while (_parents.TryGetValue(r.Id, out var parent))
        {
            if (parent is Clone pc) return pc.IsPromotable;
            r = parent;
        }
        return false;
    }

    private void CheckResource(Resource r)
    {
        var owner = $"'{r.Id}'";
        CheckMeta(r.MetaAttributes, r.Id, owner, KnownOptions.ResourceMeta);
        if (r is Clone c)
        {
            var meta = c.MetaAttributes.Flatten();
            if (!c.IsPromotable)
                foreach (var name in new[] { "promoted-max", "promoted-node-max", "master-max", "master-node-max" })
                    if (meta.ContainsKey(name))
                        Add(Severity.Warning, "VV020", $"{name} has no effect: clone '{c.Id}' is not promotable", c.Id, $"add meta promotable=true to clone '{c.Id}'");
            if (meta.TryGetValue("target-role", out var tr) && Roles.TryParse(tr, out var role) && role == Role.Promoted && !c.IsPromotable)
                Add(Severity.Error, "VV021", $"target-role={tr} needs a promotable clone, but '{c.Id}' is not", c.Id, "set target-role=Started or make the clone promotable");
            if (c.Child is Primitive cp && cp.IsFencingDevice)
                Add(Severity.Error, "VV022", $"fencing device '{cp.Id}' cannot be cloned", c.Id, "define the stonith primitive on its own; the fencer runs it from any node");
        }
        if (r is Group g)
            foreach (var m in g.Children.Where(m => m.IsFencingDevice))
                Add(Severity.Error, "VV022", $"fencing device '{m.Id}' cannot be in group '{g.Id}'", m.Id, "define the stonith primitive on its own");
        if (r is not Primitive p) return;
        var promotable = IsPromotable(p.Id);
        var seen = new Dictionary<(string, long), Operation>();
        foreach (var op in p.Operations)
        {
            var key = (op.Name, (long)op.IntervalValue.TotalMilliseconds);
            if (seen.TryGetValue(key, out var other))
                Add(Severity.Error, "VV023", $"operations '{other.Id}' and '{op.Id}' of '{p.Id}' are both {op.Name} every {op.Interval}", p.Id,
                    "Pacemaker identifies an operation by name and interval; give one of them a different interval (e.g. 29s and 31s)");
            else seen[key] = op;
            if (op.IntervalValue > TimeSpan.Zero && op.Name is "start" or "stop" or "promote" or "demote" or "migrate_to" or "migrate_from")
                Add(Severity.Error, "VV024", $"{op.Name} of '{p.Id}' has interval {op.Interval}; only monitor operations recur", p.Id, $"write interval=0 for {op.Name}");
            if (op.Role is { } rl && Roles.TryParse(rl, out var opRole) && opRole is Role.Promoted or Role.Unpromoted && !promotable)
                Add(Severity.Warning, "VV025", $"operation '{op.Id}' runs in role {rl}, but '{p.Id}' is not in a promotable clone", p.Id, "remove role=… or make the clone promotable");
            if (op.Role is { } lr && Roles.IsLegacySpelling(lr))
                Add(Severity.Info, "VV026", $"role {lr} in '{op.Id}' is the old name", p.Id, $"write role={(lr.Equals("master", StringComparison.OrdinalIgnoreCase) ? "Promoted" : "Unpromoted")}");
        }
        CheckAgent(p);
    }

    private void CheckAgent(Primitive p)
    {
        if (_agents is null || p.Template is not null) return;
        AgentLookup found;
        try { found = _agents.Find(p.Class, p.Provider, p.Type); }
        catch (Exception e) { found = new AgentLookup(AgentLookupStatus.MetadataUnreadable, Reason: e.Message); }
        switch (found.Status)
        {
            case AgentLookupStatus.NotInstalled:
                Add(Severity.Warning, "VV030", $"agent {p.Agent} of '{p.Id}' is not installed on this machine", p.Id,
                    found.Reason ?? "install it on every node that may run the resource (for OCF agents: Debian package resource-agents), or fix the name");
                return;
            case AgentLookupStatus.MetadataUnreadable:
                Add(Severity.Warning, "VV031", $"the meta-data of {p.Agent} could not be read, so the parameters of '{p.Id}' were not checked", p.Id, found.Reason);
                return;
        }
        var desc = found.Description!;
        var given = p.InstanceAttributes.Flatten();
        foreach (var param in desc.Parameters)
            if (param.Required && string.IsNullOrEmpty(param.Default) && !given.ContainsKey(param.Name))
                Add(Severity.Error, "VV032", $"'{p.Id}' lacks the required parameter '{param.Name}' of {p.Agent}", p.Id, $"add: params {param.Name}=…");
        if (!desc.ParametersKnown) return;
        var names = desc.Parameters.Select(x => x.Name).ToList();
        foreach (var name in given.Keys)
        {
            if (p.IsFencingDevice && name.StartsWith("pcmk_", StringComparison.Ordinal)) continue;
            if (names.Contains(name)) continue;
            Add(Severity.Warning, "VV033", $"{p.Agent} has no parameter '{name}' (given to '{p.Id}')", p.Id,
                CrmParser.Suggest(name, names) ?? $"see 'vigil agent info {p.Agent}' for its parameters");
        }
    }

    // ----- constraints ----------------------------------------------------------------------------

    private void Ref(string? id, string constraintId, string role)
    {
        if (id is null || _resources.ContainsKey(id)) return;
        Add(Severity.Error, "VV040", $"constraint '{constraintId}' refers to {role} '{id}', which does not exist", constraintId,
            CrmParser.Suggest(id, _resources.Keys) ?? "define the resource or correct the name");
    }

    private void RoleRef(string? resource, string? role, string constraintId)
    {
        if (resource is null || role is null) return;
        if (!Roles.TryParse(role, out var r))
        {
            Add(Severity.Error, "VV041", $"'{role}' in constraint '{constraintId}' is not a role", constraintId, "use Started, Promoted or Unpromoted");
            return;
        }
        if (r is Role.Promoted or Role.Unpromoted && _resources.ContainsKey(resource) && !IsPromotable(resource))
            Add(Severity.Warning, "VV042", $"constraint '{constraintId}' uses role {role} of '{resource}', which is not promotable, so it never applies", constraintId,
                "drop the role or make the resource a promotable clone");
        if (Roles.IsLegacySpelling(role))
            Add(Severity.Info, "VV026", $"role {role} in '{constraintId}' is the old name", constraintId, $"write {(r == Role.Promoted ? "Promoted" : "Unpromoted")}");
    }

    private void ActionRef(string? resource, string? action, string constraintId)
    {
        if (resource is null || action is null) return;
        if (action is not ("start" or "stop" or "promote" or "demote"))
        {
            Add(Severity.Error, "VV043", $"'{action}' in order '{constraintId}' is not an action", constraintId, "use start, stop, promote or demote");
            return;
        }
        if (action is "promote" or "demote" && _resources.ContainsKey(resource) && !IsPromotable(resource))
            Add(Severity.Warning, "VV044", $"order '{constraintId}' waits for {action} of '{resource}', which is not promotable, so it never happens", constraintId,
                "order on start, or make the resource a promotable clone");
    }

    private void CheckConstraint(Constraint k)
    {
        var nodeNames = _config.Nodes.Select(n => n.Uname).ToHashSet(StringComparer.Ordinal);
        switch (k)
        {
            case LocationConstraint l:
                Ref(l.Resource, l.Id, "resource");
                foreach (var s in l.Sets) foreach (var r in s.Resources) Ref(r, l.Id, "resource");
                if (l.ResourcePattern is not null)
                {
                    try { _ = new Regex(l.ResourcePattern, RegexOptions.None, TimeSpan.FromSeconds(1)); }
                    catch (ArgumentException e) { Add(Severity.Error, "VV045", $"rsc-pattern '{l.ResourcePattern}' of '{l.Id}' is not a regular expression: {e.Message}", l.Id); }
                }
                if (l.Node is not null && nodeNames.Count > 0 && !nodeNames.Contains(l.Node))
                    Add(Severity.Warning, "VV046", $"location '{l.Id}' names node '{l.Node}', which is not among the configured nodes", l.Id,
                        CrmParser.Suggest(l.Node, nodeNames) ?? "check the node name ('vigil node list')");
                RoleRef(l.Resource, l.Role, l.Id);
                foreach (var r in l.Rules) RoleRef(l.Resource, r.Role, l.Id);
                if (l.Rules.Count == 0 && l.Score is null)
                    Add(Severity.Error, "VV047", $"location '{l.Id}' has no score", l.Id, "give it a score or a rule");
                break;
            case ColocationConstraint c:
                Ref(c.Resource, c.Id, "resource");
                Ref(c.WithResource, c.Id, "resource");
                RoleRef(c.Resource, c.ResourceRole, c.Id);
                RoleRef(c.WithResource, c.WithResourceRole, c.Id);
                foreach (var s in c.Sets) foreach (var r in s.Resources) { Ref(r, c.Id, "resource"); RoleRef(r, s.Role, c.Id); }
                if (c.Resource is not null && c.Resource == c.WithResource)
                    Add(Severity.Error, "VV048", $"colocation '{c.Id}' places '{c.Resource}' relative to itself", c.Id, "name two different resources");
                if (c.Resource is not null && c.WithResource is not null && InSameGroup(c.Resource, c.WithResource))
                    Add(Severity.Warning, "VV049", $"colocation '{c.Id}' is redundant: '{c.Resource}' and '{c.WithResource}' are in the same group", c.Id, "a group already keeps its members together");
                break;
            case OrderConstraint o:
                Ref(o.First, o.Id, "resource");
                Ref(o.Then, o.Id, "resource");
                ActionRef(o.First, o.FirstAction, o.Id);
                ActionRef(o.Then, o.ThenAction, o.Id);
                foreach (var s in o.Sets) foreach (var r in s.Resources) { Ref(r, o.Id, "resource"); ActionRef(r, s.Action, o.Id); }
                if (o.First is not null && o.First == o.Then && (o.FirstAction ?? "start") == (o.ThenAction ?? "start"))
                    Add(Severity.Error, "VV050", $"order '{o.Id}' orders '{o.First}' after itself", o.Id, "name two different resources");
                break;
        }
    }

    private bool InSameGroup(string a, string b) =>
        _parents.TryGetValue(a, out var pa) && _parents.TryGetValue(b, out var pb) && pa is Group && ReferenceEquals(pa, pb);

    /// <summary>Mandatory start orders that form a cycle can never be satisfied.</summary>
    private void CheckOrderLoops()
    {
        var edges = new Dictionary<string, List<(string To, string Constraint)>>(StringComparer.Ordinal);
        foreach (var o in _config.Constraints.OfType<OrderConstraint>())
        {
            if (o.Sets.Count > 0 || o.First is null || o.Then is null) continue;
            var kind = o.Kind ?? (o.Score is { Value: 0 } ? "Optional" : "Mandatory");
            if (kind != "Mandatory") continue;
            if ((o.FirstAction ?? "start") != "start" || (o.ThenAction ?? o.FirstAction ?? "start") != "start") continue;
            if (!edges.TryGetValue(o.First, out var list)) edges[o.First] = list = [];
            list.Add((o.Then, o.Id));
        }
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done
        var path = new List<string>();
        foreach (var start in edges.Keys.OrderBy(x => x, StringComparer.Ordinal))
            Visit(start);

        void Visit(string node)
        {
            if (state.TryGetValue(node, out var s)) { if (s == 2) return; }
            state[node] = 1;
            if (edges.TryGetValue(node, out var outs))
                foreach (var (to, cid) in outs)
                {
                    if (state.TryGetValue(to, out var ts) && ts == 1)
                    {
                        Add(Severity.Error, "VV051", $"mandatory orders form a loop: {string.Join(" → ", path.Append(node).Append(to).SkipWhile(x => x != to))} (closed by '{cid}')", cid,
                            "remove one of these orders or make it Optional: the resources could never start");
                        continue;
                    }
                    if (!state.ContainsKey(to)) { path.Add(node); Visit(to); path.RemoveAt(path.Count - 1); }
                }
            state[node] = 2;
        }
    }

    private void CheckContradictions()
    {
        var cols = _config.Constraints.OfType<ColocationConstraint>().Where(c => c.Sets.Count == 0 && c.Score is not null).ToList();
        foreach (var a in cols.Where(c => c.Score!.Value.IsInfinity))
            foreach (var b in cols.Where(c => c.Score!.Value.IsMinusInfinity))
                if (SamePair(a, b))
                    Add(Severity.Error, "VV052", $"colocations '{a.Id}' (+INFINITY) and '{b.Id}' (-INFINITY) demand that '{a.Resource}' both runs and never runs with '{a.WithResource}'", b.Id,
                        "remove one of them; as written the resource can never run");
        var locs = _config.Constraints.OfType<LocationConstraint>().Where(l => l.Node is not null && l.Score is not null && l.Resource is not null && l.Role is null).ToList();
        foreach (var a in locs.Where(l => l.Score!.Value.IsInfinity))
            foreach (var b in locs.Where(l => l.Score!.Value.IsMinusInfinity && l.Resource == a.Resource && l.Node == a.Node))
                Add(Severity.Warning, "VV053", $"locations '{a.Id}' and '{b.Id}' give '{a.Resource}' both +INFINITY and -INFINITY on '{a.Node}'; -INFINITY wins", b.Id,
                    "remove the one you did not mean (a forgotten 'move' or 'ban'? see 'vigil resource clear')");

        static bool SamePair(ColocationConstraint a, ColocationConstraint b) =>
            (a.Resource == b.Resource && a.WithResource == b.WithResource || a.Resource == b.WithResource && a.WithResource == b.Resource)
            && (a.ResourceRole ?? "") == (b.ResourceRole ?? "") && (a.WithResourceRole ?? "") == (b.WithResourceRole ?? "");
    }

    // ----- fencing and quorum ----------------------------------------------------------------------

    private void CheckFencing()
    {
        var stonith = _config.Property("stonith-enabled");
        var enabled = stonith is null || !Truth.IsFalse(stonith);
        var devices = _config.AllResources().OfType<Primitive>().Where(p => p.IsFencingDevice).Select(p => p.Id).ToHashSet(StringComparer.Ordinal);
        var anchor = _config.Properties.FirstOrDefault()?.Id ?? "";
        var hasResources = _config.AllResources().OfType<Primitive>().Any(p => !p.IsFencingDevice);
        var watchdogText = _config.Property("stonith-watchdog-timeout");
        var lease = Duration.Positive(watchdogText) is not null;
        if (watchdogText is not null && !lease && watchdogText.Trim() != "0")
            Add(Severity.Warning, "VV068", $"stonith-watchdog-timeout '{watchdogText}' is not a positive duration, so lease self-fencing is off", anchor,
                "write a duration such as 5s (0 turns it off explicitly)");
        if (enabled && devices.Count == 0 && hasResources && !lease)
            Add(Severity.Error, "VV060", "fencing is enabled (stonith-enabled defaults to true) but no fencing device is configured, so no resource would start", anchor,
                "add a device: primitive fence1 stonith:fence_ipmilan params … — or use lease self-fencing: property stonith-watchdog-timeout=5s — or, knowing that a hung node may then keep running its resources: property stonith-enabled=false");
        if (enabled && lease && (_config.Property("no-quorum-policy") ?? "stop") is "ignore" or "freeze")
            Add(Severity.Warning, "VV067", $"stonith-watchdog-timeout is set but no-quorum-policy={_config.Property("no-quorum-policy")} keeps nodes without quorum running their resources, so lease self-fencing cannot be used", anchor,
                "use no-quorum-policy=stop (the default) with lease self-fencing, or configure a fence device");
        if (!enabled)
            Add(Severity.Warning, "VV061", "fencing is disabled (stonith-enabled=false): a node that stops answering may still run its resources while they start elsewhere (split brain)", anchor,
                "configure a fence device, or use lease self-fencing (property stonith-enabled=true stonith-watchdog-timeout=5s); 'vigil status' will show this risk");
        var nqp = _config.Property("no-quorum-policy");
        if (nqp == "ignore")
            Add(Severity.Warning, "VV062", "no-quorum-policy=ignore: each side of a split keeps running resources on its own", anchor,
                _config.Nodes.Count <= 2
                    ? "for two nodes prefer a witness (vigil witness) or fencing; ignore is allowed, as in many how-tos, but can split-brain"
                    : "with three or more nodes use stop (the default) or freeze");
        if (nqp == "suicide" && !enabled)
            Add(Severity.Warning, "VV063", "no-quorum-policy=suicide needs fencing to be enabled", anchor, "set stonith-enabled=true or choose stop");
        var nodeNames = _config.Nodes.Select(n => n.Uname).ToHashSet(StringComparer.Ordinal);
        foreach (var l in _config.FencingTopology)
        {
            foreach (var dev in l.Devices)
                if (!devices.Contains(dev))
                    Add(Severity.Error, "VV064", $"fencing level '{l.Id}' uses '{dev}', which is not a configured fencing device", l.Id,
                        CrmParser.Suggest(dev, devices) ?? $"define it: primitive {dev} stonith:fence_…");
            if (l.Target is not null && nodeNames.Count > 0 && !nodeNames.Contains(l.Target))
                Add(Severity.Warning, "VV065", $"fencing level '{l.Id}' targets '{l.Target}', which is not a configured node", l.Id,
                    CrmParser.Suggest(l.Target, nodeNames) ?? "check the node name");
        }
        var dup = _config.FencingTopology.GroupBy(l => (l.Target, l.TargetPattern, l.TargetAttribute, l.Index)).FirstOrDefault(g => g.Count() > 1);
        if (dup is not null)
            Add(Severity.Error, "VV066", $"two fencing levels have index {dup.Key.Index} for the same target", dup.Last().Id, "give each level of a target its own index");
    }
}
