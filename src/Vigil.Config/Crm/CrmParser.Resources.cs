using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Crm;

public sealed partial class CrmParser
{
    private sealed class PendingResource(string id, CrmToken token, string kind, int index)
    {
        public string Id { get; } = id;
        public CrmToken Token { get; } = token;
        public string Kind { get; } = kind; // primitive, group, clone
        public int Index { get; } = index;
        public Primitive? Primitive { get; set; }
        public List<CrmToken> Members { get; } = [];
        public bool LegacyMaster { get; set; }
        public string? Description { get; set; }
        public List<AttributeSet> Instance { get; } = [];
        public List<AttributeSet> Meta { get; } = [];
        public List<AttributeSet> Utilization { get; } = [];
        public PendingResource? Parent { get; set; }
    }

    internal static readonly HashSet<string> ResourceClasses = ["ocf", "lsb", "service", "systemd", "stonith", "nagios", "upstart", "vigil"];
    private static readonly HashSet<string> ClassesWithoutProvider = ["lsb", "service", "systemd", "stonith", "nagios", "upstart"];
    internal static readonly HashSet<string> OperationAttributes =
        ["timeout", "role", "on-fail", "enabled", "start-delay", "interval-origin", "record-pending", "requires", "description"];
    private static readonly HashSet<string> PrimitiveKeywords = ["params", "meta", "utilization", "op", "op_params", "op_meta"];
    private static readonly HashSet<string> ContainerKeywords = ["params", "meta"];

    private void ParsePrimitive(Cursor c)
    {
        var idTok = c.Expect("a resource id", "write: primitive <id> <class>:<provider>:<type> …");
        var id = DefineId(idTok, "resource");
        var agentTok = c.Expect("an agent such as ocf:heartbeat:IPaddr2", $"write: primitive {id} ocf:heartbeat:Dummy");
        var (cls, provider, type, template) = ParseAgent(agentTok, id);
        var pending = new PendingResource(id, idTok, "primitive", _resources.Count);
        var ops = new List<Operation>();
        List<AttributeSet>? lastOpInstance = null, lastOpMeta = null;
        Operation? lastOp = null;
        while (!c.AtEnd)
        {
            var t = c.Peek!;
            if (t.IsAssignment && t.Name == "description") { pending.Description = c.Next().Value; continue; }
            switch (t.Text)
            {
                case "params": c.Next(); pending.Instance.Add(ParseAttrList(c, AttributeSetKind.Instance, id, "instance_attributes", PrimitiveKeywords)); break;
                case "meta": c.Next(); pending.Meta.Add(ParseAttrList(c, AttributeSetKind.Meta, id, "meta_attributes", PrimitiveKeywords)); break;
                case "utilization": c.Next(); pending.Utilization.Add(ParseAttrList(c, AttributeSetKind.Utilization, id, "utilization", PrimitiveKeywords)); break;
                case "op":
                    c.Next();
                    if (lastOp is not null) ops.Add(lastOp with { InstanceAttributes = lastOpInstance!, MetaAttributes = lastOpMeta! });
                    (lastOp, lastOpInstance, lastOpMeta) = ParseOp(c, id);
                    break;
                case "op_params" or "op_meta":
                    var kwTok = c.Next();
                    if (lastOp is null) throw c.ErrorAt(kwTok, "VC013", $"'{kwTok.Text}' must follow an 'op'", "write it right after the operation it belongs to");
                    if (kwTok.Text == "op_params") lastOpInstance!.Add(ParseAttrList(c, AttributeSetKind.Instance, lastOp.Id, "instance_attributes", PrimitiveKeywords));
                    else lastOpMeta!.Add(ParseAttrList(c, AttributeSetKind.Meta, lastOp.Id, "meta_attributes", PrimitiveKeywords));
                    break;
                default:
                    throw c.Error("VC014", $"unexpected '{t.Text}' in primitive '{id}'",
                        t.IsAssignment ? $"put {t.Name}=… after 'params' (agent parameter) or 'meta' (resource option)"
                            : Suggest(t.Text, PrimitiveKeywords) ?? "after the agent come: params …, meta …, utilization …, op <name> …");
            }
        }
        if (lastOp is not null) ops.Add(lastOp with { InstanceAttributes = lastOpInstance!, MetaAttributes = lastOpMeta! });
        pending.Primitive = new Primitive(id, cls, provider, type) { Template = template, Operations = ops };
        _resources.Add(pending);
    }

