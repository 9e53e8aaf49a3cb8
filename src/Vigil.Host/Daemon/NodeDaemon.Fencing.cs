using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Vigil.Control;
using Vigil.Core.Model;
using Vigil.Host.Agents;

namespace Vigil.Host.Daemon;

/// <summary>Node → node: run fencing against a target with this node's fence agents (the leader never fences itself).</summary>
public sealed record NodeFenceRequest(long Term, string Target, string Action);

/// <summary>The outcome of fencing: which devices were used or tried, and why it failed.</summary>
public sealed record NodeFenceResponse(bool Succeeded, string Devices, string? Reason, long ElapsedMs);

public sealed partial class NodeDaemon
{
    /// <summary>After a failed attempt, fencing of the same node is retried after this pause.</summary>
    private static readonly TimeSpan FenceRetryPause = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, byte> _fencing = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _fenceFailedAt = new(StringComparer.Ordinal);
    /// <summary>Targets with a replan scheduled for the end of their retry pause.</summary>
    private readonly ConcurrentDictionary<string, byte> _fenceRetryDue = new(StringComparer.Ordinal);
    /// <summary>Where each lease wait counts from, and why (<see cref="Controller.LeaseCount"/>), noted when fencing starts.</summary>
    private readonly ConcurrentDictionary<string, (DateTimeOffset From, string Basis)> _leaseCounts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (IReadOnlySet<string> Hosts, DateTimeOffset At)> _deviceLists = new(StringComparer.Ordinal);

    /// <summary>
    /// Starts fencing a node the transition wants fenced (once at a time, and not again within
    /// <see cref="FenceRetryPause"/> of a failure). Everything ordered after the fence stays blocked
    /// until the result is recorded: the scheduler stops asking for it once the node is known down.
    /// </summary>
    private void StartFencing(FenceRequest f)
    {
        var target = f.Target;
        if (_fenceFailedAt.TryGetValue(target, out var failed) && DateTimeOffset.UtcNow - failed is var since && since < FenceRetryPause)
        {
            // A transition that waits for this fence plans nothing new by itself (nothing changes while it is
            // blocked): without a wake-up once the pause is over, a failed fence was never tried again.
            if (_fenceRetryDue.TryAdd(target, 0))
                _ = Task.Delay(FenceRetryPause - since + TimeSpan.FromMilliseconds(20), _stop.Token).ContinueWith(_ =>
                {
                    _fenceRetryDue.TryRemove(target, out var _);
                    RequestReplan();
                }, TaskScheduler.Default);
            return;
        }
        if (!_fencing.TryAdd(target, 0)) return;
        _inFlight.TryAdd(f.Key, 0);
        _leaseCounts[target] = _controller?.LeaseCount(target) ?? (DateTimeOffset.UtcNow, "now (this leader never saw it)");
        _ = Task.Run(async () =>
        {
            try { await FenceAsync(target, f.Action, "controller", _settings.Name, _consensus.LeadershipToken).ConfigureAwait(false); }
            catch (OperationCanceledException) { Log($"fencing {target} abandoned: leadership or the daemon ended"); }
            finally { _fencing.TryRemove(target, out _); _inFlight.TryRemove(f.Key, out _); RequestReplan(); }
        });
    }

