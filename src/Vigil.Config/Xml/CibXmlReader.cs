using System.Xml;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Xml;

/// <summary>
/// Imports Pacemaker CIB XML (configuration and status) into the model. Every problem becomes a
/// diagnostic with line and column; elements Vigil keeps without interpreting are reported as info,
/// unknown elements as warnings (and dropped), so nothing disappears silently.
/// </summary>
public sealed class CibXmlReader
{
    private static readonly HashSet<string> OpaqueConfigSections = ["acls", "alerts", "tags"];
    private static readonly HashSet<string> OpaqueResources = ["bundle", "template"];

    private readonly string _source;
    private readonly List<Diagnostic> _diagnostics = [];
    private readonly Dictionary<string, SourceLocation> _locations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Operation>> _operationBlocks = new(StringComparer.Ordinal);
    private readonly List<(string Primitive, string Ref, CibElement Element)> _operationRefs = [];

    private CibXmlReader(string source) => _source = source;

    public static Parsed<Cib> Read(string xml, string source = "<input>")
    {
        using var text = new StringReader(xml);
        return Read(text, source);
    }

    /// <summary>Reads the CIB from a reader (a file need not be held in memory as one string first).</summary>
    /// <param name="locations">Whether to fill <see cref="Parsed{T}.Locations"/> (where each id is
    /// defined), which only the configuration checks read. A caller that runs no checks passes false:
    /// at 10,000 resources the table holds 170,000 ids, and its 6 MB array on the large-object heap
    /// started a full collection while the CIB was read.</param>
    public static Parsed<Cib> Read(TextReader text, string source = "<input>", bool locations = true)
    {
        var reader = new CibXmlReader(source);
        Cib? cib = null;
        try
        {
            // Comments, processing instructions and insignificant whitespace are dropped by CibElement
            // anyway; skipped here, the reader does not make a string of each (13 MB CIB: 200,000 of them).
            var settings = new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = 1L << 30,
                IgnoreComments = true, IgnoreProcessingInstructions = true, IgnoreWhitespace = true,
            };
            using var xr = XmlReader.Create(text, settings);
            var root = CibElement.Load(xr);
            cib = reader.ReadRoot(root);
            if (locations) reader.RecordLocations(root);
        }
        catch (XmlException e)
        {
            reader.Error("VX001", $"not well-formed XML: {e.Message.Split(" Line ")[0].TrimEnd('.', ',')}",
                new SourceLocation(source, e.LineNumber, e.LinePosition), "fix the XML syntax at this place; nothing was imported");
        }
        return new Parsed<Cib>(reader._diagnostics.Any(d => d.Severity == Severity.Error) ? null : cib, reader._diagnostics) { Locations = reader._locations };
    }

    /// <summary>Where each id is defined (the first element carrying it, in document order), for diagnostics.</summary>
    private void RecordLocations(CibElement root)
    {
        // Sized once: grown step by step, the table (170,000 ids at 10,000 resources) is reallocated
        // 17 times on the large-object heap, and each time can start a full collection.
        _locations.EnsureCapacity(root.CountWithAttribute("id"));
        var stack = new Stack<CibElement>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            if (e.Attribute("id") is { } id) _locations.TryAdd(id, new SourceLocation(_source, e.Line, e.Column));
            var children = e.Elements();
            for (var i = children.Count - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }

    private Cib? ReadRoot(CibElement root)
    {
        if (root.Name == "configuration")
            return new Cib { Configuration = ReadConfiguration(root) };
        if (root.Name != "cib")
        {
            Error("VX002", $"the root element is <{root.Name}>, expected <cib> or <configuration>", root, "export the CIB with 'cibadmin -Q' or 'crm configure show xml'");
            return null;
        }
        Configuration? configuration = null;
        ClusterStatus? status = null;
        foreach (var child in root.Elements())
        {
            switch (child.Name)
            {
                case "configuration": configuration = ReadConfiguration(child); break;
                case "status": status = ReadStatus(child); break;
                default: Unknown(child, "cib"); break;
            }
        }
        if (configuration is null)
            Error("VX003", "<cib> has no <configuration> element", root, "add <configuration> with <crm_config>, <nodes>, <resources> and <constraints>");
        return new Cib { Header = Attrs(root), Configuration = configuration ?? new Configuration(), Status = status };
    }

    // ----- configuration ---------------------------------------------------------------------

    private Configuration ReadConfiguration(CibElement e)
    {
        var props = new List<AttributeSet>();
        var nodes = new List<Node>();
        var resources = new List<Resource>();
        var constraints = new List<Constraint>();
        var rscDefaults = new List<AttributeSet>();
        var opDefaults = new List<AttributeSet>();
        var levels = new List<FencingLevel>();
        var other = new List<OpaqueElement>();
        foreach (var section in e.Elements())
        {
            switch (section.Name)
            {
                case "crm_config":
                    foreach (var s in section.Elements())
                        if (s.Name == "cluster_property_set") props.Add(ReadSet(s, AttributeSetKind.ClusterProperties));
                        else Unknown(s, "crm_config");
                    break;
                case "nodes":
                    foreach (var n in section.Elements())
                        if (n.Name == "node") { var node = ReadNode(n); if (node is not null) nodes.Add(node); }
                        else Unknown(n, "nodes");
                    break;
                case "resources":
                    foreach (var r in section.Elements())
                    {
                        var res = ReadResource(r, "resources");
                        if (res is not null) resources.Add(res);
                    }
                    break;
                case "constraints":
                    foreach (var c in section.Elements())
                    {
                        var con = ReadConstraint(c);
                        if (con is not null) constraints.Add(con);
                    }
                    break;
                case "rsc_defaults": rscDefaults.AddRange(ReadMetaSets(section, "rsc_defaults")); break;
                case "op_defaults": opDefaults.AddRange(ReadMetaSets(section, "op_defaults")); break;
                case "fencing-topology":
                    foreach (var l in section.Elements())
                        if (l.Name == "fencing-level") { var lvl = ReadLevel(l); if (lvl is not null) levels.Add(lvl); }
                        else Unknown(l, "fencing-topology");
                    break;
                default:
                    if (OpaqueConfigSections.Contains(section.Name))
                    {
                        if (section.HasElements)
                            Info("VX100", $"<{section.Name}> is kept as written but not enforced by Vigil", section);
                        other.Add(Opaque(section));
                    }
                    else Unknown(section, "configuration");
                    break;
            }
        }
        if (_operationRefs.Count > 0) resources = ResolveOperationRefs(resources);
        return new Configuration
        {
            Properties = props, Nodes = nodes, Resources = resources, Constraints = constraints,
            ResourceDefaults = rscDefaults, OperationDefaults = opDefaults, FencingTopology = levels, Other = other,
        };
    }

    /// <summary>&lt;operations id-ref="X"/&gt; reuses the block with id X; the operations are copied in, the reference kept.</summary>
    private List<Resource> ResolveOperationRefs(List<Resource> resources)
    {
        var resolved = new Dictionary<string, IReadOnlyList<Operation>>(StringComparer.Ordinal);
        foreach (var (prim, reference, element) in _operationRefs)
        {
            if (_operationBlocks.TryGetValue(reference, out var ops)) resolved[prim] = ops;
            else Error("VX035", $"the operations of '{prim}' refer to '{reference}', which is not an operations block", element, "point id-ref at the id of another primitive's <operations>");
        }
        Resource Fix(Resource r) => r switch
        {
            Primitive p when resolved.TryGetValue(p.Id, out var ops) => p with { Operations = ops },
            Group g => g with { Children = g.Children.Select(c => (Primitive)Fix(c)).ToList() },
            Clone c => c with { Child = Fix(c.Child) },
            _ => r,
        };
        return resources.Select(Fix).ToList();
    }

    private List<AttributeSet> ReadMetaSets(CibElement section, string where)
    {
        var sets = new List<AttributeSet>();
        foreach (var s in section.Elements())
            if (s.Name == "meta_attributes") sets.Add(ReadSet(s, AttributeSetKind.Meta));
            else Unknown(s, where);
        return sets;
    }

    private Node? ReadNode(CibElement e)
    {
        var id = Required(e, "id");
        var uname = Required(e, "uname");
        if (id is null || uname is null) return null;
        var inst = new List<AttributeSet>();
        var util = new List<AttributeSet>();
        foreach (var c in e.Elements())
        {
            switch (c.Name)
            {
                case "instance_attributes": inst.Add(ReadSet(c, AttributeSetKind.Instance)); break;
                case "utilization": util.Add(ReadSet(c, AttributeSetKind.Utilization)); break;
                default: Unknown(c, "node"); break;
            }
        }
        return new Node(id, uname)
        {
            Type = e.Attribute("type"),
            Description = e.Attribute("description"),
            Score = ScoreAttr(e, "score"),
            InstanceAttributes = inst, Utilization = util,
            Extra = Attrs(e, "id", "uname", "type", "description", "score"),
        };
    }

    private Resource? ReadResource(CibElement e, string parent)
    {
        switch (e.Name)
        {
            case "primitive": return ReadPrimitive(e);
            case "group": return ReadGroup(e);
            case "clone": return ReadClone(e, legacyMaster: false);
            case "master":
                Info("VX101", "<master> is deprecated; it is read as <clone> with meta promotable=true", e);
                return ReadClone(e, legacyMaster: true);
            default:
                if (OpaqueResources.Contains(e.Name))
                {
                    var id = Required(e, "id");
                    Warning("VX102", $"<{e.Name}> resources are kept as written but Vigil does not run them yet", e,
                        "replace the bundle or template with primitives if Vigil should manage it");
                    return id is null ? null : new UnsupportedResource(id, Opaque(e));
                }
                Unknown(e, parent);
                return null;
        }
    }

    private Primitive? ReadPrimitive(CibElement e)
    {
        var id = Required(e, "id");
        if (id is null) return null;
        var template = e.Attribute("template");
        var cls = e.Attribute("class");
        var type = e.Attribute("type");
        var provider = e.Attribute("provider");
        if (template is null)
        {
            if (cls is null) { Error("VX010", $"primitive '{id}' has no class attribute", e, "add class=\"ocf\", \"lsb\", \"service\", \"systemd\" or \"stonith\""); }
            if (type is null) { Error("VX010", $"primitive '{id}' has no type attribute", e, "add type=\"<agent name>\", e.g. type=\"IPaddr2\""); }
            if (cls == "ocf" && provider is null)
                Error("VX011", $"OCF primitive '{id}' has no provider", e, "add provider=\"heartbeat\" (or the directory under /usr/lib/ocf/resource.d/ that holds the agent)");
        }
        var (inst, meta, util, ops, _) = ReadResourceChildren(e, id, allowOps: true);
        var opsElement = e.Element("operations");
        var opsIdRef = opsElement?.Attribute("id-ref");
        if (opsIdRef is not null) _operationRefs.Add((id, opsIdRef, opsElement!));
        else if (opsElement?.Attribute("id") is { } opsId) _operationBlocks[opsId] = ops;
        return new Primitive(id, cls ?? "", provider, type ?? "")
        {
            OperationsId = opsElement?.Attribute("id"),
            OperationsIdRef = opsIdRef,
            Template = template,
            Description = e.Attribute("description"),
            InstanceAttributes = Kept(inst), MetaAttributes = Kept(meta), Utilization = Kept(util), Operations = ops,
            Extra = Attrs(e, "id", "class", "provider", "type", "template", "description"),
        };
    }

    private Group? ReadGroup(CibElement e)
    {
        var id = Required(e, "id");
        if (id is null) return null;
        var (inst, meta, util, _, children) = ReadResourceChildren(e, id, allowOps: false, childKinds: ["primitive"]);
        if (children.Count == 0)
            Warning("VX012", $"group '{id}' has no members", e, "add primitives to the group or remove it");
        return new Group(id)
        {
            Description = e.Attribute("description"),
            InstanceAttributes = inst, MetaAttributes = meta, Utilization = util,
            Children = children.OfType<Primitive>().ToList(),
            Extra = Attrs(e, "id", "description"),
        };
    }

    private Clone? ReadClone(CibElement e, bool legacyMaster)
    {
        var id = Required(e, "id");
        if (id is null) return null;
        var (inst, meta, util, _, children) = ReadResourceChildren(e, id, allowOps: false, childKinds: ["primitive", "group"]);
        if (children.Count != 1)
        {
            Error("VX013", $"{e.Name} '{id}' must contain exactly one primitive or group, found {children.Count}", e,
                "put a single <primitive> or <group> inside the clone");
            return null;
        }
        return new Clone(id, children[0])
        {
            IsLegacyMaster = legacyMaster,
            Description = e.Attribute("description"),
            InstanceAttributes = inst, MetaAttributes = meta, Utilization = util,
            Extra = Attrs(e, "id", "description"),
        };
    }

    private (List<AttributeSet> inst, List<AttributeSet> meta, List<AttributeSet> util, List<Operation> ops, List<Resource> children)
        ReadResourceChildren(CibElement e, string id, bool allowOps, string[]? childKinds = null)
    {
        var inst = new List<AttributeSet>();
        var meta = new List<AttributeSet>();
        var util = new List<AttributeSet>();
        var ops = new List<Operation>();
        var children = new List<Resource>();
        foreach (var c in e.Elements())
        {
            var name = c.Name;
            switch (name)
            {
                case "instance_attributes": inst.Add(ReadSet(c, AttributeSetKind.Instance)); break;
                case "meta_attributes": meta.Add(ReadSet(c, AttributeSetKind.Meta)); break;
                case "utilization": util.Add(ReadSet(c, AttributeSetKind.Utilization)); break;
                case "operations" when allowOps:
                    foreach (var o in c.Elements())
                        if (o.Name == "op") { var op = ReadOp(o, id); if (op is not null) ops.Add(op); }
                        else Unknown(o, "operations");
                    break;
                default:
                    if (childKinds is not null && childKinds.Contains(name))
                    {
                        var r = ReadResource(c, e.Name);
                        if (r is not null) children.Add(r);
                    }
                    else if (childKinds is not null && name is "primitive" or "group" or "clone" or "master")
                        Error("VX014", $"<{name}> cannot be inside <{e.Name}> '{id}'", c,
                            e.Name == "group" ? "groups hold primitives only; clone the whole group instead" : "clones hold one primitive or group");
                    else Unknown(c, e.Name);
                    break;
            }
        }
        return (inst, meta, util, ops, children);
    }

    private Operation? ReadOp(CibElement e, string rscId)
    {
        var id = Required(e, "id");
        var name = Required(e, "name");
        if (id is null || name is null) return null;
        var interval = e.Attribute("interval");
        if (interval is null)
        {
            // Pacemaker requires interval; crmsh fills in "0" for non-recurring operations.
            Warning("VX015", $"operation '{id}' of '{rscId}' has no interval; taken as 0", e, "add interval=\"0\" (or the monitor period, e.g. interval=\"30s\")");
            interval = "0";
        }
        else if (!Duration.TryParse(interval, out _))
            Error("VX016", $"operation '{id}' of '{rscId}' has interval '{interval}', which is not a duration", e, "write a number of seconds or a value such as 30s, 1min, 500ms, PT1M");
        var timeout = e.Attribute("timeout");
        if (timeout is not null && !Duration.TryParse(timeout, out _))
            Warning("VX016", $"operation '{id}' of '{rscId}' has timeout '{timeout}', which is not a duration; the default timeout applies", e, "write a value such as 20s or 2min");
        var inst = new List<AttributeSet>();
        var meta = new List<AttributeSet>();
        foreach (var c in e.Elements())
        {
            switch (c.Name)
            {
                case "instance_attributes": inst.Add(ReadSet(c, AttributeSetKind.Instance)); break;
                case "meta_attributes": meta.Add(ReadSet(c, AttributeSetKind.Meta)); break;
                default: Unknown(c, "op"); break;
            }
        }
        return new Operation(id, name, interval)
        {
            Attributes = Attrs(e, "id", "name", "interval"),
            InstanceAttributes = Kept(inst), MetaAttributes = Kept(meta),
        };
    }

    private AttributeSet ReadSet(CibElement e, AttributeSetKind kind)
    {
        var idref = e.Attribute("id-ref");
        var id = idref is null ? Required(e, "id") ?? "" : e.Attribute("id") ?? "";
        var pairs = new List<NvPair>();
        Rule? rule = null;
        foreach (var c in e.Elements())
        {
            switch (c.Name)
            {
                case "nvpair":
                    var pref = c.Attribute("id-ref");
                    var pname = pref is null ? Required(c, "name") : c.Attribute("name") ?? "";
                    if (pname is null) break;
                    pairs.Add(new NvPair(c.Attribute("id") ?? "", pname, c.Attribute("value")) { IdRef = pref });
                    break;
                case "rule":
                    if (rule is not null) Warning("VX017", $"set '{id}' has more than one rule; only the first is used", c, "combine the rules with boolean-op");
                    else rule = ReadRule(c);
                    break;
                default: Unknown(c, e.Name); break;
            }
        }
        return new AttributeSet(kind, id)
        {
            IdRef = idref,
            Score = ScoreAttr(e, "score"),
            Rule = rule,
            Pairs = pairs,
            Extra = Attrs(e, "id", "id-ref", "score"),
        };
    }

    private Rule ReadRule(CibElement e)
    {
        var idref = e.Attribute("id-ref");
        var id = idref is null ? Required(e, "id") ?? "" : e.Attribute("id") ?? "";
        var exprs = new List<RuleExpression>();
        foreach (var c in e.Elements())
        {
            switch (c.Name)
            {
                case "expression":
                    var eid = Required(c, "id") ?? "";
                    var attr = Required(c, "attribute") ?? "";
                    var op = Required(c, "operation") ?? "";
                    if (op.Length > 0 && op is not ("lt" or "gt" or "lte" or "gte" or "eq" or "ne" or "defined" or "not_defined"))
                        Error("VX020", $"expression '{eid}' has operation '{op}'", c, "use one of lt, gt, lte, gte, eq, ne, defined, not_defined");
                    if (op is not ("defined" or "not_defined" or "") && c.Attribute("value") is null)
                        Error("VX021", $"expression '{eid}' compares '{attr}' with '{op}' but has no value", c, "add value=\"…\"");
                    exprs.Add(new AttributeExpression(eid, attr, op)
                    {
                        Value = c.Attribute("value"), Type = c.Attribute("type"),
                        ValueSource = c.Attribute("value-source"),
                        Extra = Attrs(c, "id", "attribute", "operation", "value", "type", "value-source"),
                    });
                    break;
                case "date_expression":
                    DateFields? spec = null, dur = null;
                    foreach (var d in c.Elements())
                    {
                        var fields = Attrs(d, "id");
                        var did = d.Attribute("id") ?? "";
                        if (d.Name == "date_spec") spec = new DateFields(did, fields);
                        else if (d.Name == "duration") dur = new DateFields(did, fields);
                        else Unknown(d, "date_expression");
                    }
                    exprs.Add(new DateExpression(Required(c, "id") ?? "", c.Attribute("operation") ?? "in_range")
                    {
                        Start = c.Attribute("start"), End = c.Attribute("end"), DateSpec = spec, Duration = dur,
                        Extra = Attrs(c, "id", "operation", "start", "end"),
                    });
                    break;
                case "rsc_expression":
                    exprs.Add(new ResourceExpression(Required(c, "id") ?? "")
                    {
                        Class = c.Attribute("class"), Provider = c.Attribute("provider"), Type = c.Attribute("type"),
                        Extra = Attrs(c, "id", "class", "provider", "type"),
                    });
                    break;
                case "op_expression":
                    exprs.Add(new OperationExpression(Required(c, "id") ?? "", Required(c, "name") ?? "")
                    {
                        Interval = c.Attribute("interval"),
                        Extra = Attrs(c, "id", "name", "interval"),
                    });
                    break;
                case "rule": exprs.Add(ReadRule(c)); break;
                default: Unknown(c, "rule"); break;
            }
        }
        var bop = e.Attribute("boolean-op");
        if (bop is not null && bop is not ("and" or "or"))
            Error("VX022", $"rule '{id}' has boolean-op '{bop}'", e, "use boolean-op=\"and\" or \"or\"");
        return new Rule(id)
        {
            IdRef = idref,
            Score = ScoreAttr(e, "score"),
            ScoreAttribute = e.Attribute("score-attribute"),
            Role = e.Attribute("role"),
            BooleanOp = bop,
            Expressions = exprs,
            Extra = Attrs(e, "id", "id-ref", "score", "score-attribute", "role", "boolean-op"),
        };
    }

    private Constraint? ReadConstraint(CibElement e)
    {
        var id = Required(e, "id");
        if (id is null) return null;
        switch (e.Name)
        {
            case "rsc_location":
                var rules = new List<Rule>();
                var lsets = new List<ResourceSet>();
                foreach (var c in e.Elements())
                    if (c.Name == "rule") rules.Add(ReadRule(c));
                    else if (c.Name == "resource_set") lsets.Add(ReadResourceSet(c));
                    else Unknown(c, "rsc_location");
                var loc = new LocationConstraint(id)
                {
                    Resource = e.Attribute("rsc"), ResourcePattern = e.Attribute("rsc-pattern"),
                    Role = e.Attribute("role"), Score = ScoreAttr(e, "score"), Node = e.Attribute("node"),
                    ResourceDiscovery = e.Attribute("resource-discovery"),
                    Rules = rules, Sets = lsets,
                    Extra = Attrs(e, "id", "rsc", "rsc-pattern", "role", "score", "node", "resource-discovery"),
                };
                if (loc.Resource is null && loc.ResourcePattern is null && lsets.Count == 0)
                    Error("VX030", $"location '{id}' names no resource", e, "add rsc=\"<resource id>\"");
                if (rules.Count == 0 && (loc.Node is null || e.Attribute("score") is null))
                    Error("VX031", $"location '{id}' needs either node and score, or a rule", e, "write node=\"node1\" score=\"100\", or add a <rule>");
                return loc;
            case "rsc_colocation":
                var csets = ReadSets(e, "rsc_colocation");
                var col = new ColocationConstraint(id)
                {
                    Score = ScoreAttr(e, "score"), Resource = e.Attribute("rsc"), WithResource = e.Attribute("with-rsc"),
                    ResourceRole = e.Attribute("rsc-role"), WithResourceRole = e.Attribute("with-rsc-role"),
                    NodeAttribute = e.Attribute("node-attribute"), Influence = e.Attribute("influence"),
                    Sets = csets,
                    Extra = Attrs(e, "id", "score", "rsc", "with-rsc", "rsc-role", "with-rsc-role", "node-attribute", "influence"),
                };
                if (csets.Count == 0 && (col.Resource is null || col.WithResource is null))
                    Error("VX032", $"colocation '{id}' needs rsc and with-rsc (or resource sets)", e, "add rsc=\"A\" with-rsc=\"B\": A is placed where B runs");
                return col;
            case "rsc_order":
                var osets = ReadSets(e, "rsc_order");
                var ord = new OrderConstraint(id)
                {
                    First = e.Attribute("first"), Then = e.Attribute("then"),
                    FirstAction = e.Attribute("first-action"), ThenAction = e.Attribute("then-action"),
                    Kind = e.Attribute("kind"), Score = ScoreAttr(e, "score"),
                    Symmetrical = BoolAttr(e, "symmetrical"), RequireAll = BoolAttr(e, "require-all"),
                    Sets = osets,
                    Extra = Attrs(e, "id", "first", "then", "first-action", "then-action", "kind", "score", "symmetrical", "require-all"),
                };
                if (osets.Count == 0 && (ord.First is null || ord.Then is null))
                    Error("VX033", $"order '{id}' needs first and then (or resource sets)", e, "add first=\"A\" then=\"B\": B starts after A");
                if (ord.Kind is not null && ord.Kind is not ("Mandatory" or "Optional" or "Serialize"))
                    Warning("VX034", $"order '{id}' has kind '{ord.Kind}'; it is treated as Mandatory, as Pacemaker does", e, "use kind=\"Mandatory\", \"Optional\" or \"Serialize\"");
                return ord;
            case "rsc_ticket":
                Warning("VX103", $"ticket constraint '{id}' is kept as written but Vigil does not enforce tickets", e, "remove it if the ticket is not used");
                return new UnsupportedConstraint(id, Opaque(e));
            default:
                Unknown(e, "constraints");
                return null;
        }
    }

    private List<ResourceSet> ReadSets(CibElement e, string parent)
    {
        var sets = new List<ResourceSet>();
        foreach (var c in e.Elements())
            if (c.Name == "resource_set") sets.Add(ReadResourceSet(c));
            else Unknown(c, parent);
        return sets;
    }

    private ResourceSet ReadResourceSet(CibElement e)
    {
        var idref = e.Attribute("id-ref");
        var id = idref is null ? Required(e, "id") ?? "" : e.Attribute("id") ?? "";
        var refs = new List<string>();
        foreach (var c in e.Elements())
            if (c.Name == "resource_ref") { var r = Required(c, "id"); if (r is not null) refs.Add(r); }
            else Unknown(c, "resource_set");
        return new ResourceSet(id)
        {
            IdRef = idref,
            Sequential = BoolAttr(e, "sequential"), RequireAll = BoolAttr(e, "require-all"),
            Ordering = e.Attribute("ordering"), Action = e.Attribute("action"),
            Role = e.Attribute("role"), Score = ScoreAttr(e, "score"), Kind = e.Attribute("kind"),
            Resources = refs,
            Extra = Attrs(e, "id", "id-ref", "sequential", "require-all", "ordering", "action", "role", "score", "kind"),
        };
    }

    private FencingLevel? ReadLevel(CibElement e)
    {
        var id = Required(e, "id");
        var index = Required(e, "index");
        var devices = Required(e, "devices");
        if (id is null || index is null || devices is null) return null;
        if (!int.TryParse(index, out var idx) || idx < 1 || idx > 9)
        {
            Error("VX040", $"fencing level '{id}' has index '{index}'", e, "use an index from 1 to 9");
            return null;
        }
        return new FencingLevel(id, idx, devices.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            Target = e.Attribute("target"), TargetPattern = e.Attribute("target-pattern"),
            TargetAttribute = e.Attribute("target-attribute"), TargetValue = e.Attribute("target-value"),
            Extra = Attrs(e, "id", "index", "devices", "target", "target-pattern", "target-attribute", "target-value"),
        };
    }

    // ----- status ---------------------------------------------------------------------------

    private ClusterStatus ReadStatus(CibElement e)
    {
        var nodes = new List<NodeState>();
        var other = new List<OpaqueElement>();
        foreach (var c in e.Elements())
        {
            if (c.Name == "node_state") { var n = ReadNodeState(c); if (n is not null) nodes.Add(n); }
            else
            {
                Info("VX104", $"<{c.Name}> in <status> is kept as written but not interpreted", c);
                other.Add(Opaque(c));
            }
        }
        return new ClusterStatus { Nodes = nodes, Other = other };
    }

    private NodeState? ReadNodeState(CibElement e)
    {
        var id = Required(e, "id");
        if (id is null) return null;
        string? transientId = null, lrmId = null, lrmResourcesId = null;
        var transient = new List<AttributeSet>();
        var resources = new List<LrmResource>();
        bool hasLrm = false;
        foreach (var c in e.Elements())
        {
            switch (c.Name)
            {
                case "transient_attributes":
                    transientId = c.Attribute("id");
                    foreach (var s in c.Elements())
                        if (s.Name == "instance_attributes") transient.Add(ReadSet(s, AttributeSetKind.Instance));
                        else Unknown(s, "transient_attributes");
                    break;
                case "lrm":
                    hasLrm = true;
                    lrmId = c.Attribute("id");
                    foreach (var lr in c.Elements())
                    {
                        if (lr.Name != "lrm_resources") { Unknown(lr, "lrm"); continue; }
                        lrmResourcesId = lr.Attribute("id");
                        foreach (var r in lr.Elements())
                            if (r.Name == "lrm_resource") { var res = ReadLrmResource(r); if (res is not null) resources.Add(res); }
                            else Unknown(r, "lrm_resources");
                    }
                    break;
                default: Unknown(c, "node_state"); break;
            }
        }
        return new NodeState(id)
        {
            Uname = e.Attribute("uname"), InCcm = e.Attribute("in_ccm"), Crmd = e.Attribute("crmd"),
            Join = e.Attribute("join"), Expected = e.Attribute("expected"),
            Extra = Attrs(e, "id", "uname", "in_ccm", "crmd", "join", "expected"),
            TransientId = transientId, TransientAttributes = transient,
            LrmId = lrmId, LrmResourcesId = lrmResourcesId, Resources = resources, HasLrm = hasLrm,
        };
    }

    private LrmResource? ReadLrmResource(CibElement e)
    {
        var id = Required(e, "id");
        if (id is null) return null;
        var ops = new List<LrmOp>();
        foreach (var c in e.Elements())
        {
            if (c.Name != "lrm_rsc_op") { Unknown(c, "lrm_resource"); continue; }
            var oid = Required(c, "id");
            if (oid is null) continue;
            ops.Add(new LrmOp(oid) { Attributes = Attrs(c, "id"), Children = c.Elements().Select(Opaque).ToList() });
        }
        return new LrmResource(id)
        {
            Class = e.Attribute("class"), Provider = e.Attribute("provider"), Type = e.Attribute("type"),
            Extra = Attrs(e, "id", "class", "provider", "type"),
            Ops = ops,
        };
    }

    // ----- helpers --------------------------------------------------------------------------

    /// <summary>The attributes other than <paramref name="except"/>; most elements have none, and then
    /// share one empty list (the model only reads it) instead of allocating one each.</summary>
    private static IReadOnlyList<KeyValuePair<string, string>> Attrs(CibElement e, params ReadOnlySpan<string> except)
    {
        List<KeyValuePair<string, string>>? list = null;
        foreach (var a in e.AllAttributes)
        {
            if (except.IndexOf(a.Name) >= 0) continue;
            (list ??= new(e.AllAttributes.Length)).Add(new(a.Name, a.Value));
        }
        return list is null ? NoAttributes : list;
    }

    private static readonly KeyValuePair<string, string>[] NoAttributes = [];

    /// <summary>The list, or one shared empty list when it is empty: 40,000 operations at 10,000
    /// resources each had two empty lists of attribute sets, objects every collection walked.</summary>
    private static IReadOnlyList<T> Kept<T>(List<T> list) => list.Count == 0 ? [] : list;

    private static OpaqueElement Opaque(CibElement e) => new(e.Name)
    {
        Attributes = Attrs(e),
        Children = e.Elements().Select(Opaque).ToList(),
        Text = e.HasElements ? null : string.IsNullOrWhiteSpace(e.Value) ? null : e.Value,
    };

    private string? Required(CibElement e, string attribute)
    {
        var v = e.Attribute(attribute);
        if (v is null)
            Error("VX004", $"<{e.Name}> has no {attribute} attribute", e, $"add {attribute}=\"…\" to this element");
        return v;
    }

    private Score? ScoreAttr(CibElement e, string name)
    {
        var v = e.Attribute(name);
        if (v is null) return null;
        if (Score.TryParse(v, out var s)) return s;
        Error("VX005", $"{name}=\"{v}\" on <{e.Name}> is not a score", e, "write an integer, INFINITY or -INFINITY");
        return null;
    }

    private bool? BoolAttr(CibElement e, string name)
    {
        var v = e.Attribute(name);
        if (v is null) return null;
        if (Truth.IsTrue(v)) return true;
        if (Truth.IsFalse(v)) return false;
        Error("VX006", $"{name}=\"{v}\" on <{e.Name}> is not a boolean", e, "write true or false");
        return null;
    }

    private void Unknown(CibElement e, string parent) =>
        Warning("VX099", $"unknown element <{e.Name}> inside <{parent}> was ignored", e,
            "check the spelling against Pacemaker's CIB schema; Vigil did not import this element");

    private SourceLocation Loc(CibElement e) => new(_source, e.Line, e.Column);

    private void Error(string code, string message, CibElement e, string? hint = null) => Error(code, message, Loc(e), hint);
    private void Error(string code, string message, SourceLocation loc, string? hint) =>
        _diagnostics.Add(new Diagnostic(Severity.Error, code, message, loc) { Hint = hint });
    private void Warning(string code, string message, CibElement e, string? hint = null) =>
        _diagnostics.Add(new Diagnostic(Severity.Warning, code, message, Loc(e)) { Hint = hint });
    private void Info(string code, string message, CibElement e) =>
        _diagnostics.Add(new Diagnostic(Severity.Info, code, message, Loc(e)));
}