    private (string cls, string? provider, string type, string? template) ParseAgent(CrmToken t, string id)
    {
        var text = t.Text;
        if (text.StartsWith('@'))
        {
            throw new CrmSyntaxException(Diag(Severity.Error, "VC005", "resource templates (@template) are not supported in Vigil's crm syntax yet", t,
                "write the agent directly, e.g. ocf:heartbeat:Dummy"));
        }
        var parts = text.Split(':');
        if (parts.Length == 4 && parts[1].Length == 0)
        {
            // "ocf::heartbeat:IPaddr2" is how old crm_mon printed agents.
            Warn("VC015", $"'{text}' has a doubled ':'", t, $"write {parts[0]}:{parts[2]}:{parts[3]}");
            parts = [parts[0], parts[2], parts[3]];
        }
        if (parts.Any(p => p.Length == 0))
            throw new CrmSyntaxException(Diag(Severity.Error, "VC016", $"'{text}' is not an agent name", t, "write class:provider:type (ocf:heartbeat:IPaddr2) or class:type (lsb:apache2, stonith:fence_ipmilan)"));
        switch (parts.Length)
        {
            case 1:
                Info("VC017", $"agent '{text}' of '{id}' has no class; taken as ocf:heartbeat:{text}", t, $"write ocf:heartbeat:{text} (or lsb:{text} for an init script)");
                return ("ocf", "heartbeat", text, null);
            case 2:
                CheckClass(parts[0], t);
                if (parts[0] == "ocf")
                    throw new CrmSyntaxException(Diag(Severity.Error, "VC018", $"OCF agent '{text}' needs a provider", t, $"write ocf:heartbeat:{parts[1]} (the provider is the directory under /usr/lib/ocf/resource.d/)"));
                return (parts[0], null, parts[1], null);
            case 3:
                CheckClass(parts[0], t);
                if (ClassesWithoutProvider.Contains(parts[0]))
                    throw new CrmSyntaxException(Diag(Severity.Error, "VC018", $"class '{parts[0]}' has no providers", t, $"write {parts[0]}:{parts[2]}"));
                return (parts[0], parts[1], parts[2], null);
            default:
                throw new CrmSyntaxException(Diag(Severity.Error, "VC016", $"'{text}' is not an agent name", t, "write class:provider:type, e.g. ocf:heartbeat:IPaddr2"));
        }
    }

    private void CheckClass(string cls, CrmToken t)
    {
        if (ResourceClasses.Contains(cls)) return;
        if (cls == "heartbeat")
            throw new CrmSyntaxException(Diag(Severity.Error, "VC019", "the 'heartbeat' resource class (Heartbeat v1 resource.d scripts) is not supported", t,
                "use the OCF agent of the same name (ocf:heartbeat:IPaddr2, ocf:heartbeat:Filesystem …) or import the haresources file with 'vigil config convert --from haresources'"));
        throw new CrmSyntaxException(Diag(Severity.Error, "VC019", $"unknown resource class '{cls}'", t,
            Suggest(cls, ResourceClasses) ?? "use ocf, lsb, service, systemd or stonith"));
    }

