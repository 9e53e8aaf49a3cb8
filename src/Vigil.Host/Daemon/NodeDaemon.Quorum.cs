using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Net.Http.Json;
using Vigil.Control;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Host.Daemon;

public sealed partial class NodeDaemon
{
    /// <summary>What this node's executor runs now, with the request that started it (to stop it without the cluster).</summary>
    private readonly ConcurrentDictionary<string, (ExecuteRequest Request, long Seq)> _localActive = new(StringComparer.Ordinal);
    private readonly List<ReportRequest> _unreported = [];
    private long _seq;
    private volatile bool _hasQuorum = true;
    /// <summary>When this node last reached a majority (Environment.TickCount64), as last noted: read it through <see cref="LastQuorumContactMs"/>.</summary>
    private long _lastQuorumContactMs = Environment.TickCount64;
    private readonly Wakeup _quorumWake = new();
    /// <summary>When a round of pings first reached no majority since the last contact (Environment.TickCount64), 0 while none did.</summary>
    private long _majorityUnreachedMs;
    /// <summary>One stop of the local resources at a time (the quorum check and the lease check both stop them).</summary>
    private readonly SemaphoreSlim _localStops = new(1, 1);
    private static readonly TimeSpan QuorumCheck = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan QuorumInContactCheck = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan NoMajorityYet = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// A leader is in contact: the consensus layer has not lost it, and when this node is that leader, a majority
    /// answered it within the leader lease. The lease bounds a leader's last contact by the next election: a majority
    /// that answered it shares a member with the one that elects its successor, and that member did not take part in
    /// the election until its own election timeout had passed since it answered (see
    /// <see cref="LeaseBeforeElection"/>). The consensus token alone would keep a cut-off leader "in contact"
    /// until it steps down, a request timeout or more later, or after a pause until its timers run.
    /// </summary>
    private bool LeaderInContact =>
        _consensus.Leader is { } leader && !_consensus.ConsensusToken.IsCancellationRequested && (leader != _settings.Name || _settings.Members.Count == 1 || _consensus.HoldsLeaderLease);

    /// <summary>Running alone (its own quorum), or a leader is in contact: this node is on the majority's side now.</summary>
    private bool InQuorumContact => _consensus.AloneNow is not null || LeaderInContact;

    /// <summary>
    /// When this node last reached a majority (Environment.TickCount64): now while <see cref="InQuorumContact"/>, else
    /// the last time that was seen. The lease counts from it; the consensus layer ends the contact (its token is cancelled)
    /// when no leader has been heard for an election timeout, which <see cref="LeaseSkew"/> allows for.
    /// </summary>
    /// <remarks>Once a lease round was counted, never later than the last counted round allows (<see cref="LeaseRounds"/>):
    /// the leader may count this node's lease from what the members received of them.</remarks>
    private long LastQuorumContactMs()
    {
        // Read before the check: the moment noted was one at which the contact held.
        var now = Environment.TickCount64;
        long contact;
        if (!InQuorumContact) contact = Interlocked.Read(ref _lastQuorumContactMs);
        else
        {
            Interlocked.Exchange(ref _lastQuorumContactMs, now);
            contact = now;
        }
        return RoundBound ? Math.Min(contact, Interlocked.Read(ref _roundContactUntil)) : contact;
    }

    private void TrackLocal(ExecuteRequest req, int rc, int opStatus)
    {
        if (opStatus != 0) return;
        var running = (req.Operation, rc) switch
        {
            ("start" or "promote" or "demote" or "migrate_from", 0) => true,
            ("monitor", 0 or 8) => true,
            ("stop", 0) or ("monitor", 7) or ("migrate_to", 0) => false,
            _ => (bool?)null,
        };
        if (running == true)
        {
            _localActive.AddOrUpdate(req.Resource, _ => (req, Interlocked.Increment(ref _seq)), (_, old) => (req with { Parameters = req.Parameters }, old.Seq));
            _leaseWake.Set();
        }
        else if (running == false) _localActive.TryRemove(req.Resource, out _);
    }

