using System.Text;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Crm;

/// <summary>
/// Writes the configuration in crm shell syntax, formatted like <c>crm configure show</c>. Parts the
/// crm syntax cannot express (rules inside attribute sets, opaque XML sections) are reported as
/// diagnostics and written as comments, so nothing is lost silently.
/// </summary>
public sealed class CrmWriter
{
    private readonly StringBuilder _sb = new();
    private readonly List<Diagnostic> _diagnostics = [];

    public static (string Text, IReadOnlyList<Diagnostic> Diagnostics) Write(Configuration config)
    {
        var w = new CrmWriter();
        w.WriteAll(config);
        return (w._sb.ToString(), w._diagnostics);
    }

    private void WriteAll(Configuration c)
    {
        foreach (var n in c.Nodes) WriteNode(n);
        var all = c.Resources.SelectMany(r => r.SelfAndDescendants()).ToList();
        foreach (var p in all.OfType<Primitive>()) WritePrimitive(p);
        foreach (var g in all.OfType<Group>()) WriteGroup(g);
        foreach (var cl in all.OfType<Clone>()) WriteClone(cl);
        foreach (var u in all.OfType<UnsupportedResource>()) Unexpressible($"<{u.Element.Name} id=\"{u.Id}\">");
        foreach (var k in c.Constraints) WriteConstraint(k);
        if (c.FencingTopology.Count > 0) WriteFencing(c.FencingTopology);
        foreach (var s in c.Properties) WriteDefaults("property", s);
        foreach (var s in c.ResourceDefaults) WriteDefaults("rsc_defaults", s);
        foreach (var s in c.OperationDefaults) WriteDefaults("op_defaults", s);
        foreach (var o in c.Other) if (o.Children.Count > 0) Unexpressible($"<{o.Name}>");
    }

    private void Unexpressible(string what)
    {
        _diagnostics.Add(new Diagnostic(Severity.Warning, "VC090", $"{what} cannot be written in crm syntax and was left out", SourceLocation.None)
        {
            Hint = "convert to XML (--to xml) to keep it",
        });
        _sb.Append("# left out (not expressible in crm syntax): ").Append(what).Append('\n');
    }

    private sealed class Line(StringBuilder sb)
    {
        private bool _continued;
        public Line Add(string part)
        {
            sb.Append(' ').Append(part);
            return this;
        }
        public Line Break()
        {
            sb.Append(" \\\n\t");
            _continued = true;
            return this;
        }
        public Line Part(string part)
        {
            if (_continued) { sb.Append(part); _continued = false; }
            else sb.Append(' ').Append(part);
            return this;
        }
        public void End() => sb.Append('\n');
    }

    private Line Start(string keyword)
    {
        _sb.Append(keyword);
        return new Line(_sb);
    }

    internal static string Value(string v)
    {
        if (v.Length == 0) return "\"\"";
        bool plain = v.All(ch => !char.IsWhiteSpace(ch) && ch is not ('"' or '\'' or '\\' or '#' or '(' or ')' or '[' or ']' or '{' or '}'));
        return plain ? v : "\"" + v.Replace("\"", "\\\"") + "\"";
    }

    private static string Pairs(IEnumerable<NvPair> pairs) =>
        string.Join(' ', pairs.Where(p => p.Value is not null).Select(p => $"{p.Name}={Value(p.Value!)}"));

    private bool SetsExpressible(IReadOnlyList<AttributeSet> sets, string owner)
    {
        foreach (var s in sets)
            if (s.Rule is not null || s.IdRef is not null || s.Score is not null)
            {
                Unexpressible($"attribute set '{s.Id}' of '{owner}' (rule, score or id-ref)");
                return false;
            }
        return true;
    }

    private void WriteSets(Line line, string keyword, IReadOnlyList<AttributeSet> sets, string owner)
    {
        if (!SetsExpressible(sets, owner)) return;
        foreach (var s in sets)
        {
            if (s.Pairs.Count == 0) continue;
            line.Break().Part(keyword).Add(Pairs(s.Pairs));
        }
    }

    private void WriteNode(Node n)
    {
        var line = Start("node");
        line.Add(n.Id == n.Uname ? n.Uname : $"{n.Id}: {n.Uname}");
        if (n.Type is not null && n.Type != "member" && n.Type != "normal") _sb.Append(':').Append(n.Type);
        if (n.Description is not null) line.Add($"description={Value(n.Description)}");
        WriteSets(line, "attributes", n.InstanceAttributes, n.Uname);
        WriteSets(line, "utilization", n.Utilization, n.Uname);
        line.End();
    }