    private (Operation op, List<AttributeSet> instance, List<AttributeSet> meta) ParseOp(Cursor c, string rscId)
    {
        var nameTok = c.Expect("an operation name (monitor, start, stop, promote, demote, …)", "write: op monitor interval=30s timeout=20s");
        if (nameTok.IsAssignment)
            throw c.ErrorAt(nameTok, "VC020", $"'op' needs an operation name before '{nameTok.Text}'", $"write: op monitor {nameTok.Text}");
        string? interval = null;
        var attrs = new List<KeyValuePair<string, string>>();
        var instancePairs = new List<(string Name, string Value)>();
        var metaPairs = new List<(string Name, string Value)>();
        while (!c.AtEnd && c.Peek!.IsAssignment)
        {
            var t = c.Next();
            var name = t.Name!;
            var value = t.Value!;
            if (name == "interval")
            {
                if (!Duration.TryParse(value, out _))
                    Error("VC021", $"interval '{value}' of op {nameTok.Text} in '{rscId}' is not a duration", t, "write a number of seconds or a value like 30s, 1min, 500ms");
                interval = value;
            }
            else if (name == "OCF_CHECK_LEVEL") instancePairs.Add((name, value));
            else if (OperationAttributes.Contains(name))
            {
                if (name == "timeout" && !Duration.TryParse(value, out _))
                    Error("VC021", $"timeout '{value}' of op {nameTok.Text} in '{rscId}' is not a duration", t, "write a value like 20s or 2min");
                if (name == "role" && !Roles.TryParse(value, out _))
                    Error("VC022", $"'{value}' is not a role", t, "use Started, Stopped, Promoted or Unpromoted (Master/Slave are the old names)");
                if (name == "on-fail" && value is not ("ignore" or "block" or "stop" or "restart" or "standby" or "fence" or "demote" or "restart-container"))
                    Error("VC023", $"on-fail '{value}' is not a failure policy", t, "use ignore, block, stop, restart, standby, fence or demote");
                attrs.Add(new(name, value));
            }
            else
            {
                Warn("VC024", $"'{name}' is not an operation attribute; it was stored as an operation meta attribute", t,
                    Suggest(name, OperationAttributes) ?? $"write it as op_meta {name}={value} to keep it, or as a resource parameter under 'params'");
                metaPairs.Add((name, value));
            }
        }
        var intervalText = interval ?? "0";
        var opId = _ids.Next($"{rscId}-{nameTok.Text}-{intervalText}");
        var instance = new List<AttributeSet>();
        var meta = new List<AttributeSet>();
        if (instancePairs.Count > 0) instance.Add(MakeSet(AttributeSetKind.Instance, _ids.Next($"{opId}-instance_attributes"), instancePairs));
        if (metaPairs.Count > 0) meta.Add(MakeSet(AttributeSetKind.Meta, _ids.Next($"{opId}-meta_attributes"), metaPairs));
        return (new Operation(opId, nameTok.Text, intervalText) { Attributes = attrs }, instance, meta);
    }

    private AttributeSet MakeSet(AttributeSetKind kind, string setId, List<(string Name, string Value)> pairs) =>
        new(kind, setId) { Pairs = pairs.Select(p => new NvPair(_ids.Next($"{setId}-{p.Name}"), p.Name, p.Value)).ToList() };

