using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Crm;

public sealed partial class CrmParser
{
    private static readonly HashSet<string> ExpressionOps = ["lt", "gt", "lte", "gte", "eq", "ne"];
    private static readonly HashSet<string> ExpressionTypes = ["string", "integer", "number", "version"];
    private static readonly HashSet<string> OrderActions = ["start", "stop", "promote", "demote"];

    private static bool IsScoreToken(CrmToken t) => !t.IsAssignment && t.Text.Length > 1 && t.Text.EndsWith(':') && !t.Quoted;

    // ----- location ------------------------------------------------------------------------------

    private void ParseLocation(Cursor c)
    {
        var idTok = c.Expect("a constraint id", "write: location <id> <resource> <score>: <node>");
        var id = DefineId(idTok, "constraint");
        var rscTok = c.Expect("a resource", $"write: location {id} <resource> 100: <node>");
        string? rsc = null, pattern = null;
        List<ResourceSet> sets = [];
        if (rscTok.Text.Length > 1 && rscTok.Text.StartsWith('/') && rscTok.Text.EndsWith('/')) pattern = rscTok.Text[1..^1];
        else if (rscTok.Text == "{")
        {
            var names = new List<string>();
            while (!c.AtEnd && c.Peek!.Text != "}") names.Add(c.Next().Text);
            if (c.AtEnd) throw c.Error("VC040", "'{' without a closing '}'", "close the resource set with '}'");
            c.Next();
            sets.Add(new ResourceSet(_ids.Next(id)) { Resources = names });
        }
        else rsc = rscTok.Text;
        string? role = null, discovery = null;
        while (!c.AtEnd && c.Peek!.IsAssignment)
        {
            var t = c.Next();
            switch (t.Name)
            {
                case "role": role = CheckRole(t); break;
                case "resource-discovery":
                    if (t.Value is not ("always" or "never" or "exclusive"))
                        Error("VC041", $"resource-discovery '{t.Value}' is not valid", t, "use always, never or exclusive");
                    discovery = t.Value; break;
                default: throw c.ErrorAt(t, "VC042", $"unexpected '{t.Text}' in location '{id}'", "after the resource may come role=… and resource-discovery=…, then '<score>: <node>' or 'rule …'");
            }
        }
        if (c.AtEnd) throw c.Error("VC043", $"location '{id}' has no score and node (or rule)", $"write: location {id} {rscTok.Text} 100: <node>");
        var loc = new LocationConstraint(id) { Resource = rsc, ResourcePattern = pattern, Sets = sets, Role = role, ResourceDiscovery = discovery };
        var first = c.Peek!;
        if (IsScoreToken(first))
        {
            c.Next();
            var score = ParseScore(first, allowAttribute: false);
            var node = c.Expect("a node name", $"write: location {id} {rscTok.Text} {first.Text} <node>");
            if (node.IsAssignment && node.Name == "role")
                throw c.ErrorAt(node, "VC042", "role= belongs before the score", $"write: location {id} {rscTok.Text} {node.Text} {first.Text} <node>");
            if (!c.AtEnd) throw c.Error("VC044", $"unexpected '{c.Peek!.Text}' after the node name", "a location has one score and one node; write a rule for more conditions");
            loc = loc with { Score = score, Node = node.Text };
        }
        else if (first.Text == "rule")
        {
            var rules = new List<Rule>();
            while (!c.AtEnd)
            {
                var ruleTok = c.Next();
                if (ruleTok.Text != "rule") throw c.ErrorAt(ruleTok, "VC045", $"expected 'rule', found '{ruleTok.Text}'", "each further condition starts with 'rule'");
                var (rule, nodeShortcut) = ParseRule(c, id, rscTok.Text, role);
                if (nodeShortcut is not null)
                {
                    if (rules.Count > 0 || !c.AtEnd)
                        throw c.ErrorAt(nodeShortcut.Value.Token, "VC046", $"'{nodeShortcut.Value.Token.Text}' is not an expression",
                            $"write #uname eq {nodeShortcut.Value.Token.Text}");
                    // Seen in how-tos: "location prefer-node1 my_services rule 50: node1" (crmsh rejects it).
                    Warn("VC047", $"'rule {nodeShortcut.Value.ScoreText} {nodeShortcut.Value.Token.Text}' is not valid crm syntax; read as a node preference", nodeShortcut.Value.Token,
                        $"write: location {id} {rscTok.Text} {nodeShortcut.Value.ScoreText} {nodeShortcut.Value.Token.Text}   (or: rule {nodeShortcut.Value.ScoreText} #uname eq {nodeShortcut.Value.Token.Text})");
                    loc = loc with { Score = nodeShortcut.Value.Score, Node = nodeShortcut.Value.Token.Text };
                    _constraints.Add((loc, Loc(idTok)));
                    return;
                }
                rules.Add(rule!);
            }
            loc = loc with { Rules = rules };
        }
        else
        {
            throw c.ErrorAt(first, "VC043", $"expected '<score>:' or 'rule' in location '{id}', found '{first.Text}'",
                first.Text.All(ch => char.IsLetterOrDigit(ch) || ch is '-' or '+') ? $"add a colon after the score: {first.Text}:" : $"write: location {id} {rscTok.Text} 100: <node>");
        }
        _constraints.Add((loc, Loc(idTok)));
    }

