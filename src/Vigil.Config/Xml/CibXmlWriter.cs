using System.Text;
using System.Xml;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Xml;

/// <summary>Exports the model as Pacemaker CIB XML (validate-with pacemaker-3.x), two-space indented.</summary>
public static class CibXmlWriter
{
    public static string Write(Cib cib, bool includeStatus = true)
    {
        var sb = new StringBuilder();
        var settings = new XmlWriterSettings { Indent = true, IndentChars = "  ", OmitXmlDeclaration = true, NewLineChars = "\n" };
        using (var w = XmlWriter.Create(sb, settings))
        {
            w.WriteStartElement("cib");
            var header = cib.Header.Count > 0 ? cib.Header : DefaultHeader;
            foreach (var kv in header) w.WriteAttributeString(kv.Key, kv.Value);
            WriteConfiguration(w, cib.Configuration);
            if (includeStatus)
            {
                w.WriteStartElement("status");
                if (cib.Status is not null)
                {
                    foreach (var n in cib.Status.Nodes) WriteNodeState(w, n);
                    foreach (var o in cib.Status.Other) WriteOpaque(w, o);
                }
                w.WriteEndElement();
            }
            w.WriteEndElement();
        }
        sb.Append('\n');
        return sb.ToString();
    }

    private static readonly KeyValuePair<string, string>[] DefaultHeader =
    [
        new("crm_feature_set", "3.16.2"), new("validate-with", "pacemaker-3.8"), new("epoch", "1"),
        new("num_updates", "0"), new("admin_epoch", "0"),
    ];

    private static void WriteConfiguration(XmlWriter w, Configuration c)
    {
        w.WriteStartElement("configuration");
        w.WriteStartElement("crm_config");
        foreach (var s in c.Properties) WriteSet(w, s);
        w.WriteEndElement();
        w.WriteStartElement("nodes");
        foreach (var n in c.Nodes) WriteNode(w, n);
        w.WriteEndElement();
        w.WriteStartElement("resources");
        foreach (var r in c.Resources) WriteResource(w, r);
        w.WriteEndElement();
        w.WriteStartElement("constraints");
        foreach (var k in c.Constraints) WriteConstraint(w, k);
        w.WriteEndElement();
        if (c.FencingTopology.Count > 0)
        {
            w.WriteStartElement("fencing-topology");
            foreach (var l in c.FencingTopology) WriteLevel(w, l);
            w.WriteEndElement();
        }
        if (c.ResourceDefaults.Count > 0)
        {
            w.WriteStartElement("rsc_defaults");
            foreach (var s in c.ResourceDefaults) WriteSet(w, s);
            w.WriteEndElement();
        }
        if (c.OperationDefaults.Count > 0)
        {
            w.WriteStartElement("op_defaults");
            foreach (var s in c.OperationDefaults) WriteSet(w, s);
            w.WriteEndElement();
        }
        foreach (var o in c.Other) WriteOpaque(w, o);
        w.WriteEndElement();
    }

    private static void WriteNode(XmlWriter w, Node n)
    {
        w.WriteStartElement("node");
        w.WriteAttributeString("id", n.Id);
        w.WriteAttributeString("uname", n.Uname);
        Opt(w, "type", n.Type);
        Opt(w, "description", n.Description);
        Opt(w, "score", n.Score?.ToString());
        Extra(w, n.Extra);
        foreach (var s in n.InstanceAttributes) WriteSet(w, s);
        foreach (var s in n.Utilization) WriteSet(w, s);
        w.WriteEndElement();
    }

