using System.Globalization;
using System.Text.RegularExpressions;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Control;

/// <summary>One fencing attempt as the cluster remembers it (shown by <c>vigil fence history</c> and in status).</summary>
public sealed record FenceEvent(string Target, string Action, bool Succeeded, string By, string Origin, long AtUnixSeconds)
{
    /// <summary>The devices that did it (or were tried), comma-separated.</summary>
    public string? Devices { get; init; }
    /// <summary>Why it failed, or the operator's note for an acknowledgement.</summary>
    public string? Reason { get; init; }
}

/// <summary>
/// A fencing attempt finished (or an operator confirmed a node is down). A success marks the target
/// cleanly down and forgets what it ran, so its resources may be recovered elsewhere.
/// </summary>
public sealed record FenceResultCommand(string Target, string Action, bool Succeeded, string By, string Origin) : ClusterCommand
{
    public string? Devices { get; init; }
    public string? Reason { get; init; }
}

/// <summary>How a device decides whether it can fence a node (Pacemaker's pcmk_host_check).</summary>
public enum HostCheck
{
    /// <summary>pcmk_host_list / pcmk_host_map name the nodes.</summary>
    StaticList,
    /// <summary>Ask the agent's <c>list</c> action.</summary>
    DynamicList,
    /// <summary>Ask the agent's <c>status</c> action for the target.</summary>
    Status,
    /// <summary>The device can fence every node.</summary>
    None,
}

/// <summary>A configured fence device as the fencer uses it: agent, parameters, and how it targets nodes.</summary>
public sealed record FenceDeviceConfig(string Id, string Agent, IReadOnlyDictionary<string, string> Parameters, HostCheck Check, int Priority);

/// <summary>Chooses fence devices for a target (pure): fencing topology first, else every device that can fence it.</summary>
public static class FencePlanner
{
    /// <summary>Every stonith primitive that is not disabled (target-role=Stopped), highest priority first, then in configuration order.</summary>
    public static IReadOnlyList<FenceDeviceConfig> Devices(Configuration config) =>
        config.AllResources().OfType<Primitive>()
            .Where(p => p.IsFencingDevice && !string.Equals(p.Meta("target-role"), "Stopped", StringComparison.OrdinalIgnoreCase))
            .Select((p, i) => (Device: Describe(p), Index: i))
            .OrderByDescending(x => x.Device.Priority).ThenBy(x => x.Index)
            .Select(x => x.Device).ToList();

    public static FenceDeviceConfig Describe(Primitive p)
    {
        var parameters = p.InstanceAttributes.Flatten();
        var check = parameters.GetValueOrDefault("pcmk_host_check")?.Trim().ToLowerInvariant() switch
        {
            "static-list" => HostCheck.StaticList,
            "dynamic-list" => HostCheck.DynamicList,
            "status" => HostCheck.Status,
            "none" => HostCheck.None,
            _ => parameters.ContainsKey("pcmk_host_list") || parameters.ContainsKey("pcmk_host_map") ? HostCheck.StaticList : HostCheck.DynamicList,
        };
        var priority = int.TryParse(parameters.GetValueOrDefault("priority") ?? p.Meta("priority"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var pr) ? pr : 0;
        return new FenceDeviceConfig(p.Id, p.Type, parameters, check, priority);
    }

    /// <summary>Whether the static configuration alone says the device can fence <paramref name="target"/>; null when the agent must be asked.</summary>
    public static bool? CanFence(FenceDeviceConfig device, string target) => device.Check switch
    {
        HostCheck.None => true,
        HostCheck.StaticList => HostList(device.Parameters).Contains(target),
        _ => null,
    };

    /// <summary>The nodes named by pcmk_host_list (space, comma or semicolon separated) and the keys of pcmk_host_map.</summary>
    public static IReadOnlySet<string> HostList(IReadOnlyDictionary<string, string> parameters)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in (parameters.GetValueOrDefault("pcmk_host_list") ?? "").Split([' ', ',', ';', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries))
            names.Add(n);
        names.UnionWith(ParseNodeMap(parameters.GetValueOrDefault("pcmk_host_map")).Keys);
        return names;
    }

    /// <summary>Separators between the entries of pcmk_host_map.</summary>
    public static readonly char[] HostMapSeparators = [';', ' ', '\t', '\n'];