    /// <summary>
    /// Quorum as Pacemaker's policies mean it: this node reaches a majority of the members (itself
    /// included). Not "knows a leader": every follower is leaderless for a moment during an election.
    /// After <see cref="NodeSettings.QuorumLossGraceMs"/> without quorum, no-quorum-policy applies.
    /// </summary>
    private async Task QuorumLoopAsync(CancellationToken ct)
    {
        using var http = _credentials is null ? new HttpClient() : new HttpClient(_credentials.HttpHandler(Refused));
        http.Timeout = TimeSpan.FromMilliseconds(300);
        var lostAt = (Stopwatch?)null;
        var acted = false;
        // This node reaches a majority: note the contact, and tell the leader about stops made without one.
        async Task QuorateAsync(string how)
        {
            if (!_hasQuorum) Log($"quorum regained ({how})");
            _hasQuorum = true;
            Interlocked.Exchange(ref _lastQuorumContactMs, Environment.TickCount64);
            lostAt = null;
            Interlocked.Exchange(ref _majorityUnreachedMs, 0);
            acted = false;
            // Stops made without a majority (here, or by the lease check) are reported to the leader.
            bool unreported;
            lock (_unreported) unreported = _unreported.Count > 0;
            if (unreported) await ReportLocalStopsAsync().ConfigureAwait(false);
        }
        while (!ct.IsCancellationRequested)
        {
            // In contact, nothing changes until the consensus layer says so (a leader change, or its token cancelled when
            // the leader goes quiet): wait for that, or a second. Out of contact, ask the peers every 200 ms.
            try
            {
                if (_hasQuorum && _consensus.AloneNow is null && LeaderInContact && RoundContactFresh)
                {
                    using (_consensus.ConsensusToken.Register(_quorumWake.Set))
                        await _quorumWake.WaitAsync(QuorumInContactCheck, ct).ConfigureAwait(false);
                }
                else await Task.Delay(QuorumCheck, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) { return; }
            if (_consensus.AloneNow is { } alone)
            {
                // Alone, this node is its own quorum until its peer answers again.
                Interlocked.Exchange(ref _lastQuorumContactMs, Environment.TickCount64);
                if (!await PingAsync(http, alone.Peer, ct).ConfigureAwait(false)) continue;
                var dropped = _consensus.LeaveAlone();
                Interlocked.Increment(ref _aloneEpoch);
                lostAt = null;
                Log($"{alone.Peer} answers again: no longer alone after {(DateTimeOffset.UtcNow - alone.Since).TotalSeconds:F1} s; " +
                    $"{dropped} change(s) made alone stay local, the cluster re-probes what this node runs (boot {Boot})");
                _ = Task.Run(() => TellLeaderBootChangedAsync(ct), CancellationToken.None);
                continue;
            }
            // With a leader in contact, this node is on the majority's side: no pings needed. Only a
            // leaderless node (an election, or a partition) asks its peers directly.
            // A leader in contact whose lease rounds lapsed (none answered by a majority in time) is asked about like none.
            if (LeaderInContact && RoundContactFresh)
            {
                if (TwoNodePeer is not null) _sawPeer = true;
                await QuorateAsync("a leader is in contact").ConfigureAwait(false);
                continue;
            }
            var peers = _settings.Members.Where(m => m.Key != _settings.Name).ToList();
            var pings = peers.Select(p => PingAsync(http, p.Key, ct)).ToList();
            var round = Task.WhenAll(pings);
            // Peers that answer at all answer within milliseconds: when a majority has not after a short while, the lease
            // check may already act on it (the round itself still waits for the ping timeout before it decides).
            try
            {
                if (await Task.WhenAny(round, Task.Delay(NoMajorityYet, ct)).ConfigureAwait(false) != round &&
                    (1 + pings.Count(p => p.IsCompletedSuccessfully && p.Result)) * 2 <= _settings.Members.Count)
                    Interlocked.CompareExchange(ref _majorityUnreachedMs, Environment.TickCount64, 0);
            }
            catch (OperationCanceledException) { return; }
            var answers = await round.ConfigureAwait(false);
            var reachable = 1 + answers.Count(a => a);
            var quorate = reachable * 2 > _settings.Members.Count;
            if (reachable == _settings.Members.Count) _sawPeer = true;
            if (quorate)
            {
                await QuorateAsync($"{reachable} of {_settings.Members.Count} members reachable").ConfigureAwait(false);
                continue;
            }
            lostAt ??= Stopwatch.StartNew();
            Interlocked.CompareExchange(ref _majorityUnreachedMs, Environment.TickCount64, 0);
            if ((lostAt.ElapsedMilliseconds < _settings.QuorumLossGraceMs && !LeaseStopDue()) || acted) continue;
            if (TwoNodePeer is { } peer && TwoNode.AloneReason(_consensus.State.Configuration, peer, _sawPeer, TwoNode.LeftCleanly(_consensus.State, peer)) is { } reason)
            {
                _consensus.EnterAlone(peer, reason, Interlocked.Read(ref _highestTerm), DateTimeOffset.UtcNow - lostAt.Elapsed);
                Log($"{peer} unreachable for {lostAt.ElapsedMilliseconds} ms: running alone ({reason})");
                continue;
            }
            _hasQuorum = false;
            acted = true;
            var policy = _consensus.State.Configuration.Property("no-quorum-policy") ?? "stop";
            Log($"quorum lost: {reachable} of {_settings.Members.Count} members reachable for {lostAt.ElapsedMilliseconds} ms; no-quorum-policy={policy}");
            if (TwoNodePeer is not null && !_sawPeer)
                Log("two-node cluster: this node has not seen its peer since it started, so it does not carry on alone (wait for all)");
            if (policy is "ignore" or "freeze")
            {
                Log(policy == "ignore" ? "keeping resources running (ignore): they may also be started on the other side"
                                       : "keeping running resources, starting nothing new (freeze)");
                continue;
            }
            if (policy is "suicide" or "fence")
                Log("no-quorum-policy asks for self-fencing: stopping resources first; the lease deadline resets this node if that does not finish in time");
            await StopLocalResourcesAsync("no quorum").ConfigureAwait(false);
        }
    }

    /// <summary>
    /// With lease self-fencing, a node running resources must have stopped them by its self-fence deadline
    /// (<see cref="LeaseLoopAsync"/>), counted from its last contact with a majority. The quorum-loss grace
    /// can be longer than that deadline (a 2 s lease leaves 0.9 s, the grace is 1 s): the node then reset
    /// itself before it ever tried to stop, and what a reset of the daemon does not end (an IPaddr2 address)
    /// kept running while the majority started it too (found by the testbed's 20 partitions). So once half
    /// the deadline has passed without quorum, the node stops at once, leaving the other half for the stops.
    /// </summary>
    private bool LeaseStopDue()
    {
        if (_localActive.IsEmpty || FencePlanner.SelfFenceDeadline(_consensus.State.Configuration, LeaseSkew) is not { } deadline) return false;
        return Environment.TickCount64 - LastQuorumContactMs() >= deadline.TotalMilliseconds / 2;
    }

    /// <summary>Whether a member's daemon answers /v1/ping (within the client's short timeout).</summary>
    private async Task<bool> PingAsync(HttpClient http, string member, CancellationToken ct)
    {
        if (!_settings.Members.TryGetValue(member, out var addr)) return false;
        try { using var r = await http.GetAsync(_settings.Url(addr, "/v1/ping"), ct).ConfigureAwait(false); return r.IsSuccessStatusCode; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
    }

    /// <summary>The other member of a cluster of exactly two voting members (no witness), else null.</summary>
    private string? TwoNodePeer => _settings.Members.Count == 2 ? _settings.Members.Keys.First(k => k != _settings.Name) : null;

    /// <summary>Wait for all: a two-node member carries on alone only after it has seen its peer since it started.</summary>
    private volatile bool _sawPeer;

    /// <summary>Stops what this node runs, newest first (groups stop in reverse order), without the cluster.</summary>
    private async Task StopLocalResourcesAsync(string why)
    {
        await _localStops.WaitAsync(_stop.Token).ConfigureAwait(false);
        try { await StopLocalResourcesLockedAsync(why).ConfigureAwait(false); }
        finally { _localStops.Release(); }
    }

    private async Task StopLocalResourcesLockedAsync(string why)
    {
        foreach (var (rsc, (req, _)) in _localActive.OrderByDescending(kv => kv.Value.Seq).ToList())
        {
            var stop = req with { Operation = "stop", IntervalMs = 0, TargetRc = 0 };
            var agentText = stop.Provider is null ? $"{stop.Class}:{stop.Type}" : $"{stop.Class}:{stop.Provider}:{stop.Type}";
            if (!Agents.AgentId.TryParse(agentText, out var agent, out _)) continue;
            var action = new Agents.AgentAction(agent, rsc, "stop")
            {
                Timeout = TimeSpan.FromMilliseconds(Math.Clamp(req.TimeoutMs, 1000, 3_600_000)), NodeName = _settings.Name,
                Parameters = req.Parameters.ToImmutableDictionary(), Meta = req.Meta.ToImmutableDictionary(),
            };
            var rec = await _executor.ExecuteAsync(action, _stop.Token).ConfigureAwait(false);
            Log($"stopped {rsc} ({why}): rc {rec.Rc}");
            if (rec.Rc == 0 && rec.Status == Agents.ExecStatus.Done)
            {
                _localActive.TryRemove(rsc, out _);
                lock (_unreported)
                    _unreported.Add(new ReportRequest(_settings.Name, rsc, stop.Class, stop.Provider, stop.Type, "stop", 0, 0, 0, rec.CallId, null, 0) { Boot = Boot });
            }
        }
    }

    /// <summary>Once quorum is back, the leader learns about the stops made without it.</summary>
    private async Task ReportLocalStopsAsync()
    {
        List<ReportRequest> pending;
        lock (_unreported) { pending = [.. _unreported]; _unreported.Clear(); }
        for (int attempt = 0; attempt < 50 && pending.Count > 0; attempt++)
        {
            var leader = _consensus.Leader;
            if (leader is not null && _settings.Members.TryGetValue(leader, out var addr))
            {
                var failed = new List<ReportRequest>();
                foreach (var r in pending)
                {
                    try
                    {
                        using var resp = await _http.PostAsJsonAsync(_settings.Url(addr, "/v1/leader/report"), r, WireJson.Web, _stop.Token).ConfigureAwait(false);
                        if (!resp.IsSuccessStatusCode) failed.Add(r);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { failed.Add(r); }
                }
                pending = failed;
            }
            if (pending.Count > 0) await Task.Delay(200, _stop.Token).ConfigureAwait(false);
        }
    }
}
