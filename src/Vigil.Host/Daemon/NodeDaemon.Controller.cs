using System.Net;
using Microsoft.AspNetCore.Http;
using System.Net.Http.Json;
using Vigil.Control;
using Vigil.Core;
using Vigil.Core.Model;
using Vigil.Host.Agents;
using Vigil.Host.Consensus;
using Vigil.Scheduler;

namespace Vigil.Host.Daemon;

public sealed partial class NodeDaemon
{
    private Controller? _controller;
    private int _replan;
    /// <summary>Boot ids of reachable members, from their /v1/node/hello, with when each was asked.</summary>
    private readonly Dictionary<string, (string Boot, DateTimeOffset At)> _peerBoots = new(StringComparer.Ordinal);
    /// <summary>How often the leader asks an online member for its boot id (a restart within the loss threshold shows as a new one).</summary>
    private static readonly TimeSpan BootRefresh = TimeSpan.FromSeconds(2);
    /// <summary>Answers (or their absence) reported by the dispatch tasks, handed to the controller on its own loop.</summary>
    private readonly System.Collections.Concurrent.ConcurrentQueue<(PlannedAction Action, bool? Expected)> _outcomes = new();

    /// <summary>Re-planning is needed after a result or a failed dispatch even when the state did not change.</summary>
    private void RequestReplan()
    {
        Interlocked.Exchange(ref _replan, 1);
        Signal();
    }