    /// <summary>
    /// Leader only: fences <paramref name="target"/> from a node that is not the target (this one when it
    /// can), records the result in the replicated state, and returns it.
    /// </summary>
    private async Task<NodeFenceResponse> FenceAsync(string target, string action, string origin, string by, CancellationToken ct)
    {
        var term = _consensus.Term;
        Log($"fencing {target} ({action}, asked by {by})");
        NodeFenceResponse result;
        var config = _consensus.State.Configuration;
        if (FencePlanner.Levels(config, target, out _).Count == 0 && FencePlanner.LeaseProblem(config) is null && origin == "controller")
            result = await LeaseFenceAsync(target, FencePlanner.WatchdogTimeout(config)!.Value, ct).ConfigureAwait(false);
        else if (target != _settings.Name)
        {
            await DeathMatchWaitAsync(target, origin, ct).ConfigureAwait(false);
            result = await FenceLocallyAsync(config, target, action, ct).ConfigureAwait(false);
        }
        else
            result = await FenceThroughPeerAsync(target, action, term, ct).ConfigureAwait(false);
        if (result.Succeeded) _fenceFailedAt.TryRemove(target, out _);
        else _fenceFailedAt[target] = DateTimeOffset.UtcNow;
        Log(result.Succeeded
            ? $"fenced {target} with {result.Devices} ({action}) in {result.ElapsedMs} ms"
            : $"fencing {target} failed after {result.ElapsedMs} ms: {result.Reason}; its resources stay where they were until fencing succeeds or 'vigil fence ack {target}'");
        if (!ct.IsCancellationRequested)
        {
            await ProposeAsync(new FenceResultCommand(target, action, result.Succeeded, by, origin)
            {
                RequestId = $"fence:{target}:{Guid.NewGuid():N}", Devices = result.Devices, Reason = result.Reason,
            }).ConfigureAwait(false);
        }
        return result;
    }

    /// <summary>
    /// Lease self-fencing: the lost node stops its resources or resets itself within the watchdog
    /// timeout of its last contact, so once that much time has passed since this leader last saw it,
    /// it counts as fenced. A new leader only knows the node since its own election: it waits longer, except for the
    /// leader it directly succeeded, whose lease may count from a little before the election (<see cref="Controller.LeaseOrigin"/>).
    /// </summary>
    private async Task<NodeFenceResponse> LeaseFenceAsync(string target, TimeSpan lease, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        // Noted by the controller loop when fencing started (its bookkeeping belongs to that loop).
        var (from, basis) = _leaseCounts.TryGetValue(target, out var seen) ? seen : (DateTimeOffset.UtcNow, "now (no sighting noted)");
        var wait = from + lease - DateTimeOffset.UtcNow;
        Log($"{target} has no fence device: waiting {Math.Max(0, wait.TotalMilliseconds):F0} ms for its lease to expire (stonith-watchdog-timeout {lease.TotalMilliseconds:F0} ms, counted from {basis})");
        if (wait > TimeSpan.Zero) await WaitOutLeaseAsync(target, from + lease, lease, ct).ConfigureAwait(false);
        // Back in the meantime: it may never have lost quorum, so it may still run its resources.
        if (_consensus.State.Nodes.FirstOrDefault(n => n.Uname == target) is { Crmd: "online" })
            return new NodeFenceResponse(false, "watchdog-lease", $"{target} came back before its lease expired; not counted as fenced", clock.ElapsedMilliseconds);
        return new NodeFenceResponse(true, "watchdog-lease", null, clock.ElapsedMilliseconds);
    }

