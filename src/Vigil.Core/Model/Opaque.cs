namespace Vigil.Core.Model;

/// <summary>
/// An XML element Vigil keeps but does not interpret (ACLs, alerts, tags, bundles, templates, tickets):
/// it survives import and export unchanged, and the importer reports it.
/// </summary>
public sealed record OpaqueElement(string Name)
{
    public IReadOnlyList<KeyValuePair<string, string>> Attributes { get; init; } = [];
    public IReadOnlyList<OpaqueElement> Children { get; init; } = [];
    public string? Text { get; init; }

    public string? Attribute(string name)
    {
        foreach (var kv in Attributes)
            if (kv.Key == name) return kv.Value;
        return null;
    }
}