    private string CheckRole(CrmToken t)
    {
        if (!Roles.TryParse(t.Value, out _))
            Error("VC022", $"'{t.Value}' is not a role", t, "use Started, Stopped, Promoted or Unpromoted (Master/Slave are the old names)");
        return t.Value!;
    }

    /// <summary>Score words: inf, -inf, +inf, INFINITY, integers, or (in rules) a node attribute name.</summary>
    private (Score? Score, string? Attribute) ParseScoreOrAttribute(CrmToken t)
    {
        var text = t.Text[..^1];
        if (Score.TryParse(text, out var s)) return (s, null);
        if (text.Length > 0 && (char.IsLetter(text[0]) || text[0] is '#' or '_')) return (null, text);
        throw new CrmSyntaxException(Diag(Severity.Error, "VC048", $"'{text}' is not a score", t, "write an integer, inf or -inf followed by a colon, e.g. 100:"));
    }

    private Score ParseScore(CrmToken t, bool allowAttribute)
    {
        var (s, attr) = ParseScoreOrAttribute(t);
        if (s is not null) return s.Value;
        throw new CrmSyntaxException(Diag(Severity.Error, "VC048", $"'{attr}' is not a score", t,
            allowAttribute ? "write an integer, inf or -inf followed by a colon" : "a node attribute as score is allowed only in a rule: rule <attribute>: defined <attribute>"));
    }

    private readonly record struct NodeShortcut(CrmToken Token, Score Score, string ScoreText);

