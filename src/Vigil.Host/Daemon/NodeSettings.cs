using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Host.Daemon;

/// <summary>Addresses of one cluster member: its Raft port and its HTTP API.</summary>
public sealed record MemberAddress(string Raft, string Api)
{
    /// <summary>A witness votes in consensus (the third vote of a two-node cluster) but runs no resources.</summary>
    public bool Witness { get; init; }
}

// Defaults are { get; set; }, not init: see Wire.cs (an init-only property read from JSON loses its default).
/// <summary>The settings of one node (a JSON file written by 'vigil init'/'vigil demo').</summary>
public sealed record NodeSettings
{
    public required string Name { get; init; }
    public required string DataDirectory { get; init; }
    public required Dictionary<string, MemberAddress> Members { get; init; }
    public int LowerElectionTimeoutMs { get; set; } = 300;
    public int UpperElectionTimeoutMs { get; set; } = 600;
    /// <summary>How long a member must stay unreachable before the leader declares it offline.</summary>
    public int MemberDownAfterMs { get; set; } = 400;
    /// <summary>Folder with ca.crt and NODE.pfx from 'vigil init': node traffic is then mutual TLS. Null: plain (tests of old setups only).</summary>
    public string? TlsDirectory { get; init; }
    /// <summary>How long this node may see less than a majority before no-quorum-policy applies.</summary>
    public int QuorumLossGraceMs { get; set; } = 1000;
    /// <summary>
    /// Where agents keep the state of running resources (HA_RSCTMP, vigil: agents): it must be emptied by
    /// a reboot. Default /run/vigil/NAME as root, else DATA/run (the unprivileged demo).
    /// </summary>
    public string? RuntimeDirectory { get; init; }

    [JsonIgnore]
    public string RuntimeDirectoryOrDefault => RuntimeDirectory
        ?? (Environment.IsPrivilegedProcess ? Path.Combine("/run/vigil", Name) : Path.Combine(DataDirectory, "run"));

    /// <summary>
    /// The local API socket (plain HTTP over a Unix socket, mode 0660): 'vigil' commands of root and of members
    /// of <see cref="ApiGroup"/> on this host use it without the node's credentials. Default: api.sock in the
    /// runtime directory; "" turns it off.
    /// </summary>
    public string? LocalSocket { get; init; }

    [JsonIgnore]
    public string? LocalSocketOrDefault => LocalSocket is "" ? null : LocalSocket ?? Path.Combine(RuntimeDirectoryOrDefault, "api.sock");

    /// <summary>The group whose members may use the local API socket (besides root and the daemon's user).</summary>
    public string ApiGroup { get; set; } = "vigil";

    /// <summary>
    /// A watchdog device (usually /dev/watchdog) this node feeds while it may keep its resources: the host is then
    /// reset when the daemon hangs or is paused (a node that must fence itself resets its host as
    /// <see cref="SelfFenceAction"/> says, and leaves the device armed as a backstop). Null (the default): none. Keep stonith-watchdog-timeout at least twice
    /// <see cref="WatchdogTimeoutSeconds"/>, as with SBD.
    /// </summary>
    public string? WatchdogDevice { get; init; }

    /// <summary>
    /// Lease rounds (<see cref="Vigil.Control.LeaseRounds"/>; on by default): this node sends an authenticated UDP datagram
    /// to every other member ten times a second (<see cref="LeaseDatagram"/>) and counts its contact with a majority only
    /// from those answered within 200 ms. A leader that lost it can then count its lease from the members' last receipt
    /// instead of from when its consensus requests failed or from its own election: lease self-fencing fails over about
    /// half a second sooner. Only in clusters of three or more; every member of one answers them. They start once the
    /// configuration uses lease self-fencing (stonith-watchdog-timeout, fencing enabled, no-quorum-policy stop), where
    /// alone they help, and then go on until the daemon stops.
    /// </summary>
    public bool LeaseRounds { get; set; } = true;

    /// <summary>
    /// What a node that must fence itself does (it runs resources that did not stop within its lease, see
    /// <see cref="Vigil.Control.FencePlanner.SelfFenceDeadline"/>). "reboot" (the default): it records why, then resets
    /// its host at once by writing "b" to <see cref="ResetTrigger"/> (the kernel's magic SysRq trigger, as sbd does), so
    /// addresses, mounts and processes its agents left behind are gone before the others recover them. "exit": it only
    /// kills the agent processes it started and exits with code 75; for members that share one host (the demo, tests),
    /// whose supervisor stands in for the reset. Addresses and mounts stay up then.
    /// </summary>
    public string SelfFenceAction { get; set; } = "reboot";

    /// <summary>Where "reboot" (<see cref="SelfFenceAction"/>) writes "b": /proc/sysrq-trigger; tests point it at a plain file.</summary>
    public string ResetTrigger { get; set; } = "/proc/sysrq-trigger";