    private static void WriteResource(XmlWriter w, Resource r)
    {
        switch (r)
        {
            case Primitive p:
                w.WriteStartElement("primitive");
                w.WriteAttributeString("id", p.Id);
                if (p.Template is not null && p.Class.Length == 0) w.WriteAttributeString("template", p.Template);
                else
                {
                    w.WriteAttributeString("class", p.Class);
                    Opt(w, "provider", p.Provider);
                    w.WriteAttributeString("type", p.Type);
                    Opt(w, "template", p.Template);
                }
                Opt(w, "description", p.Description);
                Extra(w, p.Extra);
                WriteResourceSets(w, p);
                if (p.OperationsIdRef is not null)
                {
                    w.WriteStartElement("operations");
                    Opt(w, "id", p.OperationsId);
                    w.WriteAttributeString("id-ref", p.OperationsIdRef);
                    w.WriteEndElement();
                }
                else if (p.Operations.Count > 0 || p.OperationsId is not null)
                {
                    w.WriteStartElement("operations");
                    Opt(w, "id", p.OperationsId);
                    foreach (var op in p.Operations) WriteOp(w, op);
                    w.WriteEndElement();
                }
                w.WriteEndElement();
                break;
            case Group g:
                w.WriteStartElement("group");
                w.WriteAttributeString("id", g.Id);
                Opt(w, "description", g.Description);
                Extra(w, g.Extra);
                WriteResourceSets(w, g);
                foreach (var c in g.Children) WriteResource(w, c);
                w.WriteEndElement();
                break;
            case Clone cl:
                w.WriteStartElement(cl.IsLegacyMaster ? "master" : "clone");
                w.WriteAttributeString("id", cl.Id);
                Opt(w, "description", cl.Description);
                Extra(w, cl.Extra);
                WriteResourceSets(w, cl);
                WriteResource(w, cl.Child);
                w.WriteEndElement();
                break;
            case UnsupportedResource u:
                WriteOpaque(w, u.Element);
                break;
        }
    }

    private static void WriteResourceSets(XmlWriter w, Resource r)
    {
        foreach (var s in r.InstanceAttributes) WriteSet(w, s);
        foreach (var s in r.MetaAttributes) WriteSet(w, s);
        foreach (var s in r.Utilization) WriteSet(w, s);
    }

    private static void WriteOp(XmlWriter w, Operation op)
    {
        w.WriteStartElement("op");
        w.WriteAttributeString("id", op.Id);
        w.WriteAttributeString("name", op.Name);
        w.WriteAttributeString("interval", op.Interval);
        Extra(w, op.Attributes);
        foreach (var s in op.InstanceAttributes) WriteSet(w, s);
        foreach (var s in op.MetaAttributes) WriteSet(w, s);
        w.WriteEndElement();
    }

    private static string SetElement(AttributeSetKind kind) => kind switch
    {
        AttributeSetKind.Instance => "instance_attributes",
        AttributeSetKind.Meta => "meta_attributes",
        AttributeSetKind.Utilization => "utilization",
        _ => "cluster_property_set",
    };

    private static void WriteSet(XmlWriter w, AttributeSet s)
    {
        w.WriteStartElement(SetElement(s.Kind));
        if (s.Id.Length > 0 || s.IdRef is null) w.WriteAttributeString("id", s.Id);
        Opt(w, "id-ref", s.IdRef);
        Opt(w, "score", s.Score?.ToString());
        Extra(w, s.Extra);
        if (s.Rule is not null) WriteRule(w, s.Rule);
        foreach (var p in s.Pairs)
        {
            w.WriteStartElement("nvpair");
            if (p.Id.Length > 0) w.WriteAttributeString("id", p.Id);
            Opt(w, "id-ref", p.IdRef);
            w.WriteAttributeString("name", p.Name);
            Opt(w, "value", p.Value);
            w.WriteEndElement();
        }
        w.WriteEndElement();
    }

    private static void WriteRule(XmlWriter w, Rule r)
    {
        w.WriteStartElement("rule");
        if (r.Id.Length > 0 || r.IdRef is null) w.WriteAttributeString("id", r.Id);
        Opt(w, "id-ref", r.IdRef);
        Opt(w, "score", r.Score?.ToString());
        Opt(w, "score-attribute", r.ScoreAttribute);
        Opt(w, "role", r.Role);
        Opt(w, "boolean-op", r.BooleanOp);
        Extra(w, r.Extra);
        foreach (var e in r.Expressions) WriteExpression(w, e);
        w.WriteEndElement();
    }