    private void WritePrimitive(Primitive p)
    {
        var line = Start("primitive").Add(p.Id).Add(p.Template is not null && p.Class.Length == 0 ? "@" + p.Template : p.Agent);
        if (p.Description is not null) line.Add($"description={Value(p.Description)}");
        WriteSets(line, "params", p.InstanceAttributes, p.Id);
        WriteSets(line, "meta", p.MetaAttributes, p.Id);
        WriteSets(line, "utilization", p.Utilization, p.Id);
        foreach (var op in p.Operations)
        {
            line.Break().Part("op").Add(op.Name);
            var attrs = new List<string> { $"interval={Value(op.Interval)}" };
            attrs.AddRange(op.Attributes.Select(kv => $"{kv.Key}={Value(kv.Value)}"));
            line.Add(string.Join(' ', attrs));
            if (!SetsExpressible(op.InstanceAttributes, op.Id) || !SetsExpressible(op.MetaAttributes, op.Id)) continue;
            foreach (var s in op.InstanceAttributes.Where(s => s.Pairs.Count > 0)) line.Break().Part("op_params").Add(Pairs(s.Pairs));
            foreach (var s in op.MetaAttributes.Where(s => s.Pairs.Count > 0)) line.Break().Part("op_meta").Add(Pairs(s.Pairs));
        }
        line.End();
    }

    private void WriteGroup(Group g)
    {
        var line = Start("group").Add(g.Id);
        foreach (var c in g.Children) line.Add(c.Id);
        if (g.Description is not null) line.Add($"description={Value(g.Description)}");
        WriteSets(line, "meta", g.MetaAttributes, g.Id);
        WriteSets(line, "params", g.InstanceAttributes, g.Id);
        line.End();
    }

    private void WriteClone(Clone c)
    {
        var line = Start(c.IsLegacyMaster ? "ms" : "clone").Add(c.Id).Add(c.Child.Id);
        if (c.Description is not null) line.Add($"description={Value(c.Description)}");
        WriteSets(line, "meta", c.MetaAttributes, c.Id);
        WriteSets(line, "params", c.InstanceAttributes, c.Id);
        line.End();
    }

    private void WriteConstraint(Constraint k)
    {
        switch (k)
        {
            case LocationConstraint l: WriteLocation(l); break;
            case ColocationConstraint c: WriteColocation(c); break;
            case OrderConstraint o: WriteOrder(o); break;
            case UnsupportedConstraint u: Unexpressible($"<{u.Element.Name} id=\"{u.Id}\">"); break;
        }
    }

    private void WriteLocation(LocationConstraint l)
    {
        string target;
        if (l.ResourcePattern is not null) target = $"/{l.ResourcePattern}/";
        else if (l.Resource is not null) target = l.Resource;
        else if (l.Sets.Count == 1 && l.Sets[0].IdRef is null) target = "{ " + string.Join(' ', l.Sets[0].Resources) + " }";
        else { Unexpressible($"location '{l.Id}' with several resource sets"); return; }
        var line = Start("location").Add(l.Id).Add(target);
        if (l.Role is not null) line.Add($"role={l.Role}");
        if (l.ResourceDiscovery is not null) line.Add($"resource-discovery={l.ResourceDiscovery}");
        if (l.Rules.Count == 0)
        {
            line.Add($"{(l.Score ?? Score.Zero).ToCrm()}:").Add(l.Node ?? "");
            line.End();
            return;
        }
        foreach (var r in l.Rules)
        {
            var text = RuleText(r, l.Id);
            if (text is null) { _sb.Append('\n'); Unexpressible($"a rule of location '{l.Id}'"); return; }
            line.Break().Part("rule").Add(text);
        }
        line.End();
    }

    private string? RuleText(Rule r, string owner)
    {
        if (r.IdRef is not null) return null;
        var parts = new List<string>();
        if (r.Role is not null) parts.Add($"$role={r.Role}");
        parts.Add((r.ScoreAttribute ?? (r.Score ?? Score.Zero).ToCrm()) + ":");
        var exprs = new List<string>();
        foreach (var e in r.Expressions)
        {
            var text = ExpressionText(e);
            if (text is null) return null;
            exprs.Add(text);
        }
        parts.Add(string.Join(r.BooleanOp == "or" ? " or " : " and ", exprs));
        return string.Join(' ', parts);
    }

