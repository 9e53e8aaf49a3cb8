namespace Vigil.Core.Model;

/// <summary>One name/value pair (<c>nvpair</c>). <see cref="Value"/> is null for a pair that only names itself.</summary>
public sealed record NvPair(string Id, string Name, string? Value)
{
    public string? IdRef { get; init; }
}

/// <summary>The kinds of attribute sets the CIB knows; the XML element name differs per kind.</summary>
public enum AttributeSetKind
{
    Instance,     // instance_attributes
    Meta,         // meta_attributes
    Utilization,  // utilization
    ClusterProperties, // cluster_property_set
}

/// <summary>
/// A set of name/value pairs with an optional rule and score (Pacemaker evaluates the sets of one
/// kind in score order and uses the first whose rule matches for each name).
/// </summary>
public sealed record AttributeSet(AttributeSetKind Kind, string Id)
{
    public string? IdRef { get; init; }
    public Score? Score { get; init; }
    public Rule? Rule { get; init; }
    public IReadOnlyList<NvPair> Pairs { get; init; } = [];
    /// <summary>Attributes the model does not interpret, kept for a lossless round trip.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];

    public string? Get(string name)
    {
        foreach (var p in Pairs)
            if (p.Name == name) return p.Value;
        return null;
    }
}

public static class AttributeSets
{
    /// <summary>The first value of <paramref name="name"/> among the unconditional sets, highest score first.</summary>
    public static string? Get(this IReadOnlyList<AttributeSet> sets, string name)
    {
        foreach (var s in sets)
        {
            if (s.Rule is not null) continue;
            var v = s.Get(name);
            if (v is not null) return v;
        }
        return null;
    }

    /// <summary>All unconditional pairs, first set wins for each name.</summary>
    public static Dictionary<string, string> Flatten(this IReadOnlyList<AttributeSet> sets)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in sets)
        {
            if (s.Rule is not null) continue;
            foreach (var p in s.Pairs)
                if (p.Value is not null) result.TryAdd(p.Name, p.Value);
        }
        return result;
    }
}