    private (Rule? Rule, NodeShortcut? Shortcut) ParseRule(Cursor c, string locId, string rscText, string? locRole)
    {
        string? explicitId = null, role = null;
        while (!c.AtEnd && c.Peek!.IsAssignment)
        {
            var t = c.Next();
            switch (t.Name)
            {
                case "$id": explicitId = t.Value; break;
                case "$role" or "role": role = CheckRole(t); break;
                case "score-attribute": throw c.ErrorAt(t, "VC049", "write the attribute as the score instead", $"write: rule {t.Value}: defined {t.Value}");
                default: throw c.ErrorAt(t, "VC049", $"unexpected '{t.Text}' in a rule", "a rule is: rule [$role=<role>] <score>: <expression>");
            }
        }
        var scoreTok = c.Expect("the rule's score, such as 100: or -inf:", "write: rule 100: #uname eq node1");
        if (!IsScoreToken(scoreTok))
            throw c.ErrorAt(scoreTok, "VC043", $"expected the rule's score before '{scoreTok.Text}'", $"write: rule 100: {scoreTok.Text} …");
        var (score, scoreAttr) = ParseScoreOrAttribute(scoreTok);
        var ruleId = explicitId ?? _ids.Next($"{locId}-rule");
        if (explicitId is not null && !_ids.Claim(explicitId))
            throw c.ErrorAt(scoreTok, "VC011", $"the id '{explicitId}' is already used", "choose another $id");
        // The how-to form "rule 50: node1": one bare word that is not an expression keyword.
        var next = c.Peek;
        if (next is not null && score is not null && !next.IsAssignment && next.Text is not ("defined" or "not_defined" or "date")
            && (c.PeekAt(1) is null || c.PeekAt(1)!.Text == "rule"))
        {
            c.Next();
            return (null, new NodeShortcut(next, score.Value, scoreTok.Text));
        }
        var expressions = new List<RuleExpression>();
        string? booleanOp = null;
        while (true)
        {
            expressions.Add(ParseExpression(c, ruleId));
            if (c.AtEnd || c.Peek!.Text == "rule") break;
            var op = c.Next();
            if (op.Text is not ("and" or "or"))
                throw c.ErrorAt(op, "VC050", $"expected 'and' or 'or' between expressions, found '{op.Text}'", "join conditions with and/or, or start another 'rule'");
            if (booleanOp is not null && booleanOp != op.Text)
                throw c.ErrorAt(op, "VC051", "one rule cannot mix 'and' and 'or'", "split it into two rules (each rule adds its score where it matches)");
            booleanOp = op.Text;
        }
        var rule = new Rule(ruleId)
        {
            Score = score, ScoreAttribute = scoreAttr, Role = role,
            BooleanOp = booleanOp == "or" ? "or" : null,
            Expressions = expressions,
        };
        return (rule, null);
    }

    private RuleExpression ParseExpression(Cursor c, string ruleId)
    {
        var first = c.Expect("an expression such as '#uname eq node1' or 'defined pingd'", "write: rule 100: #uname eq node1");
        if (first.Text is "defined" or "not_defined")
        {
            var attr = c.Expect("an attribute name", $"write: {first.Text} <attribute>");
            return new AttributeExpression(_ids.Next($"{ruleId}-expression"), attr.Text, first.Text);
        }
        if (first.Text == "date") return ParseDate(c, first, ruleId);
        var opTok = c.Expect("a comparison (eq, ne, lt, lte, gt, gte)", $"write: {first.Text} eq <value>");
        string? type = null;
        var opText = opTok.Text;
        var colon = opText.IndexOf(':');
        if (colon > 0)
        {
            type = opText[..colon];
            opText = opText[(colon + 1)..];
            if (!ExpressionTypes.Contains(type))
                throw c.ErrorAt(opTok, "VC052", $"'{type}' is not a comparison type", "use string:, integer:, number: or version:");
        }
        if (!ExpressionOps.Contains(opText))
            throw c.ErrorAt(opTok, "VC053", $"'{opTok.Text}' is not a comparison",
                Suggest(opText, ExpressionOps) ?? "use eq, ne, lt, lte, gt or gte (optionally typed: version:gt)");
        var value = c.Expect("a value to compare with", $"write: {first.Text} {opTok.Text} <value>");
        return new AttributeExpression(_ids.Next($"{ruleId}-expression"), first.Text, opText) { Value = value.Text, Type = type };
    }

    private static readonly HashSet<string> DateFieldNames = ["hours", "monthdays", "weekdays", "yeardays", "months", "weeks", "years", "weekyears", "moon", "minutes", "seconds"];