    /// <summary>
    /// A per-node map as fencing parameters write it: <c>node1:1;node2:2,3</c> (pcmk_host_map; also
    /// '=' instead of ':'), entries split at <paramref name="separators"/> (default: pcmk_host_map's).
    /// Entries without a name or a value are skipped.
    /// </summary>
    public static Dictionary<string, string> ParseNodeMap(string? text, char[]? separators = null)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (var entry in text.Split(separators ?? HostMapSeparators, StringSplitOptions.RemoveEmptyEntries))
        {
            int sep = entry.IndexOfAny([':', '=']);
            if (sep <= 0 || sep == entry.Length - 1) continue;
            result[entry[..sep].Trim()] = entry[(sep + 1)..].Trim();
        }
        return result;
    }

    /// <summary>
    /// The levels to try for <paramref name="target"/>, in order; every device of a level must
    /// succeed. With a fencing topology for the target, its levels by index; otherwise each device
    /// alone, in <see cref="Devices"/> order. Devices a level names but the configuration lacks are
    /// reported in <paramref name="missing"/> and make that level unusable.
    /// </summary>
    public static IReadOnlyList<IReadOnlyList<FenceDeviceConfig>> Levels(Configuration config, string target, out IReadOnlyList<string> missing)
    {
        var ordered = Devices(config);
        var devices = ordered.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var nodeAttributes = config.Nodes.FirstOrDefault(n => n.Uname == target)?.InstanceAttributes.Flatten() ?? [];
        var levels = config.FencingTopology.Where(l => Applies(l, target, nodeAttributes)).OrderBy(l => l.Index).ToList();
        var absent = new List<string>();
        if (levels.Count == 0)
        {
            missing = absent;
            return ordered.Select(d => (IReadOnlyList<FenceDeviceConfig>)[d]).ToList();
        }
        var result = new List<IReadOnlyList<FenceDeviceConfig>>();
        foreach (var l in levels)
        {
            var gone = l.Devices.Where(d => !devices.ContainsKey(d)).ToList();
            if (gone.Count > 0) { absent.AddRange(gone); continue; }
            result.Add(l.Devices.Select(d => devices[d]).ToList());
        }
        missing = absent;
        return result;
    }

    private static bool Applies(FencingLevel l, string target, IReadOnlyDictionary<string, string> nodeAttributes)
    {
        if (l.Target is not null) return l.Target == target;
        if (l.TargetPattern is not null)
        {
            try { return Regex.IsMatch(target, l.TargetPattern, RegexOptions.None, TimeSpan.FromMilliseconds(100)); }
            catch (ArgumentException) { return false; }
            catch (RegexMatchTimeoutException) { return false; }
        }
        if (l.TargetAttribute is not null) return nodeAttributes.TryGetValue(l.TargetAttribute, out var v) && v == l.TargetValue;
        return false;
    }

    /// <summary>
    /// The delay before a device fences <paramref name="target"/>: pcmk_delay_base (a duration, or a
    /// per-node map <c>node1:5s;node2:0</c>) plus <paramref name="random01"/> × (pcmk_delay_max − base).
    /// </summary>
    public static TimeSpan Delay(FenceDeviceConfig device, string target, double random01)
    {
        var p = device.Parameters;
        var baseDelay = TimeSpan.Zero;
        if (p.TryGetValue("pcmk_delay_base", out var b))
        {
            var text = b.Trim();
            if (text.Contains(':', StringComparison.Ordinal))
            {
                if (ParseNodeMap(text, [';', ' ', ',']).TryGetValue(target, out var forTarget) && Duration.TryParse(forTarget, out var d)) baseDelay = d;
            }
            else if (Duration.TryParse(text, out var d)) baseDelay = d;
        }
        var max = p.TryGetValue("pcmk_delay_max", out var m) && Duration.TryParse(m, out var md) ? md : TimeSpan.Zero;
        var spread = max > baseDelay ? max - baseDelay : TimeSpan.Zero;
        return baseDelay + TimeSpan.FromMilliseconds(spread.TotalMilliseconds * Math.Clamp(random01, 0, 1));
    }

    /// <summary>How often a device action is retried (pcmk_ACTION_retries, default 2) within its timeout.</summary>
    public static int Retries(FenceDeviceConfig device, string action) =>
        device.Parameters.TryGetValue($"pcmk_{action}_retries", out var r) && int.TryParse(r, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= 0 ? n : 2;

    /// <summary>The fence action for a lost node: stonith-action (reboot by default; poweroff means off).</summary>
    public static string Action(Configuration config) => config.Property("stonith-action") switch
    {
        "off" or "poweroff" => "off",
        _ => "reboot",
    };

    /// <summary>stonith-timeout (default 60 s): how long one device action may take.</summary>
    public static TimeSpan Timeout(Configuration config) =>
        Duration.TryParse(config.Property("stonith-timeout"), out var t) && t > TimeSpan.Zero ? t : TimeSpan.FromSeconds(60);

    /// <summary>
    /// stonith-watchdog-timeout when positive: a lost node that no device can fence counts as fenced this
    /// long after it was last seen, because by then it has stopped its resources or reset itself
    /// (lease self-fencing). Null when not set, 0 or not a positive duration.
    /// </summary>
    public static TimeSpan? WatchdogTimeout(Configuration config) => Duration.Positive(config.Property("stonith-watchdog-timeout"));

    /// <summary>
    /// Why lease self-fencing cannot make recovery safe in this configuration, or null when it can:
    /// it needs fencing enabled, a watchdog timeout, and a no-quorum-policy that stops resources.
    /// </summary>
    public static string? LeaseProblem(Configuration config)
    {
        if (Truth.IsFalse(config.Property("stonith-enabled"))) return "fencing is disabled (stonith-enabled=false)";
        if (WatchdogTimeout(config) is null) return "no fence device can fence it and stonith-watchdog-timeout is not set (lease self-fencing is off)";
        var policy = config.Property("no-quorum-policy") ?? "stop";
        if (policy is "ignore" or "freeze")
            return $"no-quorum-policy={policy} keeps a node without quorum running its resources, so waiting for its lease proves nothing";
        return null;
    }

    /// <summary>
    /// How long after its last contact with a majority a node without quorum must have stopped its
    /// resources (else it resets itself): the watchdog timeout minus <paramref name="skew"/>, the most
    /// by which the node may notice the loss later than the majority.
    /// </summary>
    public static TimeSpan? SelfFenceDeadline(Configuration config, TimeSpan skew) =>
        SelfFencingLease(config) is { } t ? (t - skew > TimeSpan.Zero ? t - skew : TimeSpan.Zero) : null;

    /// <summary>The lease (stonith-watchdog-timeout) when this configuration uses lease self-fencing safely (<see cref="LeaseProblem"/>), else null.</summary>
    public static TimeSpan? SelfFencingLease(Configuration config) => LeaseProblem(config) is null ? WatchdogTimeout(config) : null;

    /// <summary>The first lines of an agent's <c>list</c> output name the nodes it can fence (name[,alias] per line).</summary>
    /// <summary>
    /// The two-node death-match delay used when this node runs alone and fences its peer while the peer
    /// may be fencing it: 5 s unless priority-fencing-delay is set (0 turns it off).
    /// </summary>
    public static readonly TimeSpan DefaultDeathMatchDelay = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long <paramref name="fencer"/> waits before fencing <paramref name="target"/> in a two-node split
    /// where both sides may shoot: fencing the favoured node is delayed, so the favoured node shoots first and
    /// survives. Favoured is the node whose active resources weigh more (Pacemaker's priority meta attribute,
    /// a promoted instance one more; then the number of active resources); on a tie the name that sorts first.
    /// The two sides agree on who waits only when they judge from equal states: a node running alone judges
    /// from its own copy, and copies differ (see <see cref="TwoNode.DeathMatchDelay"/>, which stays safe then).
    /// </summary>
    public static TimeSpan DeathMatchDelay(ClusterState state, string fencer, string target)
    {
        var delay = PriorityFencingDelay(state.Configuration);
        if (delay <= TimeSpan.Zero) return TimeSpan.Zero;
        return Favoured(state, target, fencer) ? delay : TimeSpan.Zero;
    }

    /// <summary>priority-fencing-delay, <see cref="DefaultDeathMatchDelay"/> when unset or not a duration; zero or less turns it off.</summary>
    public static TimeSpan PriorityFencingDelay(Configuration config)
    {
        var configured = config.Property("priority-fencing-delay");
        return configured is null ? DefaultDeathMatchDelay : Duration.TryParse(configured, out var d) ? d : DefaultDeathMatchDelay;
    }

    /// <summary>Whether <paramref name="node"/> wins a fence race against <paramref name="other"/> (see <see cref="DeathMatchDelay"/>).</summary>
    public static bool Favoured(ClusterState state, string node, string other)
    {
        var weights = NodeWeights(state);
        var a = weights.GetValueOrDefault(node);
        var b = weights.GetValueOrDefault(other);
        if (a.Priority != b.Priority) return a.Priority > b.Priority;
        if (a.Count != b.Count) return a.Count > b.Count;
        return string.CompareOrdinal(node, other) < 0;
    }

    /// <summary>Per node: the summed priority of what is active there (unclean nodes included), and how many resources.</summary>
    public static Dictionary<string, (long Priority, int Count)> NodeWeights(ClusterState state)
    {
        var priorities = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var top in state.Configuration.Resources)
            foreach (var r in top.SelfAndDescendants().OfType<Primitive>())
            {
                var text = r.Meta("priority") ?? top.Meta("priority");
                priorities[r.Id] = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : 0;
            }
        var weights = new Dictionary<string, (long Priority, int Count)>(StringComparer.Ordinal);
        foreach (var (rsc, on) in Activity.Active(state, includeUnclean: true))
            foreach (var (node, role) in on)
            {
                var w = weights.GetValueOrDefault(node);
                weights[node] = (w.Priority + priorities.GetValueOrDefault(rsc) + (role == Role.Promoted ? 1 : 0), w.Count + 1);
            }
        return weights;
    }

    public static IReadOnlySet<string> ParseList(string output)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var first = line.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
            if (first is not null) names.Add(first);
        }
        return names;
    }
}