    private static void WriteExpression(XmlWriter w, RuleExpression e)
    {
        switch (e)
        {
            case Rule r: WriteRule(w, r); return;
            case AttributeExpression a:
                w.WriteStartElement("expression");
                w.WriteAttributeString("id", a.Id);
                w.WriteAttributeString("attribute", a.Attribute);
                w.WriteAttributeString("operation", a.Operation);
                Opt(w, "value", a.Value);
                Opt(w, "type", a.Type);
                Opt(w, "value-source", a.ValueSource);
                break;
            case DateExpression d:
                w.WriteStartElement("date_expression");
                w.WriteAttributeString("id", d.Id);
                w.WriteAttributeString("operation", d.Operation);
                Opt(w, "start", d.Start);
                Opt(w, "end", d.End);
                Extra(w, e.Extra);
                WriteFields(w, "date_spec", d.DateSpec);
                WriteFields(w, "duration", d.Duration);
                w.WriteEndElement();
                return;
            case ResourceExpression re:
                w.WriteStartElement("rsc_expression");
                w.WriteAttributeString("id", re.Id);
                Opt(w, "class", re.Class);
                Opt(w, "provider", re.Provider);
                Opt(w, "type", re.Type);
                break;
            case OperationExpression oe:
                w.WriteStartElement("op_expression");
                w.WriteAttributeString("id", oe.Id);
                w.WriteAttributeString("name", oe.Name);
                Opt(w, "interval", oe.Interval);
                break;
            default: return;
        }
        Extra(w, e.Extra);
        w.WriteEndElement();
    }

    private static void WriteFields(XmlWriter w, string element, DateFields? f)
    {
        if (f is null) return;
        w.WriteStartElement(element);
        if (f.Id.Length > 0) w.WriteAttributeString("id", f.Id);
        Extra(w, f.Fields);
        w.WriteEndElement();
    }

    private static void WriteConstraint(XmlWriter w, Constraint c)
    {
        switch (c)
        {
            case LocationConstraint l:
                w.WriteStartElement("rsc_location");
                w.WriteAttributeString("id", l.Id);
                Opt(w, "rsc", l.Resource);
                Opt(w, "rsc-pattern", l.ResourcePattern);
                Opt(w, "role", l.Role);
                Opt(w, "score", l.Score?.ToString());
                Opt(w, "node", l.Node);
                Opt(w, "resource-discovery", l.ResourceDiscovery);
                Extra(w, l.Extra);
                foreach (var s in l.Sets) WriteResourceSet(w, s);
                foreach (var r in l.Rules) WriteRule(w, r);
                w.WriteEndElement();
                break;
            case ColocationConstraint k:
                w.WriteStartElement("rsc_colocation");
                w.WriteAttributeString("id", k.Id);
                Opt(w, "score", k.Score?.ToString());
                Opt(w, "rsc", k.Resource);
                Opt(w, "rsc-role", k.ResourceRole);
                Opt(w, "with-rsc", k.WithResource);
                Opt(w, "with-rsc-role", k.WithResourceRole);
                Opt(w, "node-attribute", k.NodeAttribute);
                Opt(w, "influence", k.Influence);
                Extra(w, k.Extra);
                foreach (var s in k.Sets) WriteResourceSet(w, s);
                w.WriteEndElement();
                break;
            case OrderConstraint o:
                w.WriteStartElement("rsc_order");
                w.WriteAttributeString("id", o.Id);
                Opt(w, "kind", o.Kind);
                Opt(w, "score", o.Score?.ToString());
                Opt(w, "first", o.First);
                Opt(w, "first-action", o.FirstAction);
                Opt(w, "then", o.Then);
                Opt(w, "then-action", o.ThenAction);
                Opt(w, "symmetrical", Bool(o.Symmetrical));
                Opt(w, "require-all", Bool(o.RequireAll));
                Extra(w, o.Extra);
                foreach (var s in o.Sets) WriteResourceSet(w, s);
                w.WriteEndElement();
                break;
            case UnsupportedConstraint u:
                WriteOpaque(w, u.Element);
                break;
        }
    }