    /// <summary>
    /// The DC loop, a shell over <see cref="Controller"/>: while this node leads, keep the membership
    /// in the state current, plan on the replicated state, and dispatch every action whose
    /// predecessors are done. Each recorded result changes the state and wakes the loop.
    /// </summary>
    private async Task ControllerLoopAsync(CancellationToken ct)
    {
        // Witnesses vote but are never cluster nodes: they get no membership records and no resources.
        _controller = new Controller([.. _settings.ResourceNodes], _settings.Name, TimeSpan.FromMilliseconds(_settings.MemberDownAfterMs), LeaseBeforeContactEnded, LeaseBeforeElection);
        string? formerLeader = null;
        long formerLeaderTerm = 0;
        while (!ct.IsCancellationRequested)
        {
            // Every change the loop acts on signals it (an applied command, a leader or member status change, a result).
            // The short wait is for what passes with time alone: a silent member's grace, an answer still awaited.
            var settled = ControllerSettled();
            var settledTerm = settled && _consensus.IsLeader ? _controller.LedTerm : null;
            try { await _signal.WaitAsync(settled ? UntilBootRefresh() : BusyPoll, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            if (settledTerm is not null && settledTerm == _consensus.Term && _consensus.IsLeader) _controller.SeenAll(DateTimeOffset.UtcNow);
            if (!_consensus.IsLeader)
            {
                _controller.Follow();
                if (_consensus.Leader is { } followed && followed != _settings.Name) (formerLeader, formerLeaderTerm) = (followed, _consensus.LeaderTerm);
                continue;
            }
            // Elected, but this term's first entry is not committed yet (DotNext cancels the leadership token until it is):
            // the state may still lack entries the former leader committed, and every call made now would be cancelled at
            // once. Measured in the testbed: a new leader's first probes all failed at once and went out again 0.2-0.35 s
            // later, all of it added to the failover. So wait for the commit, which takes one round trip.
            if (_consensus.LeadershipToken.IsCancellationRequested)
            {
                try { await Task.Delay(LeaderBarrierPoll, ct).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
                Signal();
                continue;
            }
            try
            {
                var term = _consensus.Term;
                // Elected because the voters stopped hearing from the former leader for at least the lower election timeout.
                if (_controller.Lead(term, DateTimeOffset.UtcNow, formerLeader, TimeSpan.FromMilliseconds(_settings.LowerElectionTimeoutMs), formerLeaderTerm))
                    Log($"leading in term {term}{(formerLeader is null ? "" : $" (after {formerLeader} of term {formerLeaderTerm})")}");
                (formerLeader, formerLeaderTerm) = (null, 0);
                var views = _consensus.Members.ToDictionary(m => m.Name);
                // Alone, the peer stays lost to this controller even once it answers: the quorum loop then ends
                // running alone, and the peer rejoins through consensus (re-probed), not into the local copy.
                var alonePeer = _consensus.AloneNow?.Peer;
                bool Reachable(string n) => n != alonePeer && views.TryGetValue(n, out var v) && v.Reachable;
                await RefreshBootsAsync(Reachable).ConfigureAwait(false);
                // Reachable means the node's daemon answered (with its boot id), not only the consensus layer's view.
                bool ReachedDirectly(string n) => Reachable(n) && _peerBoots.ContainsKey(n);
                StartIndirectProbes(ReachedDirectly, Reachable, alonePeer);
                foreach (var change in _controller.ReconcileMembership(_consensus.State, term,
                             ReachedDirectly, DateTimeOffset.UtcNow,
                             n => n == _settings.Name ? Boot : _peerBoots.TryGetValue(n, out var b) ? b.Boot : null,
                             Indirect, n => n != alonePeer && views.TryGetValue(n, out var v) ? v.UnreachableSince : null))
                {
                    Log(change.Message);
                    await ProposeAsync(change.Command).ConfigureAwait(false);
                    // Calls to a lost node would wait for their timeout (a powered-off host never answers):
                    // give up on them now; their actions count as unanswered.
                    if (!change.Command.Online) AbandonCalls(change.Command.Node);
                }
                foreach (var change in _controller.CompletedShutdowns(_consensus.State, term, _inFlight.Keys.ToHashSet()))
                {
                    Log(change.Message);
                    await ProposeAsync(change.Command).ConfigureAwait(false);
                }
                while (_outcomes.TryDequeue(out var o))
                {
                    if (o.Expected is { } expected) _controller.Recorded(o.Action, expected); else _controller.Unanswered(o.Action);
                }
                var replan = Interlocked.Exchange(ref _replan, 0) == 1;
                var plan = _controller.PlanIfDue(_consensus.State, term, _inFlight.Keys.ToHashSet(), replan, DateTimeOffset.UtcNow);
                if (plan is not null) Carry(plan);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // A planning bug, or a call or proposal that ran out of time, must not end this loop (nothing would be
                // planned again until a restart): it is logged and retried on the next change.
                Log($"controller error: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private static readonly TimeSpan BusyPoll = TimeSpan.FromMilliseconds(100);
    /// <summary>How often a new leader looks whether its term's first entry has committed.</summary>
    private static readonly TimeSpan LeaderBarrierPoll = TimeSpan.FromMilliseconds(5);
    private static readonly TimeSpan SettledPoll = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Nothing for this node's controller to watch over time. A follower only follows (a new leader signals).
    /// The DC is settled when every member answers and is recorded online with a known boot and no shutdown
    /// pending, no action or result is outstanding, and the last transition is complete. Waking every 100 ms
    /// then (with the lease check's 100 ms, <see cref="LeaseLoopAsync"/>) cost an idle DC about a quarter of its CPU:
    /// shipped binary, 60 s, 1.33-1.43 % of a core against 1.00-1.03 %.
    /// </summary>
    private bool ControllerSettled()
    {
        if (!_consensus.IsLeader) return true;
        if (_controller is null || !_controller.Settled || !_inFlight.IsEmpty || !_outcomes.IsEmpty || _consensus.AloneNow is not null
            || Volatile.Read(ref _replan) != 0)
            return false;
        if (_consensus.Members.Any(m => !m.Reachable)) return false;
        var state = _consensus.State;
        foreach (var n in _settings.ResourceNodes)
        {
            var recorded = state.Nodes.FirstOrDefault(x => x.Uname == n);
            if (recorded?.Crmd != "online" || ClusterState.ShutdownPending(recorded) || (n != _settings.Name && !_peerBoots.ContainsKey(n))) return false;
        }
        return true;
    }

    /// <summary>
    /// A settled wait, cut short when a peer's boot id is due to be asked again (<see cref="BootRefresh"/>): a member
    /// that ran alone comes back under a new boot id that only this question finds, and a longer wait left a campaign
    /// test's floating IP on the node that ran alone after the cluster looked settled.
    /// </summary>
    private TimeSpan UntilBootRefresh()
    {
        var now = DateTimeOffset.UtcNow;
        var wait = SettledPoll;
        foreach (var (_, at) in _peerBoots.Values)
            if (at + BootRefresh - now < wait) wait = at + BootRefresh - now;
        return wait < BusyPoll ? BusyPoll : wait;
    }

    /// <summary>
    /// Asks reachable members for their boot id: those recorded offline (they join only once they
    /// answer) and, every <see cref="BootRefresh"/>, those online (a new boot id means a restart).
    /// Members that do not answer lose their entry.
    /// </summary>
    private async Task RefreshBootsAsync(Func<string, bool> reachable)
    {
        var state = _consensus.State;
        var now = DateTimeOffset.UtcNow;
        var ask = _settings.ResourceNodes.Where(n => n != _settings.Name && reachable(n)).Where(n =>
        {
            bool online = state.Nodes.FirstOrDefault(x => x.Uname == n)?.Crmd == "online";
            bool changed = _bootChanged.TryRemove(n, out _);
            return changed || !_peerBoots.TryGetValue(n, out var b) || !online || now - b.At > BootRefresh;
        }).ToList();
        var answers = await Task.WhenAll(ask.Select(async n => (n, Boot: await HelloAsync(n).ConfigureAwait(false)))).ConfigureAwait(false);
        foreach (var (n, boot) in answers)
        {
            if (boot is null) _peerBoots.Remove(n);
            else _peerBoots[n] = (boot, now);
        }
        foreach (var n in _settings.ResourceNodes.Where(n => !reachable(n)).ToList()) _peerBoots.Remove(n);
    }

    /// <summary>Members that said their boot id changed (they stopped running alone): asked again on the next round.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _bootChanged = new(StringComparer.Ordinal);

    /// <summary>
    /// POST /v1/node/boot-changed/{from}: a member that ran alone and rejoined says so at once. Without it the leader
    /// learned the new boot id only at its next question (every 2 s), and until then showed a settled cluster while the
    /// member still ran what it had started alone (found by the two-node fault campaign: after the leader was paused,
    /// the floating IP answered from the other node).
    /// </summary>
    private IResult BootChangedEndpoint(string from)
    {
        if (NotAnotherMember(from) is { } refused) return refused;
        if (!_consensus.IsLeader) return Results.Json(new ErrorResponse("not the leader", _consensus.Leader), statusCode: StatusCodes.Status421MisdirectedRequest);
        _bootChanged[from] = 0;
        Signal();
        return Results.Ok();
    }

    /// <summary>Tells the leader this node's boot id changed, for up to 3 s until a leader other than this node takes it.</summary>
    private async Task TellLeaderBootChangedAsync(CancellationToken ct)
    {
        for (int attempt = 0; attempt < 15 && !ct.IsCancellationRequested; attempt++)
        {
            if (_consensus.Leader is { } leader && leader != _settings.Name)
            {
                var status = await PostToMemberAsync(leader, $"/v1/node/boot-changed/{Uri.EscapeDataString(_settings.Name)}", TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
                if (status is >= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices) return;
            }
            else if (_consensus.IsLeader) return;
            try { await Task.Delay(200, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }

    /// <summary>The boot id of a member's daemon, or null when it does not answer within <paramref name="timeout"/> (a second).</summary>
    private Task<string?> HelloAsync(string name, TimeSpan? timeout = null) => AskBootAsync(name, "/v1/node/hello", name, timeout ?? TimeSpan.FromSeconds(1));

    /// <summary>
    /// GETs a <see cref="HelloResponse"/> from member <paramref name="via"/> at <paramref name="path"/>: the boot id when it
    /// names <paramref name="expected"/>, else (no answer within <paramref name="timeout"/>, an error, another name) null.
    /// </summary>
    private async Task<string?> AskBootAsync(string via, string path, string expected, TimeSpan timeout) =>
        (await AskAsync(via, path, expected, timeout).ConfigureAwait(false)).Boot;

    /// <summary>
    /// As <see cref="AskBootAsync"/>, and also whether <paramref name="via"/> answered at all: an HTTP answer of
    /// any status (a refusal is an answer too), as against no answer (timeout, connection failure).
    /// </summary>
    private async Task<(bool Answered, string? Boot)> AskAsync(string via, string path, string expected, TimeSpan timeout)
    {
        var (answered, hello) = await AskHelloAsync(via, path, timeout).ConfigureAwait(false);
        return (answered, hello?.Name == expected ? hello.Boot : null);
    }

    /// <summary>
    /// GETs a <see cref="HelloResponse"/> from member <paramref name="via"/> at <paramref name="path"/>: whether it answered
    /// at all (an HTTP answer of any status), and the answer when it was one.
    /// </summary>
    private Task<(bool Answered, HelloResponse? Hello)> AskHelloAsync(string via, string path, TimeSpan timeout) =>
        AskJsonAsync<HelloResponse>(via, path, timeout);

    /// <summary>
    /// GETs a <typeparamref name="T"/> from member <paramref name="via"/> at <paramref name="path"/>, waiting at most
    /// <paramref name="timeout"/>: whether it answered at all (an HTTP answer of any status), and the answer when it was one.
    /// </summary>
    private async Task<(bool Answered, T? Body)> AskJsonAsync<T>(string via, string path, TimeSpan timeout) where T : class
    {
        if (!_settings.Members.TryGetValue(via, out var addr)) return (false, null);
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            cts.CancelAfter(timeout);
            return (true, await _http.GetFromJsonAsync<T>(_settings.Url(addr, path), WireJson.Web, cts.Token).ConfigureAwait(false));
        }
        catch (HttpRequestException e) when (e.StatusCode is not null) { return (true, null); }
        catch (System.Text.Json.JsonException) { return (true, null); }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { return (false, null); }
    }

    /// <summary>
    /// POSTs nothing to member <paramref name="to"/> at <paramref name="path"/>, waiting at most <paramref name="timeout"/>
    /// (and no longer than <paramref name="ct"/> allows): the answer's status, or null when none came.
    /// </summary>
    private async Task<HttpStatusCode?> PostToMemberAsync(string to, string path, TimeSpan timeout, CancellationToken ct)
    {
        if (!_settings.Members.TryGetValue(to, out var addr)) return null;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(timeout);
            using var r = await _http.PostAsync(_settings.Url(addr, path), null, cts.Token).ConfigureAwait(false);
            return r.StatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { return null; }
    }

    /// <summary>A refusal for a node-to-node request that names as its sender <paramref name="from"/>, not another member; else null.</summary>
    private IResult? NotAnotherMember(string from) =>
        from == _settings.Name || !_settings.Members.ContainsKey(from)
            ? Results.Json(new ErrorResponse($"'{from}' is not another member of this cluster", "members are fixed by 'vigil init'"), statusCode: StatusCodes.Status403Forbidden)
            : null;

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, CancellationTokenSource> _nodeCalls = new(StringComparer.Ordinal);

    /// <summary>Cancelled when <paramref name="node"/> is declared lost: every call to it in flight gives up.</summary>
    private CancellationToken NodeCalls(string node) => _nodeCalls.GetOrAdd(node, _ => new CancellationTokenSource()).Token;

    private void AbandonCalls(string node)
    {
        // Not disposed: a call starting right now may still read its token.
        if (_nodeCalls.TryRemove(node, out var calls)) calls.Cancel();
    }

    private void Carry(ControllerPlan plan)
    {
        foreach (var f in plan.Fencing) StartFencing(f);
        var token = _consensus.LeadershipToken;
        foreach (var a in plan.Actions)
        {
            if (!_inFlight.TryAdd(a.Action.Key, 0)) continue;
            _ = Task.Run(() => RunActionAsync(a, token));
        }
    }

    private async Task RunActionAsync(ActionRequest planned, CancellationToken leadership)
    {
        var a = planned.Action;
        var term = planned.Term;
        try
        {
            if (!_settings.Members.TryGetValue(a.Node, out var addr)) return;
            var request = new ExecuteRequest(term, "", a.Resource, planned.Class, planned.Provider, planned.Type, a.Task, a.IntervalMs)
            {
                TimeoutMs = planned.TimeoutMs, TargetRc = planned.TargetRc, Parameters = planned.Parameters, Meta = planned.Meta,
                OpDigest = planned.OpDigest, FromHistory = a.FromHistory,
                LeaseRounds = FencePlanner.SelfFencingLease(_consensus.State.Configuration) is not null,
            };
            Log($"dispatch {a.Task}{(a.IntervalMs > 0 ? $"/{a.IntervalMs}ms" : "")} {a.Resource} on {a.Node} (term {term}{(a.FromHistory ? ", its executor's history may answer" : "")})");
            ExecuteResponse? response = null;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(leadership, _stop.Token, NodeCalls(a.Node));
                cts.CancelAfter(TimeSpan.FromMilliseconds(request.TimeoutMs + 10_000));
                using var http = await _http.PostAsJsonAsync(_settings.Url(addr, "/v1/node/execute"), request, WireJson.Web, cts.Token).ConfigureAwait(false);
                if (http.IsSuccessStatusCode) response = await http.Content.ReadFromJsonAsync<ExecuteResponse>(WireJson.Web, cts.Token).ConfigureAwait(false);
                else Log($"{a.Node} refused {a.Task} {a.Resource}: {(int)http.StatusCode} {await http.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false)}");
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
            {
                Log($"{a.Task} {a.Resource} on {a.Node}: no answer ({e.GetType().Name})");
                // It may have run: the controller probes the resource there before doing anything else to it.
                if (!leadership.IsCancellationRequested) _outcomes.Enqueue((a, null));
                // The node is probably gone; membership will notice. Wait a little before re-planning.
                await Task.Delay(200, _stop.Token).ConfigureAwait(false);
            }
            if (response is null || leadership.IsCancellationRequested) return;
            var outcome = await ProposeAsync(new RecordOperationCommand(a.Node, a.Resource, request.Class, request.Provider, request.Type, a.Task, a.IntervalMs,
                response.Rc, response.OpStatus, request.TargetRc ?? 0)
            {
                // Call ids restart with the node's executor: with the same term they would repeat, and the
                // repeated id would make the state drop the new result as a duplicate (found by the simulator).
                RequestId = $"op:{a.Node}:{a.Resource}:{a.Task}:{a.IntervalMs}:{response.CallId}:{term}:{Guid.NewGuid():N}",
                CallId = response.CallId, ExecMs = response.ExecMs, ExitReason = response.ExitReason, Term = term,
                // A probe's answer may name the parameters the resource really runs with (see ExecuteResponse.OpDigest).
                OpDigest = response.OpDigest ?? planned.OpDigest,
                Boot = response.Boot,
            }).ConfigureAwait(false);
            if (outcome != ProposeOutcome.Committed)
            {
                // The result may be recorded, or not (time ran out, or leadership changed while committing). Said, and
                // treated as unanswered, so the resource is probed there before anything else is done to it.
                Log($"{a.Task} {a.Resource} on {a.Node}: rc {response.Rc}, {response.ExecMs} ms, but recording the result did not commit ({(outcome == ProposeOutcome.NotLeader ? "no longer the leader" : "uncertain")})");
                if (!leadership.IsCancellationRequested) _outcomes.Enqueue((a, null));
                return;
            }
            _outcomes.Enqueue((a, response.Rc == (request.TargetRc ?? 0) && response.OpStatus == 0));
            Log($"{a.Task} {a.Resource} on {a.Node}: rc {response.Rc}, {response.ExecMs} ms");
        }
        catch (OperationCanceledException) { }
        finally
        {
            _inFlight.TryRemove(a.Key, out _);
            RequestReplan();
        }
    }

    /// <summary>
    /// A recurring monitor's result changed on this node: tell the leader so it can recover. Sent
    /// again (every 200 ms, for up to a minute) until a leader acknowledges it as committed: a report
    /// lost to a leader change would leave a dead resource recorded as running (found by the simulator).
    /// </summary>
    private void OnOperationCompleted(OperationRecord rec)
    {
        if (rec.IntervalMs == 0 || !rec.Changed) return;
        _ = Task.Run(async () =>
        {
            var report = new ReportRequest(_settings.Name, rec.ResourceId, AgentId.ClassName(rec.Agent.Class), rec.Agent.Provider, rec.Agent.Type,
                rec.Action, rec.IntervalMs, rec.Rc, (int)rec.Status, rec.CallId, rec.ExitReason, TargetRc: 0) { OpDigest = rec.OpDigest, Boot = Boot };
            for (int attempt = 0; attempt < 300 && !_stop.IsCancellationRequested; attempt++)
            {
                var leader = _consensus.Leader;
                if (leader is not null && _settings.Members.TryGetValue(leader, out var addr))
                {
                    try
                    {
                        using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                        cts.CancelAfter(TimeSpan.FromSeconds(5));
                        using var resp = await _http.PostAsJsonAsync(_settings.Url(addr, "/v1/leader/report"), report, WireJson.Web, cts.Token).ConfigureAwait(false);
                        if (resp.IsSuccessStatusCode) return;
                    }
                    catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { }
                }
                try { await Task.Delay(200, _stop.Token).ConfigureAwait(false); }
                catch (OperationCanceledException) { return; }
            }
        });
    }
}
