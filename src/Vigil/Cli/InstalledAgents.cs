using Vigil.Config.Validation;
using Vigil.Host.Agents;
using ConfigParameter = Vigil.Config.Validation.AgentParameter;

namespace Vigil.Cli;

/// <summary>
/// Lets 'vigil config check' validate parameters against the agents installed on this machine, by
/// running their meta-data action through the executor's catalog (cached per agent).
/// </summary>
public sealed class InstalledAgents(ProcessAgentRunner runner) : Vigil.Config.Validation.IAgentCatalog
{
    private readonly Dictionary<string, AgentLookup> _cache = new(StringComparer.Ordinal);

    public static InstalledAgents Create() => new(new ProcessAgentRunner(new ExecutorPaths()));

    public AgentLookup Find(string cls, string? provider, string type)
    {
        var key = $"{cls}:{provider}:{type}";
        if (_cache.TryGetValue(key, out var hit)) return hit;
        var text = provider is null ? $"{cls}:{type}" : $"{cls}:{provider}:{type}";
        AgentLookup result;
        if (!AgentId.TryParse(text, out var id, out var error))
            result = new AgentLookup(AgentLookupStatus.NotInstalled, Reason: error);
        else if (runner.Missing(id) is { } missing)
            result = new AgentLookup(AgentLookupStatus.NotInstalled, Reason: missing);
        else
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            var (md, why) = runner.MetadataAsync(id, timeout.Token).GetAwaiter().GetResult();
            result = md is null
                ? new AgentLookup(AgentLookupStatus.MetadataUnreadable, Reason: why)
                : new AgentLookup(AgentLookupStatus.Found, new AgentDescription(id.ToString(),
                    md.Parameters.Select(p => new ConfigParameter(p.Name) { Required = p.Required, Unique = p.Unique, Type = p.Type, Default = p.Default, Deprecated = p.Deprecated }).ToList())
                {
                    // LSB and systemd meta-data is synthesised and declares no parameters.
                    ParametersKnown = id.Class is not (AgentClass.Lsb or AgentClass.Systemd or AgentClass.Service),
                });
        }
        _cache[key] = result;
        return result;
    }
}