    private static void WriteResourceSet(XmlWriter w, ResourceSet s)
    {
        w.WriteStartElement("resource_set");
        if (s.Id.Length > 0 || s.IdRef is null) w.WriteAttributeString("id", s.Id);
        Opt(w, "id-ref", s.IdRef);
        Opt(w, "sequential", Bool(s.Sequential));
        Opt(w, "require-all", Bool(s.RequireAll));
        Opt(w, "ordering", s.Ordering);
        Opt(w, "action", s.Action);
        Opt(w, "role", s.Role);
        Opt(w, "score", s.Score?.ToString());
        Opt(w, "kind", s.Kind);
        Extra(w, s.Extra);
        foreach (var r in s.Resources)
        {
            w.WriteStartElement("resource_ref");
            w.WriteAttributeString("id", r);
            w.WriteEndElement();
        }
        w.WriteEndElement();
    }

    private static void WriteLevel(XmlWriter w, FencingLevel l)
    {
        w.WriteStartElement("fencing-level");
        w.WriteAttributeString("id", l.Id);
        Opt(w, "target", l.Target);
        Opt(w, "target-pattern", l.TargetPattern);
        Opt(w, "target-attribute", l.TargetAttribute);
        Opt(w, "target-value", l.TargetValue);
        w.WriteAttributeString("index", l.Index.ToString(System.Globalization.CultureInfo.InvariantCulture));
        w.WriteAttributeString("devices", string.Join(',', l.Devices));
        Extra(w, l.Extra);
        w.WriteEndElement();
    }

    private static void WriteNodeState(XmlWriter w, NodeState n)
    {
        w.WriteStartElement("node_state");
        w.WriteAttributeString("id", n.Id);
        Opt(w, "uname", n.Uname);
        Opt(w, "in_ccm", n.InCcm);
        Opt(w, "crmd", n.Crmd);
        Opt(w, "join", n.Join);
        Opt(w, "expected", n.Expected);
        Extra(w, n.Extra);
        if (n.TransientId is not null || n.TransientAttributes.Count > 0)
        {
            w.WriteStartElement("transient_attributes");
            w.WriteAttributeString("id", n.TransientId ?? n.Id);
            foreach (var s in n.TransientAttributes) WriteSet(w, s);
            w.WriteEndElement();
        }
        if (n.HasLrm)
        {
            w.WriteStartElement("lrm");
            w.WriteAttributeString("id", n.LrmId ?? n.Id);
            w.WriteStartElement("lrm_resources");
            Opt(w, "id", n.LrmResourcesId);
            foreach (var r in n.Resources)
            {
                w.WriteStartElement("lrm_resource");
                w.WriteAttributeString("id", r.Id);
                Opt(w, "class", r.Class);
                Opt(w, "provider", r.Provider);
                Opt(w, "type", r.Type);
                Extra(w, r.Extra);
                foreach (var op in r.Ops)
                {
                    w.WriteStartElement("lrm_rsc_op");
                    w.WriteAttributeString("id", op.Id);
                    Extra(w, op.Attributes);
                    foreach (var c in op.Children) WriteOpaque(w, c);
                    w.WriteEndElement();
                }
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndElement();
        }
        w.WriteEndElement();
    }

    private static void WriteOpaque(XmlWriter w, OpaqueElement e)
    {
        w.WriteStartElement(e.Name);
        Extra(w, e.Attributes);
        if (e.Text is not null) w.WriteString(e.Text);
        foreach (var c in e.Children) WriteOpaque(w, c);
        w.WriteEndElement();
    }

    private static void Opt(XmlWriter w, string name, string? value)
    {
        if (value is not null) w.WriteAttributeString(name, value);
    }

    private static void Extra(XmlWriter w, IReadOnlyList<KeyValuePair<string, string>> extra)
    {
        foreach (var kv in extra) w.WriteAttributeString(kv.Key, kv.Value);
    }

    private static string? Bool(bool? b) => b switch { true => "true", false => "false", null => null };
}
