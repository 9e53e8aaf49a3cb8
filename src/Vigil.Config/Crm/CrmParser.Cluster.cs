using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Crm;

public sealed partial class CrmParser
{
    private sealed class PendingSet(string id, CrmToken at)
    {
        public string Id { get; } = id;
        public CrmToken At { get; } = at;
        public List<(string Name, string Value, CrmToken Token)> Pairs { get; } = [];
    }

    private static readonly HashSet<string> NodeKeywords = ["attributes", "utilization"];
    private static readonly HashSet<string> ClusterMaintained = ["dc-version", "cluster-infrastructure", "last-lrm-refresh", "have-watchdog"];

    private void ParseNode(Cursor c)
    {
        var first = c.Expect("a node name", "write: node <name>  or  node <id>: <name>");
        string? id = null;
        CrmToken unameTok = first;
        if (first.IsAssignment && first.Name == "$id")
        {
            id = first.Value;
            unameTok = c.Expect("a node name", "write: node $id=<id> <name>");
        }
        else if (IsScoreToken(first))
        {
            // "node 1: node1" — id, then name.
            id = first.Text[..^1];
            unameTok = c.Expect("a node name after the id", $"write: node {first.Text} <name>");
        }
        var uname = unameTok.Text;
        string? type = null;
        var colon = uname.IndexOf(':');
        if (colon > 0)
        {
            type = uname[(colon + 1)..];
            uname = uname[..colon];
            if (type is not ("member" or "ping" or "remote" or "normal"))
                throw c.ErrorAt(unameTok, "VC070", $"'{type}' is not a node type", "use member (the default), ping or remote");
        }
        if (!IsValidId(uname) && !uname.All(ch => char.IsLetterOrDigit(ch) || ch is '-' or '.' or '_'))
            throw c.ErrorAt(unameTok, "VC071", $"'{uname}' is not a valid node name", "node names are host names: letters, digits, '-', '.'");
        id ??= uname;
        if (_nodes.Any(n => n.Uname == uname))
            throw c.ErrorAt(unameTok, "VC072", $"node '{uname}' is defined twice", "put all of its attributes into one 'node' line");
        if (!_ids.Claim(id) || _definedIds.ContainsKey(id))
            throw c.ErrorAt(first, "VC011", $"the node id '{id}' is already used", "give each node its own id");
        _definedIds[id] = Loc(first);
        string? description = null;
        var inst = new List<AttributeSet>();
        var util = new List<AttributeSet>();
        while (!c.AtEnd)
        {
            var t = c.Next();
            if (t.IsAssignment && t.Name == "description") { description = t.Value; continue; }
            switch (t.Text)
            {
                case "attributes": inst.Add(ParseAttrList(c, AttributeSetKind.Instance, uname, "instance_attributes", NodeKeywords)); break;
                case "utilization": util.Add(ParseAttrList(c, AttributeSetKind.Utilization, uname, "utilization", NodeKeywords)); break;
                default:
                    throw c.ErrorAt(t, "VC073", $"unexpected '{t.Text}' in node '{uname}'",
                        t.IsAssignment ? $"write: node {uname} attributes {t.Text}" : "after the name come: attributes name=value …, utilization name=value …");
            }
        }
        _nodes.Add(new Node(id, uname) { Type = type, Description = description, InstanceAttributes = inst, Utilization = util });
    }