    private DateExpression ParseDate(Cursor c, CrmToken dateTok, string ruleId)
    {
        var opTok = c.Expect("a date operation (gt, lt, in, spec)", "write: date spec hours=9-17 weekdays=1-5");
        var id = _ids.Next($"{ruleId}-expression");
        switch (opTok.Text)
        {
            case "gt" or "lt":
                var when = c.Expect("a date", $"write: date {opTok.Text} 2030-01-01");
                return opTok.Text == "gt" ? new DateExpression(id, "gt") { Start = when.Text } : new DateExpression(id, "lt") { End = when.Text };
            case "spec":
                var fields = ReadDateFields(c, id);
                if (fields.Count == 0) throw c.Error("VC054", "'date spec' needs fields", "write: date spec hours=9-17 weekdays=1-5");
                return new DateExpression(id, "date_spec") { DateSpec = new DateFields(_ids.Next($"{id}-date_spec"), fields) };
            case "in" or "in_range":
                string? start = null, end = null;
                var dur = new List<KeyValuePair<string, string>>();
                while (!c.AtEnd && c.Peek!.IsAssignment)
                {
                    var t = c.Next();
                    if (t.Name == "start") start = t.Value;
                    else if (t.Name == "end") end = t.Value;
                    else if (DateFieldNames.Contains(t.Name!)) dur.Add(new(t.Name!, t.Value!));
                    else throw c.ErrorAt(t, "VC054", $"'{t.Name}' is not a date range field", "write: date in start=2030-01-01 end=2030-12-31 (or a duration: years=1)");
                }
                if (start is null && end is null) throw c.Error("VC054", "'date in' needs start= or end=", "write: date in start=2030-01-01 end=2030-12-31");
                return new DateExpression(id, "in_range")
                {
                    Start = start, End = end,
                    Duration = dur.Count > 0 ? new DateFields(_ids.Next($"{id}-duration"), dur) : null,
                };
            default:
                throw c.ErrorAt(opTok, "VC054", $"'{opTok.Text}' is not a date operation", "use date gt <date>, date lt <date>, date in start=… end=…, or date spec …");
        }
    }

    private List<KeyValuePair<string, string>> ReadDateFields(Cursor c, string id)
    {
        var fields = new List<KeyValuePair<string, string>>();
        while (!c.AtEnd && c.Peek!.IsAssignment)
        {
            var t = c.Next();
            if (!DateFieldNames.Contains(t.Name!))
                throw c.ErrorAt(t, "VC054", $"'{t.Name}' is not a date_spec field", Suggest(t.Name!, DateFieldNames) ?? "use hours, weekdays, monthdays, months, years, …");
            fields.Add(new(t.Name!, t.Value!));
        }
        return fields;
    }

    // ----- colocation and order ------------------------------------------------------------------

    /// <summary>One member of a constraint: resource plus optional :role (colocation) or :action (order).</summary>
    private readonly record struct Member(CrmToken Token, string Resource, string? Suffix);

    private sealed record SetSpec(List<Member> Members, bool Sequential, bool RequireAll);

    private List<object> ReadMembers(Cursor c, string id)
    {
        // Returns Member for bare resources, and SetSpec for ( … ) and [ … ].
        var items = new List<object>();
        while (!c.AtEnd && !c.Peek!.IsAssignment)
        {
            var t = c.Next();
            if (t.Text is "(" or "[")
            {
                var close = t.Text == "(" ? ")" : "]";
                var members = new List<Member>();
                while (!c.AtEnd && c.Peek!.Text != close)
                {
                    var m = c.Next();
                    if (m.Text is "(" or "[" or ")" or "]") throw c.ErrorAt(m, "VC060", $"unexpected '{m.Text}' inside a resource set", $"close the set with '{close}' first");
                    if (m.IsAssignment) throw c.ErrorAt(m, "VC060", "options inside resource sets are not supported in Vigil's crm syntax yet", "keep this constraint in CIB XML");
                    members.Add(ToMember(m));
                }
                if (c.AtEnd) throw c.Error("VC061", $"'{t.Text}' without a closing '{close}'", $"close the set with '{close}'");
                c.Next();
                if (members.Count == 0) throw c.ErrorAt(t, "VC062", "empty resource set", "put at least one resource between the brackets");
                items.Add(new SetSpec(members, Sequential: false, RequireAll: t.Text == "("));
            }
            else if (t.Text is ")" or "]") throw c.ErrorAt(t, "VC060", $"'{t.Text}' without an opening bracket", "remove it");
            else items.Add(ToMember(t));
        }
        return items;

        Member ToMember(CrmToken t)
        {
            var i = t.Text.IndexOf(':');
            return i < 0 ? new Member(t, t.Text, null) : new Member(t, t.Text[..i], t.Text[(i + 1)..]);
        }
    }