    private static string? ExpressionText(RuleExpression e) => e switch
    {
        AttributeExpression { Operation: "defined" or "not_defined" } a => $"{a.Operation} {a.Attribute}",
        AttributeExpression { ValueSource: null } a => $"{a.Attribute} {(a.Type is null ? "" : a.Type + ":")}{a.Operation} {Value(a.Value ?? "")}",
        DateExpression { Operation: "gt", Start: not null } d => $"date gt {Value(d.Start)}",
        DateExpression { Operation: "lt", End: not null } d => $"date lt {Value(d.End)}",
        DateExpression { Operation: "date_spec", DateSpec: not null } d => "date spec " + string.Join(' ', d.DateSpec.Fields.Select(f => $"{f.Key}={Value(f.Value)}")),
        DateExpression { Operation: "in_range" } d => "date in" + (d.Start is null ? "" : $" start={Value(d.Start)}") + (d.End is null ? "" : $" end={Value(d.End)}")
            + (d.Duration is null ? "" : " " + string.Join(' ', d.Duration.Fields.Select(f => $"{f.Key}={Value(f.Value)}"))),
        _ => null,
    };

    private string? SetsText(IReadOnlyList<ResourceSet> sets, bool order)
    {
        var parts = new List<string>();
        foreach (var s in sets)
        {
            if (s.IdRef is not null || s.Score is not null || s.Kind is not null || s.Ordering is not null || s.Extra.Count > 0) return null;
            var suffix = order ? s.Action : s.Role;
            var names = s.Resources.Select(r => suffix is null ? r : $"{r}:{suffix}");
            if (s.Sequential == false) parts.Add((s.RequireAll == false ? "[ " : "( ") + string.Join(' ', names) + (s.RequireAll == false ? " ]" : " )"));
            else if (s.RequireAll == false) return null;
            else parts.Add(string.Join(' ', names));
        }
        // Consecutive sequential sets would merge into one when read back; keep them apart only if safe.
        for (int i = 1; i < sets.Count; i++)
            if (sets[i].Sequential != false && sets[i - 1].Sequential != false && (order ? sets[i].Action == sets[i - 1].Action : sets[i].Role == sets[i - 1].Role))
                return null;
        if (sets.Count == 1 && sets[0].Sequential != false && sets[0].Resources.Count <= 2) return null;
        return string.Join(' ', parts);
    }

    private void WriteColocation(ColocationConstraint c)
    {
        string? body;
        if (c.Sets.Count > 0) body = SetsText(c.Sets, order: false);
        else body = $"{c.Resource}{(c.ResourceRole is null ? "" : ":" + c.ResourceRole)} {c.WithResource}{(c.WithResourceRole is null ? "" : ":" + c.WithResourceRole)}";
        if (body is null || c.Score is null || c.Influence is not null || c.Extra.Count > 0) { Unexpressible($"colocation '{c.Id}'"); return; }
        var line = Start("colocation").Add(c.Id).Add($"{c.Score.Value.ToCrm()}:").Add(body);
        if (c.NodeAttribute is not null) line.Add($"node-attribute={c.NodeAttribute}");
        line.End();
    }

    private void WriteOrder(OrderConstraint o)
    {
        string? body;
        if (o.Sets.Count > 0) body = SetsText(o.Sets, order: true);
        else body = $"{o.First}{(o.FirstAction is null ? "" : ":" + o.FirstAction)} {o.Then}{(o.ThenAction is null ? "" : ":" + o.ThenAction)}";
        if (body is null || o.Extra.Count > 0) { Unexpressible($"order '{o.Id}'"); return; }
        var kind = o.Kind ?? (o.Score is { } s ? (s.Value == 0 ? "Optional" : s.Value > 0 ? "Mandatory" : null) : null);
        if (o.Score is { Value: < 0 }) { Unexpressible($"order '{o.Id}' (negative score)"); return; }
        var line = Start("order").Add(o.Id);
        if (kind is not null) line.Add(kind + ":");
        line.Add(body);
        if (o.Symmetrical is not null) line.Add($"symmetrical={(o.Symmetrical.Value ? "true" : "false")}");
        if (o.RequireAll is not null) line.Add($"require-all={(o.RequireAll.Value ? "true" : "false")}");
        line.End();
    }

    private void WriteFencing(IReadOnlyList<FencingLevel> levels)
    {
        if (levels.Any(l => l.Target is null))
        {
            Unexpressible("fencing levels with target patterns or attributes");
            levels = levels.Where(l => l.Target is not null).ToList();
            if (levels.Count == 0) return;
        }
        var line = Start("fencing_topology");
        foreach (var target in levels.Select(l => l.Target!).Distinct())
        {
            line.Break().Part(target + ":");
            foreach (var l in levels.Where(l => l.Target == target).OrderBy(l => l.Index)) line.Add(string.Join(',', l.Devices));
        }
        line.End();
    }

    private void WriteDefaults(string keyword, AttributeSet s)
    {
        if (!SetsExpressible([s], keyword)) return;
        if (s.Pairs.Count == 0) return;
        var line = Start(keyword);
        line.Add(s.Id + ":");
        foreach (var p in s.Pairs.Where(p => p.Value is not null)) line.Break().Part($"{p.Name}={Value(p.Value!)}");
        line.End();
    }
}
