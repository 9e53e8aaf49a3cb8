namespace Vigil.Core.Model;

/// <summary>Base of location, colocation and order constraints.</summary>
public abstract record Constraint(string Id)
{
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];
}

/// <summary>A resource set inside a constraint: <c>( A B )</c> is sequential=false in the crm shell.</summary>
public sealed record ResourceSet(string Id)
{
    public string? IdRef { get; init; }
    public bool? Sequential { get; init; }
    public bool? RequireAll { get; init; }
    public string? Ordering { get; init; }
    public string? Action { get; init; }
    public string? Role { get; init; }
    public Score? Score { get; init; }
    public string? Kind { get; init; }
    public IReadOnlyList<string> Resources { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];
}

/// <summary>rsc_location: a score for a node, or rules evaluated per node.</summary>
public sealed record LocationConstraint(string Id) : Constraint(Id)
{
    public string? Resource { get; init; }
    public string? ResourcePattern { get; init; }
    public IReadOnlyList<ResourceSet> Sets { get; init; } = [];
    public string? Role { get; init; }
    public Score? Score { get; init; }
    public string? Node { get; init; }
    public IReadOnlyList<Rule> Rules { get; init; } = [];
    public string? ResourceDiscovery { get; init; }
}

/// <summary>rsc_colocation: <c>Resource</c> is placed relative to <c>WithResource</c> (placed first).</summary>
public sealed record ColocationConstraint(string Id) : Constraint(Id)
{
    public Score? Score { get; init; }
    public string? Resource { get; init; }
    public string? WithResource { get; init; }
    public string? ResourceRole { get; init; }
    public string? WithResourceRole { get; init; }
    public string? NodeAttribute { get; init; }
    public string? Influence { get; init; }
    public IReadOnlyList<ResourceSet> Sets { get; init; } = [];
}

/// <summary>rsc_order: <c>Then</c> after <c>First</c>; kind Mandatory (default), Optional or Serialize.</summary>
public sealed record OrderConstraint(string Id) : Constraint(Id)
{
    public string? First { get; init; }
    public string? Then { get; init; }
    public string? FirstAction { get; init; }
    public string? ThenAction { get; init; }
    public string? Kind { get; init; }
    /// <summary>Legacy score form: 0 means Optional, anything else Mandatory.</summary>
    public Score? Score { get; init; }
    public bool? Symmetrical { get; init; }
    public bool? RequireAll { get; init; }
    public IReadOnlyList<ResourceSet> Sets { get; init; } = [];
}

/// <summary>A constraint kind Vigil preserves but does not interpret (rsc_ticket).</summary>
public sealed record UnsupportedConstraint(string Id, OpaqueElement Element) : Constraint(Id);

/// <summary>One fencing level: devices tried together for a target, levels tried in index order.</summary>
public sealed record FencingLevel(string Id, int Index, IReadOnlyList<string> Devices)
{
    public string? Target { get; init; }
    public string? TargetPattern { get; init; }
    public string? TargetAttribute { get; init; }
    public string? TargetValue { get; init; }
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];
}
