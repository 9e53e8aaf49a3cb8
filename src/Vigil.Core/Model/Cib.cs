namespace Vigil.Core.Model;

/// <summary>
/// The whole cluster information base: the configuration administrators write and the status the
/// cluster records. One typed model shared by the configuration languages, scheduler, controller and CLI.
/// </summary>
public sealed record Cib
{
    /// <summary>Attributes of the &lt;cib&gt; element (epoch, admin_epoch, num_updates, validate-with, have-quorum, dc-uuid …).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Header { get; init; } = [];
    public Configuration Configuration { get; init; } = new();
    public ClusterStatus? Status { get; init; }

    public string? HeaderValue(string name)
    {
        foreach (var kv in Header)
            if (kv.Key == name) return kv.Value;
        return null;
    }
}

/// <summary>The configuration section.</summary>
public sealed record Configuration
{
    public IReadOnlyList<AttributeSet> Properties { get; init; } = [];
    public IReadOnlyList<Node> Nodes { get; init; } = [];
    public IReadOnlyList<Resource> Resources { get; init; } = [];
    public IReadOnlyList<Constraint> Constraints { get; init; } = [];
    public IReadOnlyList<AttributeSet> ResourceDefaults { get; init; } = [];
    public IReadOnlyList<AttributeSet> OperationDefaults { get; init; } = [];
    public IReadOnlyList<FencingLevel> FencingTopology { get; init; } = [];
    /// <summary>Sections kept verbatim but not interpreted (acls, alerts, tags).</summary>
    public IReadOnlyList<OpaqueElement> Other { get; init; } = [];

    /// <summary>An unconditional cluster property (stonith-enabled, no-quorum-policy …).</summary>
    public string? Property(string name) => Properties.Get(name);

    /// <summary>Every resource at every depth, parents before children.</summary>
    public IEnumerable<Resource> AllResources() => Resources.SelectMany(r => r.SelfAndDescendants());

    public Resource? FindResource(string id)
    {
        foreach (var r in AllResources())
            if (r.Id == id) return r;
        return null;
    }
}