    /// <summary>Kept on top of the lease rounds' bound for late timers: the lost node may notice its deadline this much late.</summary>
    private static readonly TimeSpan LeaseRoundMargin = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Waits until <paramref name="end"/>, or earlier once the members' receipts of <paramref name="target"/>'s lease requests
    /// show its lease over (<see cref="LeaseRounds.CountFrom"/>): asked at once, then again at the moment they allow (a
    /// later receipt moves that moment), and every 100 ms while they allow nothing.
    /// </summary>
    private async Task WaitOutLeaseAsync(string target, DateTimeOffset end, TimeSpan lease, CancellationToken ct)
    {
        bool saidUsable = false, saidUnusable = false;
        while (DateTimeOffset.UtcNow < end)
        {
            var next = DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(100);
            // Asked whatever this node's own setting: the lost node's decides whether there are receipts.
            if (_settings.Members.Count >= 3)
            {
                var askedAt = DateTimeOffset.UtcNow;
                var receipts = await AskLeaseReceiptsAsync(target, ct).ConfigureAwait(false);
                var recorded = _consensus.State.Nodes.FirstOrDefault(n => n.Uname == target) is { } node ? ClusterState.BootOf(node) : null;
                var (roundFrom, why) = LeaseRounds.CountFrom(receipts, _settings.Members.Count, recorded, LeaseSkew, LeaseRoundMargin);
                if (roundFrom is { } rf && LeaseRounds.Confirmed(rf, lease, askedAt))
                {
                    Log($"{target}'s lease expired {(end - DateTimeOffset.UtcNow).TotalMilliseconds:F0} ms early by its lease rounds: counted from {why}, and no later receipt at {string.Join(", ", receipts.Select(r => r.Member))}");
                    return;
                }
                // Said once each: a live target's receipts move on every round.
                if (roundFrom is { } f && !saidUsable) Log($"{target}'s lease rounds: counted from {why}, its lease ends at {f + lease:HH:mm:ss.fff} UTC unless a later receipt shows up");
                else if (roundFrom is null && !saidUnusable && receipts.Any(r => r.At is not null)) Log($"{target}'s lease rounds do not bound its lease yet: {why}");
                saidUsable |= roundFrom is not null;
                saidUnusable |= roundFrom is null;
                if (roundFrom is { } later && later + lease < end && later + lease > next) next = later + lease;
            }
            var sleep = (next < end ? next : end) - DateTimeOffset.UtcNow;
            if (sleep > TimeSpan.Zero) await Task.Delay(sleep, ct).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Alone in a two-node cluster, the peer may be fencing this node at the same moment: the side that
    /// would shoot the favoured node waits longer (<see cref="TwoNode.DeathMatchWait"/>, counted from when it first missed the peer), so exactly one shoots.
    /// </summary>
    private async Task DeathMatchWaitAsync(string target, string origin, CancellationToken ct)
    {
        if (origin != "controller" || _consensus.AloneNow is not { } alone || alone.Peer != target) return;
        var state = _consensus.State;
        var delay = TwoNode.DeathMatchDelay(state, _settings.Name, target);
        if (delay <= TimeSpan.Zero) return;
        var wait = TwoNode.DeathMatchWait(state, _settings.Name, target, DateTimeOffset.UtcNow - alone.PeerLostAt);
        Log($"two-node fence race: this node fences {target} {delay.TotalMilliseconds:F0} ms after it missed it " +
            $"({(FencePlanner.Favoured(state, target, _settings.Name) ? $"{target} is favoured" : "this node is favoured")}; priority-fencing-delay), so it waits {wait.TotalMilliseconds:F0} ms more");
        if (wait > TimeSpan.Zero) await Task.Delay(wait, ct).ConfigureAwait(false);
    }

    private async Task<NodeFenceResponse> FenceThroughPeerAsync(string target, string action, long term, CancellationToken ct)
    {
        var reachable = _consensus.Members.Where(m => m.Reachable && m.Name != target).Select(m => m.Name).Order(StringComparer.Ordinal);
        foreach (var peer in reachable)
        {
            if (!_settings.Members.TryGetValue(peer, out var addr)) continue;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
                cts.CancelAfter(FencePlanner.Timeout(_consensus.State.Configuration) * 4);
                using var http = await _http.PostAsJsonAsync(_settings.Url(addr, "/v1/node/fence"), new NodeFenceRequest(term, target, action), WireJson.Web, cts.Token).ConfigureAwait(false);
                var body = await http.Content.ReadFromJsonAsync<NodeFenceResponse>(WireJson.Web, cts.Token).ConfigureAwait(false);
                if (body is not null) return body;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
            {
                Log($"asking {peer} to fence {target}: no answer ({e.GetType().Name})");
            }
        }
        return new NodeFenceResponse(false, "", $"no other node could be asked to fence {target}", 0);
    }

    private Task<IResult> NodeFenceEndpointAsync(HttpContext ctx) => ReadJson<NodeFenceRequest>(ctx, async req =>
    {
        if (string.IsNullOrEmpty(req.Target) || req.Target == _settings.Name || !_settings.Members.ContainsKey(req.Target))
            return Results.BadRequest(new ErrorResponse("a fence request needs a target that is a member other than this node"));
        if (!IsFenceAction(req.Action))
            return Results.BadRequest(new ErrorResponse($"unknown fence action '{req.Action}'", "use reboot, off or on"));
        if (RefuseOlderTerm(req.Term) is { } refused) return refused;
        var result = await FenceLocallyAsync(_consensus.State.Configuration, req.Target, req.Action, _stop.Token).ConfigureAwait(false);
        return Results.Json(result);
    });

    /// <summary>
    /// Runs the fence devices for <paramref name="target"/> on this node: topology levels in order (every
    /// device of a level must succeed), each device after its pcmk_delay, retried pcmk_reboot_retries times.
    /// </summary>
    private async Task<NodeFenceResponse> FenceLocallyAsync(Configuration config, string target, string action, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var levels = FencePlanner.Levels(config, target, out var missing);
        var timeout = FencePlanner.Timeout(config);
        var runner = new FenceRunner(_agentRunner);
        var reasons = new List<string>();
        if (missing.Count > 0) reasons.Add($"fencing_topology names devices that are not configured: {string.Join(", ", missing)}");
        var tried = new List<string>();
        foreach (var level in levels)
        {
            bool levelOk = true;
            foreach (var device in level)
            {
                var capable = await CanFenceAsync(runner, device, target, timeout, ct).ConfigureAwait(false);
                if (!capable)
                {
                    if (levels.Count == 1 || level.Count > 1) reasons.Add($"{device.Id} cannot fence {target} (not in its host list)");
                    levelOk = false;
                    break;
                }
                tried.Add(device.Id);
                var delay = FencePlanner.Delay(device, target, Random.Shared.NextDouble());
                if (delay > TimeSpan.Zero) await Task.Delay(delay, ct).ConfigureAwait(false);
                var ok = false;
                for (int attempt = 0; attempt <= FencePlanner.Retries(device, action) && !ok && !ct.IsCancellationRequested; attempt++)
                {
                    var r = await runner.RunAsync(ToDevice(device), action, target, timeout, ct).ConfigureAwait(false);
                    ok = r.Succeeded;
                    if (!ok) reasons.Add($"{device.Id} {action} {target}: {r.Outcome}{(r.Agent.ExitReason is { Length: > 0 } why ? $" ({why})" : "")}");
                }
                if (!ok) { levelOk = false; break; }
            }
            if (levelOk) return new NodeFenceResponse(true, string.Join(",", level.Select(d => d.Id)), null, clock.ElapsedMilliseconds);
        }
        if (levels.Count == 0) reasons.Add("no fence device is configured (add one: primitive NAME stonith:fence_… params pcmk_host_list=\"…\")");
        return new NodeFenceResponse(false, string.Join(",", tried), string.Join("; ", reasons.Distinct()), clock.ElapsedMilliseconds);
    }

    private async Task<bool> CanFenceAsync(FenceRunner runner, FenceDeviceConfig device, string target, TimeSpan timeout, CancellationToken ct)
    {
        var known = FencePlanner.CanFence(device, target);
        if (known is { } k) return k;
        if (device.Check == HostCheck.Status)
        {
            var s = await runner.RunAsync(ToDevice(device), "status", target, timeout, ct).ConfigureAwait(false);
            return s.Outcome is FenceOutcome.Success or FenceOutcome.Off;
        }
        // dynamic-list: the agent's list, cached for a minute; a device whose list fails is assumed able (as a last resort it is tried).
        if (!_deviceLists.TryGetValue(device.Id, out var cached) || DateTimeOffset.UtcNow - cached.At > TimeSpan.FromMinutes(1))
        {
            var list = await runner.RunAsync(ToDevice(device), "list", null, timeout, ct).ConfigureAwait(false);
            if (!list.Succeeded) return true;
            cached = (FencePlanner.ParseList(list.Agent.Stdout), DateTimeOffset.UtcNow);
            _deviceLists[device.Id] = cached;
        }
        return cached.Hosts.Contains(target);
    }

    private static bool IsFenceAction(string? action) => action is "reboot" or "off" or "on";

    private static FenceDevice ToDevice(FenceDeviceConfig d) => new(d.Id, d.Agent) { Parameters = d.Parameters };
}
