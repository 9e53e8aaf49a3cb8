namespace Vigil.Core.Model;

/// <summary>A configured cluster node with its permanent attributes and utilization.</summary>
public sealed record Node(string Id, string Uname)
{
    public string? Type { get; init; }
    public string? Description { get; init; }
    public Score? Score { get; init; }
    public IReadOnlyList<AttributeSet> InstanceAttributes { get; init; } = [];
    public IReadOnlyList<AttributeSet> Utilization { get; init; } = [];
    public IReadOnlyList<KeyValuePair<string, string>> Extra { get; init; } = [];
}