    /// <summary>Reads <c>[$id=X] name=value …</c> up to the next keyword.</summary>
    private AttributeSet ParseAttrList(Cursor c, AttributeSetKind kind, string ownerId, string suffix, HashSet<string> stopWords)
    {
        string setId;
        if (c.Peek is { IsAssignment: true, Name: "$id" })
        {
            var t = c.Next();
            if (!IsValidId(t.Value!) || !_ids.Claim(t.Value!))
                throw c.ErrorAt(t, "VC011", $"the id '{t.Value}' is invalid or already used", "choose another $id or leave it out");
            setId = t.Value!;
        }
        else setId = _ids.Next($"{ownerId}-{suffix}");
        var pairs = new List<(string Name, string Value, CrmToken Token)>();
        while (!c.AtEnd)
        {
            var t = c.Peek!;
            if (!t.IsAssignment)
            {
                if (stopWords.Contains(t.Text)) break;
                if (t.Text == "rule")
                    throw c.Error("VC005", "rules inside attribute sets are not supported in Vigil's crm syntax yet", "keep this set in CIB XML");
                throw c.Error("VC025", $"expected name=value, found '{t.Text}'", $"write {t.Text}=<value>, or start the next part with one of: {string.Join(", ", stopWords)}");
            }
            c.Next();
            if (t.Name!.Length == 0) throw c.ErrorAt(t, "VC025", $"'{t.Text}' has no name before '='", "write name=value");
            var existing = pairs.FindIndex(p => p.Name == t.Name);
            if (existing >= 0)
            {
                Warn("VC026", $"'{t.Name}' is given twice; the later value '{t.Value}' is used", t, $"keep one {t.Name}=…");
                pairs.RemoveAt(existing);
            }
            pairs.Add((t.Name, t.Value!, t));
        }
        if (pairs.Count == 0 && !c.AtEnd && stopWords.Contains(c.Peek!.Text) || pairs.Count == 0 && c.AtEnd)
            Warn("VC027", $"empty {suffix.Replace('_', ' ')} list in '{ownerId}'", c.AtEnd ? c.Last : c.Peek!, "add name=value pairs or remove the keyword");
        return MakeSet(kind, setId, pairs.Select(p => (p.Name, p.Value)).ToList());
    }

    private void ParseGroup(Cursor c)
    {
        var idTok = c.Expect("a group id", "write: group <id> <resource> [<resource> …]");
        var id = DefineId(idTok, "group");
        var pending = new PendingResource(id, idTok, "group", _resources.Count);
        while (!c.AtEnd && !c.Peek!.IsAssignment && !ContainerKeywords.Contains(c.Peek.Text))
            pending.Members.Add(c.Next());
        if (pending.Members.Count == 0)
            throw c.Error("VC030", $"group '{id}' names no resources", $"write: group {id} <first> <second> … (started in this order)");
        ParseContainerTail(c, pending);
        _resources.Add(pending);
    }

    private void ParseClone(Cursor c, bool legacyMaster, CrmToken keyword)
    {
        var idTok = c.Expect("a clone id", "write: clone <id> <resource> [meta …]");
        var id = DefineId(idTok, "clone");
        var pending = new PendingResource(id, idTok, "clone", _resources.Count) { LegacyMaster = legacyMaster };
        var child = c.Expect("the resource to clone", $"write: clone {id} <primitive or group>");
        if (child.IsAssignment || ContainerKeywords.Contains(child.Text))
            throw c.ErrorAt(child, "VC031", $"clone '{id}' needs the id of the resource to clone before '{child.Text}'", $"write: clone {id} <primitive or group> {child.Text} …");
        pending.Members.Add(child);
        if (!c.AtEnd && !c.Peek!.IsAssignment && !ContainerKeywords.Contains(c.Peek.Text))
            throw c.Error("VC032", $"clone '{id}' can clone only one resource, found a second: '{c.Peek.Text}'", "put the resources into a group and clone the group");
        ParseContainerTail(c, pending);
        if (legacyMaster)
        {
            var metas = pending.Meta.SelectMany(s => s.Pairs).Select(p => $"{p.Name}={p.Value}");
            Warn("VC033", $"'{keyword.Text}' is deprecated; it is read as a promotable clone", keyword,
                $"write: clone {id} {child.Text} meta {string.Join(' ', metas.Append("promotable=true"))}");
        }
        _resources.Add(pending);
    }

