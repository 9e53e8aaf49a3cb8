namespace Vigil.Host.Agents;

/// <summary>The agent classes Vigil can run (Pacemaker's "standards").</summary>
public enum AgentClass
{
    Ocf,
    Lsb,
    Systemd,
    /// <summary>lsb when /etc/init.d/TYPE exists, else systemd (Pacemaker's <c>service:</c>).</summary>
    Service,
    Stonith,
    /// <summary>Agents built into Vigil itself (<c>vigil:Dummy</c>), run in-process.</summary>
    Vigil,
}

/// <summary>
/// An agent name as written in configuration: <c>ocf:heartbeat:IPaddr2</c>, <c>lsb:apache2</c>,
/// <c>stonith:fence_dummy</c>, <c>systemd:nginx</c>, <c>vigil:Dummy</c>. Only OCF has a provider.
/// </summary>
public sealed record AgentId(AgentClass Class, string? Provider, string Type)
{
    public static string ClassName(AgentClass c) => c switch
    {
        AgentClass.Ocf => "ocf",
        AgentClass.Lsb => "lsb",
        AgentClass.Systemd => "systemd",
        AgentClass.Service => "service",
        AgentClass.Stonith => "stonith",
        _ => "vigil",
    };

    public override string ToString() => Provider is null ? $"{ClassName(Class)}:{Type}" : $"{ClassName(Class)}:{Provider}:{Type}";

    /// <summary>Parses CLASS:PROVIDER:TYPE (ocf) or CLASS:TYPE (others). The error says what is wrong and what to write.</summary>
    public static bool TryParse(string? text, out AgentId id, out string error)
    {
        id = new AgentId(AgentClass.Ocf, null, "");
        error = "";
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "an agent name is empty; write CLASS:PROVIDER:TYPE (ocf:heartbeat:Dummy) or CLASS:TYPE (lsb:apache2, stonith:fence_dummy, vigil:Dummy)";
            return false;
        }
        var parts = text.Trim().Split(':');
        if (!TryParseClass(parts[0], out var cls))
        {
            error = $"'{text}': unknown agent class '{parts[0]}'; use ocf, lsb, service, systemd, stonith or vigil";
            return false;
        }
        foreach (var p in parts)
        {
            if (p.Length == 0 || p.Contains('/') || p is "." or "..")
            {
                error = $"'{text}': every part must be a plain name (no empty parts, no '/')";
                return false;
            }
        }
        if (cls == AgentClass.Ocf)
        {
            if (parts.Length != 3)
            {
                error = $"'{text}': an OCF agent needs a provider: write ocf:PROVIDER:TYPE, e.g. ocf:heartbeat:{parts[^1]}";
                return false;
            }
            id = new AgentId(cls, parts[1], parts[2]);
            return true;
        }
        if (parts.Length != 2)
        {
            error = $"'{text}': a {parts[0]} agent has no provider: write {parts[0]}:TYPE";
            return false;
        }
        id = new AgentId(cls, null, parts[1]);
        return true;
    }

    public static bool TryParseClass(string text, out AgentClass cls)
    {
        switch (text.ToLowerInvariant())
        {
            case "ocf": cls = AgentClass.Ocf; return true;
            case "lsb": cls = AgentClass.Lsb; return true;
            case "systemd": cls = AgentClass.Systemd; return true;
            case "service": cls = AgentClass.Service; return true;
            case "stonith": cls = AgentClass.Stonith; return true;
            case "vigil": cls = AgentClass.Vigil; return true;
            default: cls = AgentClass.Ocf; return false;
        }
    }
}