    /// <summary>property / rsc_defaults / op_defaults: <c>[set-id:] [$id=set-id] name=value …</c>; repeated lines merge.</summary>
    private void ParseDefaults(Cursor c, List<PendingSet> sets, string defaultId, AttributeSetKind kind, string keyword)
    {
        string setId = defaultId;
        if (!c.AtEnd && IsScoreToken(c.Peek!)) setId = c.Next().Text[..^1];
        if (!c.AtEnd && c.Peek! is { IsAssignment: true, Name: "$id" }) setId = c.Next().Value!;
        if (!c.AtEnd && c.Peek!.Text == "rule")
            throw c.Error("VC005", $"rules in {keyword} are not supported in Vigil's crm syntax yet", "keep this part in CIB XML");
        if (c.AtEnd) throw c.Error("VC074", $"'{keyword}' needs name=value pairs", $"write: {keyword} name=value", atEnd: true);
        var set = sets.FirstOrDefault(s => s.Id == setId);
        if (set is null)
        {
            var at = c.Peek!;
            if (!IsValidId(setId) || _definedIds.ContainsKey(setId))
                throw c.ErrorAt(at, "VC011", $"the set id '{setId}' is invalid or already used", "choose another set id");
            _definedIds[setId] = Loc(at);
            set = new PendingSet(setId, at);
            sets.Add(set);
        }
        while (!c.AtEnd)
        {
            var t = c.Next();
            if (!t.IsAssignment || t.Name!.Length == 0)
                throw c.ErrorAt(t, "VC025", $"expected name=value, found '{t.Text}'", $"write: {keyword} {t.Text}=<value>");
            if (kind == AttributeSetKind.ClusterProperties && ClusterMaintained.Contains(t.Name))
            {
                // Copied from 'crm configure show' of a running cluster; the cluster writes these itself
                // (and Pacemaker 2's schema rejects old values such as cluster-infrastructure=openais).
                Info("VC080", $"'{t.Name}' is maintained by the running cluster, not configured; it was left out", t);
                continue;
            }
            _legacyRenamed = null;
            if (kind == AttributeSetKind.ClusterProperties && LegacyProperty(t)) continue;
            if (_legacyRenamed is { } renamed) t = t with { Name = renamed.Name };
            var i = set.Pairs.FindIndex(p => p.Name == t.Name);
            if (i >= 0)
            {
                if (set.Pairs[i].Value != t.Value)
                    Warn("VC026", $"{keyword} '{t.Name}' is set twice ({set.Pairs[i].Token.Line}: '{set.Pairs[i].Value}'); the later value '{t.Value}' is used", t, $"keep one {t.Name}=…");
                set.Pairs.RemoveAt(i);
            }
            set.Pairs.Add((t.Name, t.Value!, t));
        }
    }

    /// <summary>Pacemaker 1.1 property names that Pacemaker 2's schema refuses, and where they live now.</summary>
    private static readonly Dictionary<string, (string Section, string Name)> LegacyProperties = new(StringComparer.Ordinal)
    {
        ["default-resource-stickiness"] = ("rsc_defaults", "resource-stickiness"),
        ["default-resource-failure-stickiness"] = ("rsc_defaults", "migration-threshold"),
        ["default-migration-threshold"] = ("rsc_defaults", "migration-threshold"),
        ["is-managed-default"] = ("rsc_defaults", "is-managed"),
        ["default-action-timeout"] = ("op_defaults", "timeout"),
        ["expected-quorum-votes"] = ("", ""),
        ["notification-agent"] = ("", ""),
        ["notification-recipient"] = ("", ""),
        ["transition_idle_timeout"] = ("", ""),
    };

    private readonly List<(string Section, string Name, string Value, CrmToken Token)> _movedDefaults = [];

    /// <summary>Translates a legacy property; true when it was consumed.</summary>
    private bool LegacyProperty(CrmToken t)
    {
        var name = t.Name!;
        if (name.Contains('_') && !LegacyProperties.ContainsKey(name))
        {
            var hyphen = name.Replace('_', '-');
            Warn("VC081", $"property '{name}' is the old spelling; read as '{hyphen}'", t, $"write {hyphen}={t.Value}");
            name = hyphen;
        }
        if (!LegacyProperties.TryGetValue(name, out var target))
        {
            if (name != t.Name)
            {
                // Re-enter with the modern spelling.
                _legacyRenamed = (name, t.Value!, t);
            }
            return false;
        }
        if (target.Section.Length == 0)
        {
            Warn("VC082", $"property '{name}' is from Pacemaker 1.1 and has no effect any more; it was left out", t,
                name == "expected-quorum-votes" ? "votes come from the cluster membership; remove the line" : "remove it");
            return true;
        }
        Warn("VC083", $"property '{name}' is from Pacemaker 1.1; read as {target.Section} {target.Name}={t.Value}", t,
            $"write: {target.Section} {target.Name}={t.Value}");
        _movedDefaults.Add((target.Section, target.Name, t.Value!, t));
        return true;
    }

