namespace Vigil.Core.Model;

/// <summary>A rule: expressions combined with and/or; used by location constraints and attribute sets.</summary>
public sealed record Rule(string Id) : RuleExpression(Id)
{
    public Score? Score { get; init; }
    public string? ScoreAttribute { get; init; }
    public string? Role { get; init; }
    /// <summary>"and" (the default, left out of the XML when null) or "or".</summary>
    public string? BooleanOp { get; init; }
    public IReadOnlyList<RuleExpression> Expressions { get; init; } = [];
    public string? IdRef { get; init; }
}

/// <summary>Base of every expression a rule can hold.</summary>
public abstract record RuleExpression(string Id)
{
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];
}

/// <summary>Comparison of a node attribute: <c>#uname eq node1</c>, <c>defined pingd</c>.</summary>
public sealed record AttributeExpression(string Id, string Attribute, string Operation) : RuleExpression(Id)
{
    public string? Value { get; init; }
    /// <summary>string, integer, number or version (Pacemaker's legacy "number" meant integer).</summary>
    public string? Type { get; init; }
    /// <summary>literal (default), param or meta.</summary>
    public string? ValueSource { get; init; }
}

/// <summary>A date expression: lt, gt, in_range or date_spec.</summary>
public sealed record DateExpression(string Id, string Operation) : RuleExpression(Id)
{
    public string? Start { get; init; }
    public string? End { get; init; }
    /// <summary>date_spec fields (hours="9-17" weekdays="1-5" …), with the date_spec id.</summary>
    public DateFields? DateSpec { get; init; }
    /// <summary>duration fields for in_range with a duration.</summary>
    public DateFields? Duration { get; init; }
}

public sealed record DateFields(string Id, IReadOnlyList<KeyValuePair<string, string>> Fields);

/// <summary>rsc_expression (rsc_defaults rules): matches resources by class, provider and type.</summary>
public sealed record ResourceExpression(string Id) : RuleExpression(Id)
{
    public string? Class { get; init; }
    public string? Provider { get; init; }
    public string? Type { get; init; }
}

/// <summary>op_expression (op_defaults rules): matches operations by name and interval.</summary>
public sealed record OperationExpression(string Id, string Name) : RuleExpression(Id)
{
    public string? Interval { get; init; }
}