    [JsonIgnore] public bool SelfFenceReboots => SelfFenceAction == "reboot";

    /// <summary>The timeout asked of <see cref="WatchdogDevice"/>, in seconds (1-60).</summary>
    public int WatchdogTimeoutSeconds { get; set; } = 5;

    /// <summary>Where stonith-class agents (fence_*) are found; /usr/sbin when not set.</summary>
    public string? FenceAgentDirectory { get; init; }

    [JsonIgnore] public MemberAddress Self => Members[Name];

    /// <summary>The members that run resources (every member except witnesses).</summary>
    [JsonIgnore] public IEnumerable<string> ResourceNodes => Members.Where(m => !m.Value.Witness).Select(m => m.Key);

    public static JsonSerializerOptions Json => WireJson.WebIndented;

    public static NodeSettings Load(string path)
    {
        NodeSettings? s;
        try { s = JsonSerializer.Deserialize<NodeSettings>(File.ReadAllText(path), Json); }
        catch (JsonException e) { throw new SettingsException($"{path}: not valid settings JSON: {e.Message}"); }
        if (s is null) throw new SettingsException($"{path}: empty settings");
        if (string.IsNullOrWhiteSpace(s.Name) || string.IsNullOrWhiteSpace(s.DataDirectory) || s.Members is null || s.Members.Count == 0)
            throw new SettingsException($"{path}: 'name', 'dataDirectory' and 'members' must all be given ('vigil init' writes a complete file)");
        if (s.Members.Values.Any(m => m is null || m.Raft is null || m.Api is null))
            throw new SettingsException($"{path}: every member needs 'raft' and 'api' addresses (ip:port)");
        if (!s.Members.ContainsKey(s.Name)) throw new SettingsException($"{path}: 'members' has no entry for this node '{s.Name}'");
        if (!s.Members.Values.Any(m => !m.Witness)) throw new SettingsException($"{path}: every member is a witness; at least one must run resources");
        var used = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, m) in s.Members)
        {
            if (!IPEndPoint.TryParse(m.Raft, out var raft)) throw new SettingsException($"{path}: member '{name}' raft address '{m.Raft}' is not ip:port");
            if (!IPEndPoint.TryParse(m.Api, out var api)) throw new SettingsException($"{path}: member '{name}' api address '{m.Api}' is not ip:port");
            // Two members on one address would be one member to consensus: a "majority" of one.
            foreach (var (what, ep) in new[] { ("raft", raft), ("api", api) })
                if (!used.TryAdd(ep.ToString(), $"{name} ({what})"))
                    throw new SettingsException($"{path}: member '{name}' {what} address {ep} is also used by {used[ep.ToString()]}; every member needs its own addresses");
        }
        // A Unix socket path holds at most 107 bytes (sun_path); a longer one could never be bound.
        if (s.LocalSocketOrDefault is { } sock && (System.Text.Encoding.UTF8.GetByteCount(sock) > 107 || !Path.IsPathFullyQualified(sock)))
            throw new SettingsException($"{path}: the local API socket '{sock}' must be an absolute path of at most 107 bytes; " +
                "set 'localSocket' (or a shorter 'runtimeDirectory'), or \"\" to turn the socket off");
        if (s.WatchdogDevice is { } dog && (!Path.IsPathFullyQualified(dog) || s.WatchdogTimeoutSeconds is < 1 or > 60))
            throw new SettingsException($"{path}: 'watchdogDevice' must be an absolute path (e.g. /dev/watchdog) and 'watchdogTimeoutSeconds' between 1 and 60 (it is {s.WatchdogTimeoutSeconds})");
        if (s.SelfFenceAction is not ("reboot" or "exit"))
            throw new SettingsException($"{path}: 'selfFenceAction' is '{s.SelfFenceAction}'; it must be \"reboot\" (reset the host when this node must fence itself) or \"exit\" (only kill its agents and exit, for members sharing one host)");
        if (string.IsNullOrEmpty(s.ResetTrigger) || !Path.IsPathFullyQualified(s.ResetTrigger))
            throw new SettingsException($"{path}: 'resetTrigger' must be an absolute path (the default is /proc/sysrq-trigger)");
        return s;
    }

    public void Save(string path) => File.WriteAllText(path, JsonSerializer.Serialize(this, Json));

    /// <summary>This node's credentials, or null when TLS is not configured.</summary>
    public Security.ClusterCredentials? LoadCredentials() =>
        TlsDirectory is null ? null : Security.ClusterCredentials.Load(TlsDirectory, Name, Members.Keys);

    /// <summary>The URL of a member's API.</summary>
    public string Url(MemberAddress member, string path) => $"{(TlsDirectory is null ? "http" : "https")}://{member.Api}{path}";
}

public sealed class SettingsException(string message) : Exception(message);