    /// <summary>Turns members into resource sets the way crmsh does: consecutive bare resources form one sequential set.</summary>
    private List<ResourceSet> BuildSets(string id, List<object> items, bool order)
    {
        var sets = new List<ResourceSet>();
        var run = new List<Member>();
        void FlushRun()
        {
            if (run.Count == 0) return;
            // Members of one set share a role/action; a change starts a new set.
            var chunk = new List<Member>();
            foreach (var m in run)
            {
                if (chunk.Count > 0 && chunk[0].Suffix != m.Suffix) { sets.Add(MakeResourceSet(id, chunk, true, true, order)); chunk = []; }
                chunk.Add(m);
            }
            if (chunk.Count > 0) sets.Add(MakeResourceSet(id, chunk, true, true, order));
            run = [];
        }
        foreach (var item in items)
        {
            if (item is Member m) { run.Add(m); continue; }
            FlushRun();
            var spec = (SetSpec)item;
            var suffixes = spec.Members.Select(x => x.Suffix).Distinct().ToList();
            if (suffixes.Count > 1)
                throw new CrmSyntaxException(Diag(Severity.Error, "VC063", "members of one bracketed set must share one role or action", spec.Members[0].Token,
                    "split the set, or give every member the same :role / :action"));
            sets.Add(MakeResourceSet(id, spec.Members, spec.Sequential, spec.RequireAll, order));
        }
        FlushRun();
        return sets;
    }

    private ResourceSet MakeResourceSet(string id, List<Member> members, bool sequential, bool requireAll, bool order)
    {
        var suffix = members[0].Suffix;
        string? role = null, action = null;
        if (suffix is not null)
        {
            if (order) action = CheckAction(members[0].Token, suffix);
            else role = CheckRoleSuffix(members[0].Token, suffix);
        }
        return new ResourceSet(_ids.Next(id))
        {
            Sequential = sequential ? null : false,
            RequireAll = requireAll ? null : false,
            Role = role, Action = action,
            Resources = members.Select(m => m.Resource).ToList(),
        };
    }

    private string CheckRoleSuffix(CrmToken t, string suffix)
    {
        if (!Roles.TryParse(suffix, out _))
            Error("VC022", $"'{suffix}' is not a role", t, "use Started, Promoted or Unpromoted (Master/Slave are the old names)");
        return suffix;
    }

    private string CheckAction(CrmToken t, string suffix)
    {
        if (!OrderActions.Contains(suffix))
            Error("VC064", $"'{suffix}' is not an action for ordering", t, Suggest(suffix, OrderActions) ?? "use start, stop, promote or demote");
        return suffix;
    }

    private void ParseColocation(Cursor c)
    {
        var idTok = c.Expect("a constraint id", "write: colocation <id> inf: <resource> <with-resource>");
        var id = DefineId(idTok, "constraint");
        var scoreTok = c.Expect("a score such as inf: or -inf:", $"write: colocation {id} inf: <resource> <with-resource>");
        if (!IsScoreToken(scoreTok))
            throw c.ErrorAt(scoreTok, "VC043", $"expected the colocation score before '{scoreTok.Text}'", $"write: colocation {id} inf: {scoreTok.Text} …");
        var score = ParseScore(scoreTok, allowAttribute: false);
        var items = ReadMembers(c, id);
        string? nodeAttribute = null;
        while (!c.AtEnd)
        {
            var t = c.Next();
            if (t.Name == "node-attribute") nodeAttribute = t.Value;
            else throw c.ErrorAt(t, "VC065", $"unexpected '{t.Text}' in colocation '{id}'", "only node-attribute=… may follow the resources");
        }
        if (items.Count < 2 && !(items.Count == 1 && items[0] is SetSpec))
            throw c.Error("VC066", $"colocation '{id}' needs two resources", $"write: colocation {id} {scoreTok.Text} <resource> <with-resource>  (the first is placed where the second runs)", atEnd: true);
        ColocationConstraint col;
        if (items.Count == 2 && items.All(i => i is Member))
        {
            var a = (Member)items[0];
            var b = (Member)items[1];
            col = new ColocationConstraint(id)
            {
                Score = score, Resource = a.Resource, WithResource = b.Resource,
                ResourceRole = a.Suffix is null ? null : CheckRoleSuffix(a.Token, a.Suffix),
                WithResourceRole = b.Suffix is null ? null : CheckRoleSuffix(b.Token, b.Suffix),
                NodeAttribute = nodeAttribute,
            };
            if (a.Resource == b.Resource)
                Error("VC067", $"colocation '{id}' places '{a.Resource}' relative to itself", a.Token, "name two different resources");
        }
        else
        {
            col = new ColocationConstraint(id) { Score = score, NodeAttribute = nodeAttribute, Sets = BuildSets(id, items, order: false) };
        }
        _constraints.Add((col, Loc(idTok)));
    }