    private (string Name, string Value, CrmToken Token)? _legacyRenamed;

    private List<AttributeSet> BuildDefaults(List<PendingSet> sets, AttributeSetKind kind)
    {
        var result = new List<AttributeSet>();
        foreach (var s in sets)
        {
            _ids.Claim(s.Id);
            result.Add(MakeSet(kind, s.Id, s.Pairs.Select(p => (p.Name, p.Value)).ToList()));
        }
        return result;
    }

    /// <summary>fencing_topology [target: dev[,dev] …] …; levels without a target apply to every node.</summary>
    private void BuildFencing(CrmStatement st, int position)
    {
        var c = new Cursor(st, this) { Position = position };
        string? target = null;
        int index = 0;
        var untargeted = new List<(CrmToken Token, string[] Devices)>();
        while (!c.AtEnd)
        {
            var t = c.Next();
            if (t.IsAssignment) throw c.ErrorAt(t, "VC075", $"unexpected '{t.Text}' in fencing_topology", "write: fencing_topology <node>: <device>[,<device>] <device> …");
            if (t.Text.EndsWith(':'))
            {
                target = t.Text[..^1];
                index = 0;
                if (_levels.Any(l => l.Target == target))
                    throw c.ErrorAt(t, "VC076", $"fencing levels for '{target}' are given twice", "list all levels of a node after one '<node>:'");
                continue;
            }
            var devices = t.Text.Split(',', StringSplitOptions.RemoveEmptyEntries);
            if (target is null) { untargeted.Add((t, devices)); continue; }
            index++;
            if (index > 9) throw c.ErrorAt(t, "VC077", $"more than 9 fencing levels for '{target}'", "Pacemaker allows levels 1 to 9");
            _levels.Add(new FencingLevel(_ids.Next("fencing"), index, devices) { Target = target });
        }
        if (untargeted.Count > 0)
        {
            if (_nodes.Count == 0)
                throw c.ErrorAt(untargeted[0].Token, "VC078", "fencing_topology without a target needs the nodes to be defined", "write: fencing_topology <node>: <device> …");
            foreach (var n in _nodes)
            {
                int i = 0;
                foreach (var (_, devices) in untargeted)
                    _levels.Add(new FencingLevel(_ids.Next("fencing"), ++i, devices) { Target = n.Uname });
            }
        }
    }

    private void ApplyMovedDefaults()
    {
        foreach (var (section, name, value, token) in _movedDefaults)
        {
            var sets = section == "rsc_defaults" ? _rscDefaults : _opDefaults;
            var setId = section == "rsc_defaults" ? "rsc-options" : "op-options";
            var set = sets.FirstOrDefault();
            if (set is null)
            {
                set = new PendingSet(setId, token);
                _definedIds.TryAdd(setId, Loc(token));
                sets.Add(set);
            }
            if (set.Pairs.Any(p => p.Name == name))
            {
                Warn("VC084", $"{section} already sets {name}; the old property was ignored", token, "remove the old property");
                continue;
            }
            set.Pairs.Add((name, value, token));
        }
    }

    private Configuration Finish()
    {
        ApplyMovedDefaults();
        var resources = BuildResources();
        foreach (var (st, pos) in _fencingStatements)
        {
            try { BuildFencing(st, pos); }
            catch (CrmSyntaxException e) { _diagnostics.Add(e.Diagnostic); }
        }
        return new Configuration
        {
            Nodes = _nodes,
            Resources = resources,
            Constraints = _constraints.Select(x => x.Constraint).ToList(),
            Properties = BuildDefaults(_properties, AttributeSetKind.ClusterProperties),
            ResourceDefaults = BuildDefaults(_rscDefaults, AttributeSetKind.Meta),
            OperationDefaults = BuildDefaults(_opDefaults, AttributeSetKind.Meta),
            FencingTopology = _levels,
        };
    }
}
