namespace Vigil.Config.Validation;

/// <summary>A parameter an agent declares in its meta-data.</summary>
public sealed record AgentParameter(string Name)
{
    public bool Required { get; init; }
    public bool Unique { get; init; }
    public string? Type { get; init; }
    public string? Default { get; init; }
    public bool Deprecated { get; init; }
}

/// <summary>What the checker needs to know about an installed agent.</summary>
public sealed record AgentDescription(string Agent, IReadOnlyList<AgentParameter> Parameters)
{
    /// <summary>Agents whose meta-data declares no parameters (LSB scripts) are not checked for unknown names.</summary>
    public bool ParametersKnown { get; init; } = true;
}

public enum AgentLookupStatus
{
    Found,
    NotInstalled,
    /// <summary>The agent exists but its meta-data could not be read or parsed.</summary>
    MetadataUnreadable,
}

public sealed record AgentLookup(AgentLookupStatus Status, AgentDescription? Description = null, string? Reason = null);

/// <summary>
/// Port to the agents installed on this machine. The real implementation runs <c>meta-data</c>;
/// tests pass a fixed catalog. Without a catalog the checker skips agent checks.
/// </summary>
public interface IAgentCatalog
{
    AgentLookup Find(string cls, string? provider, string type);
}