    private void ParseOrder(Cursor c)
    {
        var idTok = c.Expect("a constraint id", "write: order <id> Mandatory: <first> <then>");
        var id = DefineId(idTok, "constraint");
        string? kind = null;
        Score? legacyScore = null;
        if (!c.AtEnd && IsScoreToken(c.Peek!))
        {
            var k = c.Next();
            var text = k.Text[..^1];
            switch (text.ToLowerInvariant())
            {
                case "mandatory": kind = "Mandatory"; break;
                case "optional": kind = "Optional"; break;
                case "serialize": kind = "Serialize"; break;
                default:
                    if (!Score.TryParse(text, out var s))
                        throw c.ErrorAt(k, "VC068", $"'{text}' is not an order kind", Suggest(text, ["Mandatory", "Optional", "Serialize"]) ?? "use Mandatory:, Optional: or Serialize: (inf: means Mandatory, 0: Optional)");
                    if (s.Value < 0)
                        throw c.ErrorAt(k, "VC068", $"order score {text} has no meaning", "use Mandatory: (or inf:) or Optional: (or 0:)");
                    // crmsh turns the legacy score form into a kind.
                    kind = s.Value == 0 ? "Optional" : "Mandatory";
                    legacyScore = null;
                    break;
            }
        }
        var items = ReadMembers(c, id);
        bool? symmetrical = null, requireAll = null;
        while (!c.AtEnd)
        {
            var t = c.Next();
            if (t.Name is "symmetrical" or "require-all")
            {
                if (!Truth.IsBoolean(t.Value)) throw c.ErrorAt(t, "VC069", $"{t.Name} must be true or false", $"write {t.Name}=false");
                if (t.Name == "symmetrical") symmetrical = Truth.IsTrue(t.Value); else requireAll = Truth.IsTrue(t.Value);
            }
            else throw c.ErrorAt(t, "VC065", $"unexpected '{t.Text}' in order '{id}'", "only symmetrical=… may follow the resources");
        }
        if (items.Count < 2 && !(items.Count == 1 && items[0] is SetSpec))
            throw c.Error("VC066", $"order '{id}' needs two resources", $"write: order {id} Mandatory: <first> <then>", atEnd: true);
        OrderConstraint ord;
        if (items.Count == 2 && items.All(i => i is Member))
        {
            var a = (Member)items[0];
            var b = (Member)items[1];
            if (a.Resource == b.Resource)
                Error("VC067", $"order '{id}' orders '{a.Resource}' after itself", a.Token, "name two different resources");
            ord = new OrderConstraint(id)
            {
                Kind = kind, Score = legacyScore, First = a.Resource, Then = b.Resource,
                FirstAction = a.Suffix is null ? null : CheckAction(a.Token, a.Suffix),
                ThenAction = b.Suffix is null ? null : CheckAction(b.Token, b.Suffix),
                Symmetrical = symmetrical, RequireAll = requireAll,
            };
        }
        else ord = new OrderConstraint(id) { Kind = kind, Symmetrical = symmetrical, RequireAll = requireAll, Sets = BuildSets(id, items, order: true) };
        _constraints.Add((ord, Loc(idTok)));
    }
}
