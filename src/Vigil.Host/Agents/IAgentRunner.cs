namespace Vigil.Host.Agents;

/// <summary>
/// The port through which the executor runs agent actions. Real: <see cref="ProcessAgentRunner"/>
/// (processes, shims, native agents); simulated: <see cref="ScriptedAgentRunner"/>.
/// Implementations never throw for agent failures: every outcome is an <see cref="AgentResult"/>.
/// </summary>
public interface IAgentRunner
{
    Task<AgentResult> RunAsync(AgentAction action, CancellationToken cancellationToken = default);
}

/// <summary>Finds installed agents and reads what they say about themselves.</summary>
public interface IAgentCatalog
{
    IReadOnlyList<AgentId> List();
    /// <summary>Where the agent's executable is, or why it cannot be found (null when it exists or has no file).</summary>
    string? Missing(AgentId agent);
    Task<(AgentMetadata? Metadata, string? Error)> MetadataAsync(AgentId agent, CancellationToken cancellationToken = default);
}
