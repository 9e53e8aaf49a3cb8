using System.Diagnostics;
using System.Net.Http.Json;
using Vigil.Control;
using Vigil.Core;

namespace Vigil.Host.Daemon;

/// <summary>How a clean stop of the daemon ended.</summary>
public enum ShutdownOutcome
{
    /// <summary>Everything here moved away or stopped, and the cluster recorded this node as expected down.</summary>
    Clean,
    /// <summary>Nothing runs here, but no leader was there to record it: the others may count this node as lost.</summary>
    Unacknowledged,
    /// <summary>shutdown-escalation ran out with resources still running here.</summary>
    Escalated,
    /// <summary>Asked to stop again while waiting: left at once.</summary>
    Forced,
}

public sealed partial class NodeDaemon
{
    /// <summary>Pacemaker's default shutdown-escalation: how long a stopping node waits for its resources to move away.</summary>
    public static readonly TimeSpan DefaultShutdownEscalation = TimeSpan.FromMinutes(20);

    /// <summary>How long a stopping leader, itself done, still drives what it dispatched and the others' shutdowns.</summary>
    private static readonly TimeSpan LeaderHandOver = TimeSpan.FromSeconds(10);

    /// <summary>How long a stopping node with nothing running waits for a leader to acknowledge it before it leaves anyway.</summary>
    private static readonly TimeSpan LeaderlessLeave = TimeSpan.FromSeconds(5);

    /// <summary>
    /// A clean stop (the first SIGTERM), as Pacemaker stops a node: the node asks the cluster to shut it down
    /// (the transient <c>shutdown</c> attribute), the DC moves or stops everything it runs and then records it as
    /// expected down, and only then does the daemon return: the others neither fence it nor wait for its lease,
    /// and nothing it ran keeps running unmanaged. Bounded by the cluster property shutdown-escalation (20 min by
    /// default, as Pacemaker's); <paramref name="force"/> (a second signal) ends the wait at once. Without a leader
    /// (no quorum) it leaves once nothing runs here and no leader appeared for <see cref="LeaderlessLeave"/>.
    /// </summary>
    public async Task<ShutdownOutcome> ShutdownAsync(CancellationToken force)
    {
        if (_settings.Self.Witness) return ShutdownOutcome.Clean;
        var clock = Stopwatch.StartNew();
        var escalation = Duration.Positive(_consensus.State.Configuration.Property("shutdown-escalation")) ?? DefaultShutdownEscalation;
        Log($"shutting down: asking the cluster to move or stop what runs here first (at most {escalation.TotalSeconds:0.#} s, shutdown-escalation; stop again to leave at once)");
        long lastAsk = Environment.TickCount64 - 1000;
        Stopwatch? done = null;
        Stopwatch? leaderless = null;
        while (true)
        {
            if (force.IsCancellationRequested)
            {
                Log($"asked to stop again: leaving now{Running()}");
                return ShutdownOutcome.Forced;
            }
            var state = _consensus.State;
            var me = state.Nodes.FirstOrDefault(n => n.Uname == _settings.Name);
            // Only a record of this boot counts: one of the previous boot stays until the leader records the new one.
            if (me is not null && ClusterState.ShutdownRecorded(me, Boot) && !RunsResources)
            {
                // The leader finishes what it dispatched and sees the others that are shutting down through (when
                // every node stops at once, the last ones would otherwise lose quorum before they are recorded),
                // and waits until the members it reaches have applied its own record (they learn a commit from the
                // next heartbeat; a two-node peer that had not would run alone and fence it: simulator seeds 203
                // and 731), for a while: then the others elect a leader of their own.
                done ??= Stopwatch.StartNew();
                bool othersLeaving = state.Nodes.Any(n => n.Uname != _settings.Name && ClusterState.ShutdownPending(n));
                bool stillNeeded = _consensus.IsLeader && done.Elapsed < LeaderHandOver
                    && (!_inFlight.IsEmpty || othersLeaving || !await PeersAppliedAsync(state.Version).ConfigureAwait(false));
                if (!stillNeeded)
                {
                    Log($"shut down cleanly in {clock.ElapsedMilliseconds} ms: nothing runs here and the cluster recorded this node as down");
                    return ShutdownOutcome.Clean;
                }
            }
            if (_consensus.Leader is null) leaderless ??= Stopwatch.StartNew(); else leaderless = null;
            if (leaderless?.Elapsed >= LeaderlessLeave && !RunsResources)
            {
                Log($"leaving after {clock.ElapsedMilliseconds} ms without the cluster's acknowledgement: nothing runs here, but no leader for {leaderless.ElapsedMilliseconds} ms (no quorum), so the others may count this node as lost");
                return ShutdownOutcome.Unacknowledged;
            }
            if (clock.Elapsed >= escalation)
            {
                Log($"shutdown-escalation ({escalation.TotalSeconds:0.#} s) reached: leaving{Running()}");
                return ShutdownOutcome.Escalated;
            }
            if ((me is null || !ClusterState.ShutdownRequested(me)) && Environment.TickCount64 - lastAsk >= 1000)
            {
                lastAsk = Environment.TickCount64;
                await RequestShutdownAsync().ConfigureAwait(false);
            }
            try { await Task.Delay(100, force).ConfigureAwait(false); }
            catch (OperationCanceledException) { }
        }
    }

