using System.Text;

namespace Vigil.Host.Agents;

/// <summary>The outcome of one fence-agent action, from its exit code (0 ok, 1 failure, 2 = status "off").</summary>
public enum FenceOutcome
{
    Success,
    Failed,
    /// <summary>status/monitor: the target (plug) is powered off.</summary>
    Off,
    TimedOut,
}

/// <summary>A fence device as configured: agent name and instance attributes (including pcmk_* ones).</summary>
public sealed record FenceDevice(string Id, string Agent)
{
    public IReadOnlyDictionary<string, string> Parameters { get; init; } = new Dictionary<string, string>();
}

/// <summary>Fence-agent arguments (Pacemaker make_args) and result meaning; pure.</summary>
public static class FenceArgs
{
    public static readonly IReadOnlySet<string> Actions = new HashSet<string>(StringComparer.Ordinal)
    {
        "on", "off", "reboot", "status", "list", "list-status", "monitor", "metadata", "meta-data", "validate-all",
    };

    /// <summary>Parameter names whose values are secrets: never logged, shown or exported.</summary>
    public static bool IsSecret(string name)
    {
        var n = name.Replace('-', '_').ToLowerInvariant();
        return n is "passwd" or "password" or "pass" or "community" or "snmp_priv_passwd" or "hexadecimal_kg" or "secret" or "token"
            || n.EndsWith("_password", StringComparison.Ordinal) || n.EndsWith("_passwd", StringComparison.Ordinal)
            || n.EndsWith("_secret", StringComparison.Ordinal) || n.EndsWith("_token", StringComparison.Ordinal)
            || n.Contains("private_key", StringComparison.Ordinal) || n is "secret_key" or "access_key" or "apikey" or "api_key";
    }

    /// <summary>
    /// The stdin lines for <paramref name="action"/> against <paramref name="target"/>: action (or its
    /// pcmk_ACTION_action override), nodename, the host argument (port/plug, mapped through
    /// pcmk_host_map), then every device parameter except pcmk_*, CRM_meta_*, crm_feature_set, action.
    /// </summary>
    public static List<KeyValuePair<string, string>> Build(FenceDevice device, string action, string? target, AgentMetadata? metadata = null)
    {
        var p = device.Parameters;
        var lines = new List<KeyValuePair<string, string>>();
        var agentAction = p.TryGetValue($"pcmk_{action.Replace('-', '_')}_action", out var over) && over.Length > 0 ? over : action;
        lines.Add(new("action", agentAction));
        if (target is not null)
        {
            lines.Add(new("nodename", target));
            var hostArg = HostArgument(p, metadata);
            if (hostArg is not null && !p.ContainsKey(hostArg))
            {
                var map = Vigil.Control.FencePlanner.ParseNodeMap(p.GetValueOrDefault("pcmk_host_map"));
                lines.Add(new(hostArg, map.GetValueOrDefault(target, target)));
            }
        }
        foreach (var (k, v) in p.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            if (k.StartsWith("pcmk_", StringComparison.Ordinal) || k.StartsWith("CRM_meta_", StringComparison.Ordinal) ||
                k is "crm_feature_set" or "action" or "nodename")
                continue;
            lines.Add(new(k, v));
        }
        return lines;
    }

    /// <summary>pcmk_host_argument, else port if the agent advertises it, else plug, else none (fence_dummy has neither).</summary>
    public static string? HostArgument(IReadOnlyDictionary<string, string> p, AgentMetadata? metadata)
    {
        if (p.TryGetValue("pcmk_host_argument", out var arg)) return arg is "none" or "" ? null : arg;
        if (metadata is null) return "port";
        if (metadata.Parameter("port") is not null) return "port";
        if (metadata.Parameter("plug") is not null) return "plug";
        return null;
    }

    /// <summary>The stdin text: one name=value per line. Newlines in values are dropped (they would start a new argument).</summary>
    public static string StdinText(IEnumerable<KeyValuePair<string, string>> lines)
    {
        var sb = new StringBuilder();
        foreach (var (k, v) in lines)
            sb.Append(k).Append('=').Append(v.Replace("\n", "", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal)).Append('\n');
        return sb.ToString();
    }

    /// <summary>The same lines for logs: secrets replaced by ******.</summary>
    public static string Redacted(IEnumerable<KeyValuePair<string, string>> lines) =>
        string.Join(' ', lines.Select(kv => $"{kv.Key}={(IsSecret(kv.Key) ? "******" : kv.Value)}"));

    /// <summary>Replaces every occurrence of a secret value in free text (agent output may echo it).</summary>
    public static string Scrub(string text, IReadOnlyDictionary<string, string> parameters)
    {
        foreach (var (k, v) in parameters)
            if (IsSecret(k) && v.Length >= 3)
                text = text.Replace(v, "******", StringComparison.Ordinal);
        return text;
    }

    /// <summary>
    /// The useful line of a fence agent's log output: the last "Failed: …" message (fencing.py's fail()),
    /// else the last line, without the logging timestamp and level.
    /// </summary>
    public static string? ReasonFromOutput(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (lines.Length == 0) return null;
        var line = lines.LastOrDefault(l => l.Contains("Failed:", StringComparison.Ordinal)) ?? lines[^1];
        foreach (var level in new[] { "ERROR: ", "WARNING: ", "INFO: ", "DEBUG: " })
        {
            var i = line.IndexOf(level, StringComparison.Ordinal);
            if (i >= 0) return line[(i + level.Length)..].Trim();
        }
        return line;
    }

    /// <summary>What a fence agent's exit code means for <paramref name="action"/>.</summary>
    public static FenceOutcome Outcome(string action, int exitCode) => exitCode switch
    {
        0 => FenceOutcome.Success,
        2 when action is "status" or "monitor" => FenceOutcome.Off,
        _ => FenceOutcome.Failed,
    };

    /// <summary>The OCF code Pacemaker reports for a fence device's own monitor/status (2 "off" is still a working device).</summary>
    public static int ToOcf(string action, int exitCode) => Outcome(action, exitCode) switch
    {
        FenceOutcome.Success => OcfCode.Success,
        FenceOutcome.Off => action == "monitor" ? OcfCode.Success : OcfCode.NotRunning,
        _ => OcfCode.ErrGeneric,
    };
}