    private void ParseContainerTail(Cursor c, PendingResource pending)
    {
        while (!c.AtEnd)
        {
            var t = c.Peek!;
            if (t.IsAssignment && t.Name == "description") { pending.Description = c.Next().Value; continue; }
            switch (t.Text)
            {
                case "meta": c.Next(); pending.Meta.Add(ParseAttrList(c, AttributeSetKind.Meta, pending.Id, "meta_attributes", ContainerKeywords)); break;
                case "params": c.Next(); pending.Instance.Add(ParseAttrList(c, AttributeSetKind.Instance, pending.Id, "instance_attributes", ContainerKeywords)); break;
                default:
                    throw c.Error("VC014", $"unexpected '{t.Text}' in {pending.Kind} '{pending.Id}'",
                        t.IsAssignment ? $"write meta {t.Text} to set a resource option" : "after the members come: meta …, params …");
            }
        }
    }

    /// <summary>Nests primitives into groups and clones once every statement is read.</summary>
    private List<Resource> BuildResources()
    {
        var byId = _resources.ToDictionary(r => r.Id, StringComparer.Ordinal);
        foreach (var r in _resources)
        {
            if (r.Kind == "primitive") continue;
            foreach (var m in r.Members)
            {
                if (!byId.TryGetValue(m.Text, out var member))
                {
                    Error("VC034", $"{r.Kind} '{r.Id}' refers to '{m.Text}', which is not defined", m,
                        Suggest(m.Text, byId.Keys) ?? $"define it with 'primitive {m.Text} …' (anywhere in the file)");
                    continue;
                }
                if (member == r) { Error("VC035", $"{r.Kind} '{r.Id}' contains itself", m); continue; }
                if (member.Parent is not null)
                {
                    Error("VC036", $"'{m.Text}' is already inside {member.Parent.Kind} '{member.Parent.Id}'", m,
                        "a resource can be in only one group or clone; to run a group everywhere, clone the group");
                    continue;
                }
                if (r.Kind == "group" && member.Kind != "primitive")
                {
                    Error("VC037", $"group '{r.Id}' can hold only primitives, but '{m.Text}' is a {member.Kind}", m,
                        member.Kind == "clone" ? "colocate the group with the clone instead" : "list the primitives of the inner group directly");
                    continue;
                }
                if (r.Kind == "clone" && member.Kind == "clone")
                {
                    Error("VC037", $"clone '{r.Id}' cannot clone the clone '{m.Text}'", m, "clone the primitive or group directly");
                    continue;
                }
                member.Parent = r;
            }
        }
        var built = new Dictionary<string, Resource>(StringComparer.Ordinal);
        Resource? Build(PendingResource p)
        {
            if (built.TryGetValue(p.Id, out var done)) return done;
            Resource? result = null;
            switch (p.Kind)
            {
                case "primitive":
                    result = p.Primitive! with { Description = p.Description, InstanceAttributes = p.Instance, MetaAttributes = p.Meta, Utilization = p.Utilization };
                    break;
                case "group":
                    var children = p.Members.Where(m => byId.TryGetValue(m.Text, out var x) && x.Parent == p).Select(m => Build(byId[m.Text])).OfType<Primitive>().ToList();
                    result = new Group(p.Id) { Children = children, Description = p.Description, InstanceAttributes = p.Instance, MetaAttributes = p.Meta };
                    break;
                case "clone":
                    var childPending = p.Members.Select(m => byId.GetValueOrDefault(m.Text)).FirstOrDefault(x => x?.Parent == p);
                    var child = childPending is null ? null : Build(childPending);
                    if (child is null) return null;
                    result = new Clone(p.Id, child) { IsLegacyMaster = p.LegacyMaster, Description = p.Description, InstanceAttributes = p.Instance, MetaAttributes = p.Meta };
                    break;
            }
            if (result is not null) built[p.Id] = result;
            return result;
        }
        // A container takes the place of its earliest-defined member, as crmsh's CIB does.
        int SortKey(PendingResource p)
        {
            int key = p.Index;
            foreach (var m in p.Members)
                if (byId.TryGetValue(m.Text, out var x) && x.Parent == p) key = Math.Min(key, SortKey(x));
            return key;
        }
        return _resources.Where(r => r.Parent is null).OrderBy(SortKey).Select(Build).OfType<Resource>().ToList();
    }
}