    /// <summary>Whether every other member this leader reaches has applied the state up to <paramref name="version"/> (asked with /v1/node/hello).</summary>
    private async Task<bool> PeersAppliedAsync(long version)
    {
        var peers = _consensus.Members.Where(m => m.Name != _settings.Name && m.Reachable).Select(m => m.Name).ToList();
        var answers = await Task.WhenAll(peers.Select(p => AskHelloAsync(p, "/v1/node/hello", TimeSpan.FromSeconds(1)))).ConfigureAwait(false);
        // A member that does not answer, or not with a hello, cannot be waited for.
        return answers.All(a => a.Hello is not { } hello || hello.Version >= version);
    }

    /// <summary>
    /// Whether this node's executor runs anything a clean stop must wait for. Fence devices do not count: "running" one
    /// is only this node's registration as a fencer, nothing is left behind, and the cluster does not probe them, so a
    /// start whose result was lost would otherwise hold the stop until shutdown-escalation (simulator seed 5456 of
    /// --clean-stops --witness --link-cuts --promotable).
    /// </summary>
    private bool RunsResources => _localActive.Values.Any(v => v.Request.Class != "stonith");

    private string Running() => _localActive.IsEmpty ? "" : $" with {string.Join(", ", _localActive.Keys.Order(StringComparer.Ordinal))} still running here";

    /// <summary>The replicated command that asks the cluster to shut <paramref name="node"/> down.</summary>
    private static SetNodeAttributeCommand ShutdownCommand(string node) =>
        new(node, ClusterState.ShutdownAttribute, DateTimeOffset.UtcNow.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), Transient: true)
        {
            RequestId = Guid.NewGuid().ToString("N"),
        };

    /// <summary>Sets this node's shutdown attribute through the leader (this node, or the leader's API); failures are retried by the caller.</summary>
    private async Task RequestShutdownAsync()
    {
        if (_consensus.IsLeader)
        {
            await ProposeAsync(ShutdownCommand(_settings.Name)).ConfigureAwait(false);
            return;
        }
        if (_consensus.Leader is not { } leader || !_settings.Members.TryGetValue(leader, out var addr)) return;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            cts.CancelAfter(TimeSpan.FromSeconds(2));
            using var r = await _http.PostAsJsonAsync(_settings.Url(addr, "/v1/operate"), new OperateRequest("shutdown", null, _settings.Name) { By = $"{_settings.Name}'s daemon" }, WireJson.Web, cts.Token).ConfigureAwait(false);
            if (!r.IsSuccessStatusCode) Log($"the leader {leader} did not take the shutdown request ({(int)r.StatusCode}); asking again");
        }
        catch (Exception x) when (x is HttpRequestException or TaskCanceledException)
        {
            Log($"the leader {leader} did not answer the shutdown request ({x.Message}); asking again");
        }
    }
}
