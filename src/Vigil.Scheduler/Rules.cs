using System.Globalization;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>Evaluates rules (attribute and date expressions) against one node's attributes at "now".</summary>
internal static class Rules
{
    public static bool Matches(Rule rule, Func<string, string?> attr, DateTimeOffset now, IReadOnlyDictionary<string, Rule> rulesById)
    {
        if (rule.IdRef is not null && rulesById.TryGetValue(rule.IdRef, out var target) && !ReferenceEquals(target, rule))
            return Matches(target, attr, now, rulesById);
        var or = string.Equals(rule.BooleanOp, "or", StringComparison.OrdinalIgnoreCase);
        if (rule.Expressions.Count == 0) return !or;
        foreach (var e in rule.Expressions)
        {
            var m = e switch
            {
                Rule r => Matches(r, attr, now, rulesById),
                AttributeExpression a => Attribute(a, attr),
                DateExpression d => Date(d, now),
                _ => true, // rsc_expression / op_expression are true outside their defaults context
            };
            if (or && m) return true;
            if (!or && !m) return false;
        }
        return !or;
    }

    private static bool Attribute(AttributeExpression e, Func<string, string?> attr)
    {
        var left = attr(e.Attribute);
        var op = e.Operation.ToLowerInvariant();
        if (op == "defined") return left is not null;
        if (op == "not_defined") return left is null;
        var right = e.Value;
        if (left is null || right is null) return op == "ne" && (left is null) != (right is null);
        var cmp = Compare(left, right, e.Type?.ToLowerInvariant());
        return op switch
        {
            "eq" => cmp == 0,
            "ne" => cmp != 0,
            "lt" => cmp < 0,
            "lte" => cmp <= 0,
            "gt" => cmp > 0,
            "gte" => cmp >= 0,
            _ => false,
        };
    }

    private static int Compare(string l, string r, string? type)
    {
        if (type is null)
        {
            // Pacemaker 2.1: with no type, values with a decimal point compare as numbers, others as integers, else strings.
            type = l.Contains('.') || r.Contains('.') ? "number" : "integer";
            if (!(TryDouble(l, out _) && TryDouble(r, out _))) type = "string";
        }
        switch (type)
        {
            case "integer":
                if (TryLeadingLong(l, out var li) && TryLeadingLong(r, out var ri)) return li.CompareTo(ri);
                break;
            case "number":
                if (TryDouble(l, out var ld) && TryDouble(r, out var rd)) return ld.CompareTo(rd);
                break;
            case "version":
                return CompareVersion(l, r);
        }
        return string.Compare(l, r, StringComparison.OrdinalIgnoreCase);
    }

    private static bool TryDouble(string s, out double v) =>
        double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out v);

    private static bool TryLeadingLong(string s, out long v)
    {
        s = s.Trim();
        var i = 0;
        if (i < s.Length && (s[i] == '-' || s[i] == '+')) i++;
        var start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
        if (i == start) { v = 0; return false; }
        return long.TryParse(s[..i], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out v);
    }

    private static int CompareVersion(string l, string r)
    {
        var a = l.Split('.');
        var b = r.Split('.');
        for (var i = 0; i < Math.Max(a.Length, b.Length); i++)
        {
            long x = i < a.Length && long.TryParse(a[i], out var xv) ? xv : 0;
            long y = i < b.Length && long.TryParse(b[i], out var yv) ? yv : 0;
            if (x != y) return x.CompareTo(y);
        }
        return 0;
    }

    private static bool Date(DateExpression d, DateTimeOffset now)
    {
        var op = d.Operation.ToLowerInvariant();
        DateTimeOffset? start = ParseDate(d.Start), end = ParseDate(d.End);
        return op switch
        {
            "gt" => start is { } s && now > s,
            "lt" => end is { } e && now < e,
            "in_range" => (start is null || now >= start) && (end is null || now <= end),
            _ => false, // date_spec and durations: not supported yet (no corpus input needs them)
        };
    }

    private static DateTimeOffset? ParseDate(string? s) =>
        s is not null && DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var v) ? v : null;

    /// <summary>The score a matching rule contributes on a node (score or score-attribute).</summary>
    public static Score RuleScore(Rule rule, Func<string, string?> attr)
    {
        if (rule.Score is { } s) return s;
        if (rule.ScoreAttribute is { } sa && Score.TryParse(attr(sa), out var v)) return v;
        return Score.Zero;
    }
}