/// <summary>What status says about fencing (pure): nodes waiting to be fenced, failures, and recent events.</summary>
public static class FencingStatus
{
    /// <summary>
    /// One line per lost node that must be fenced before its resources may run elsewhere: in progress,
    /// failed (with the reason and what the operator can do), or impossible (no device).
    /// </summary>
    public static IReadOnlyList<string> Pending(ClusterState state, IReadOnlySet<string> inProgress)
    {
        var config = state.Configuration;
        if (Truth.IsFalse(config.Property("stonith-enabled"))) return [];
        var lines = new List<string>();
        foreach (var n in state.Nodes)
        {
            var name = n.Uname ?? n.Id;
            if (!Activity.IsUnclean(n) || n.Resources.Count == 0) continue;
            var last = state.LastFence(name);
            // A retry after a failure still says that it failed, and why: the operator's decision does not wait for the retry.
            if (inProgress.Contains(name) && last is { Succeeded: false })
                lines.Add($"fencing {name} failed ({DateTimeOffset.FromUnixTimeSeconds(last.AtUnixSeconds):HH:mm:ss} UTC): {last.Reason}. Its resources stay blocked; it is being retried now. After making sure {name} is powered off: vigil fence ack {name}");
            else if (inProgress.Contains(name)) lines.Add($"{name} is lost and being fenced; its resources wait for the result");
            else if (FencePlanner.Devices(config).Count == 0 && FencePlanner.LeaseProblem(config) is { } why)
                lines.Add($"{name} is lost and must be fenced, but {why}: its resources stay blocked. Configure a fence device (primitive NAME stonith:fence_… params pcmk_host_list=\"{name}\") or stonith-watchdog-timeout, or after making sure {name} is powered off: vigil fence ack {name}");
            else if (FencePlanner.Devices(config).Count == 0)
                lines.Add($"{name} is lost; it counts as fenced {FencePlanner.WatchdogTimeout(config)!.Value.TotalSeconds:0.#} s after its last contact with a majority, as bounded by the leader (lease self-fencing; the leader's log says from when)");
            else if (last is { Succeeded: false })
                lines.Add($"fencing {name} failed ({DateTimeOffset.FromUnixTimeSeconds(last.AtUnixSeconds):HH:mm:ss} UTC): {last.Reason}. Its resources stay blocked; it is retried. After making sure {name} is powered off: vigil fence ack {name}");
            else lines.Add($"{name} is lost and waits to be fenced");
        }
        return lines;
    }

    /// <summary>The newest <paramref name="count"/> events, newest first, one line each.</summary>
    public static IReadOnlyList<string> Recent(ClusterState state, int count) =>
        state.FencingHistory.Reverse().Take(count).Select(Describe).ToList();

    public static string Describe(FenceEvent e) =>
        $"{DateTimeOffset.FromUnixTimeSeconds(e.AtUnixSeconds):yyyy-MM-dd HH:mm:ss} UTC  {e.Target}  {e.Action}  " +
        (e.Succeeded ? "done" : "FAILED") + $"  by {e.By} ({e.Origin})" +
        (string.IsNullOrEmpty(e.Devices) ? "" : $" with {e.Devices}") + (string.IsNullOrEmpty(e.Reason) ? "" : $": {e.Reason}");
}
