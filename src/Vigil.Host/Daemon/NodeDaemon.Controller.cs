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
    private string? _ledTermKey;
    private long _plannedVersion = -1;
    private int _replan;
    private DateTimeOffset _plannedAt;

    /// <summary>Re-planning is needed after a result or a failed dispatch even when the state did not change.</summary>
    private void RequestReplan()
    {
        Interlocked.Exchange(ref _replan, 1);
        Signal();
    }

    /// <summary>
    /// The DC loop: while this node leads, keep the membership in the state current, run the
    /// scheduler on the replicated state, and dispatch every action whose predecessors are done.
    /// Each recorded result changes the state and wakes the loop, which plans again.
    /// </summary>
    private async Task ControllerLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try { await _signal.WaitAsync(TimeSpan.FromMilliseconds(100), ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            if (!_consensus.IsLeader) { _ledTermKey = null; continue; }
            try
            {
                var termKey = $"{_consensus.Term}";
                if (_ledTermKey != termKey)
                {
                    // New leadership: give every member a grace period before judging it unreachable.
                    _ledTermKey = termKey;
                    foreach (var m in _settings.Members.Keys) _lastSeen[m] = DateTimeOffset.UtcNow;
                    Log($"leading in term {_consensus.Term}");
                    _plannedVersion = -1;
                }
                await ReconcileMembershipAsync().ConfigureAwait(false);
                // Plan only when something changed; time-based rules (failure-timeout, date rules) get a 10 s heartbeat.
                var version = _consensus.State.Version;
                var due = DateTimeOffset.UtcNow - _plannedAt > TimeSpan.FromSeconds(10);
                if (version != _plannedVersion || Interlocked.Exchange(ref _replan, 0) == 1 || due)
                {
                    _plannedVersion = version;
                    _plannedAt = DateTimeOffset.UtcNow;
                    Plan();
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A planning bug must not take the node down; it is logged and retried on the next change.
                Log($"controller error: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    private async Task ReconcileMembershipAsync()
    {
        var state = _consensus.State;
        var views = _consensus.Members.ToDictionary(m => m.Name);
        var now = DateTimeOffset.UtcNow;
        foreach (var name in _settings.ResourceNodes)
        {
            bool reachable = name == _settings.Name || (views.TryGetValue(name, out var v) && v.Reachable);
            if (reachable) _lastSeen[name] = now;
            var recorded = state.Nodes.FirstOrDefault(n => n.Uname == name);
            bool recordedOnline = recorded?.Crmd == "online";
            // The grace period only delays judging a member lost; a member recorded as lost comes back
            // only when it is really reachable (a new leader must not revive a lost node that waits for fencing).
            bool online = reachable || (recordedOnline && now - _lastSeen.GetValueOrDefault(name, now) < TimeSpan.FromMilliseconds(_settings.MemberDownAfterMs));
            if (online == recordedOnline) continue;
            if (!online && recorded is null) continue;
            string? boot = null;
            if (online)
            {
                // Joined only once the node itself answers (not just the consensus layer's view), with its boot id.
                boot = name == _settings.Name ? _boot : await HelloAsync(name).ConfigureAwait(false);
                if (boot is null) continue;
            }
            Log(online ? $"node {name} joined" : $"node {name} is lost (unreachable for {_settings.MemberDownAfterMs} ms)");
            await ProposeAsync(new NodeMembershipCommand(name, online) { RequestId = $"membership:{name}:{online}:{_consensus.Term}:{state.Version}", Boot = boot }).ConfigureAwait(false);
        }
    }

    /// <summary>The boot id of a member's daemon, or null when it does not answer within a second.</summary>
    private async Task<string?> HelloAsync(string name)
    {
        if (!_settings.Members.TryGetValue(name, out var addr)) return null;
        try
        {
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
            cts.CancelAfter(TimeSpan.FromSeconds(1));
            var hello = await _http.GetFromJsonAsync<HelloResponse>(_settings.Url(addr, "/v1/node/hello"), cts.Token).ConfigureAwait(false);
            return hello?.Name == name ? hello.Boot : null;
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException) { return null; }
    }

    private void Plan()
    {
        var state = _consensus.State;
        if (state.Configuration.Resources.Count == 0) return;
        var transition = Vigil.Scheduler.Scheduler.Run(state.Cib, DateTimeOffset.UtcNow);
        var actions = transition.Actions.Select(a =>
        {
            bool executable = a.Kind == ActionKind.Resource && a.Resource is not null && a.Node is not null && a.Task is not ("notify" or "cancel");
            // A fence is done only when recorded: until then it holds back everything ordered after it.
            if (a.Kind == ActionKind.Fence) return (a.Id, true, (PlannedAction?)null);
            PlannedAction? p = executable ? new PlannedAction(a.Id, a.Task, a.Resource!, a.Node!, a.IntervalMs) : null;
            return (a.Id, executable, p);
        }).ToList();
        // Probes first: nothing starts while an online node has not told what it runs (Pacemaker orders probes before starts).
        var probes = MissingProbes(state);
        List<PlannedAction> ready;
        if (probes.Count > 0) ready = probes;
        else
        {
            ready = Dispatch.Ready(actions, transition.Orderings.Select(o => (o.Before, o.After)).ToList(), _inFlight.Keys.ToHashSet()).ToList();
            if (actions.Count == 0 || ready.Count == 0) ready.AddRange(MissingMonitors(state));
        }
        DispatchFencing(transition);
        var term = _consensus.Term;
        var token = _consensus.LeadershipToken;
        foreach (var a in ready)
        {
            if (!_inFlight.TryAdd(a.Key, 0)) continue;
            _ = Task.Run(() => RunActionAsync(a, state, term, token));
        }
    }

    /// <summary>Probes (monitor, interval 0) for every primitive an online node has no history of.</summary>
    private static List<PlannedAction> MissingProbes(ClusterState state)
    {
        var result = new List<PlannedAction>();
        var primitives = state.Configuration.AllResources().OfType<Primitive>().Where(p => !p.IsFencingDevice).ToList();
        foreach (var n in state.Nodes.Where(n => n.Crmd == "online"))
            foreach (var p in primitives)
                if (!n.Resources.Any(r => r.Id == p.Id || r.Id.StartsWith(p.Id + ":", StringComparison.Ordinal)))
                    result.Add(new PlannedAction(-1, "monitor", p.Id, n.Uname ?? n.Id, 0));
        return result;
    }

    /// <summary>
    /// Recurring monitors defined for an active resource but not running on its node. The scheduler
    /// does not plan recurring monitors yet; until it does, the controller starts them once the
    /// transition is done (same action keys, so nothing is started twice).
    /// </summary>
    private List<PlannedAction> MissingMonitors(ClusterState state)
    {
        var result = new List<PlannedAction>();
        var active = Activity.Active(state);
        foreach (var p in state.Configuration.AllResources().OfType<Primitive>())
        {
            if (!active.TryGetValue(p.Id, out var where)) continue;
            foreach (var (node, role) in where)
            {
                var history = state.Nodes.FirstOrDefault(n => n.Uname == node)?.Resources.FirstOrDefault(r => r.Id == p.Id);
                var last = history?.Ops.FirstOrDefault(o => o.Id.EndsWith("_last_0", StringComparison.Ordinal));
                foreach (var op in p.Operations.Where(o => o.Name == "monitor" && o.IntervalValue > TimeSpan.Zero && o.Enabled))
                {
                    var opRole = op.Role is { } r && Roles.TryParse(r, out var parsed) ? parsed : Role.Started;
                    if (opRole is not Role.Started && opRole != role) continue;
                    var ms = (long)op.IntervalValue.TotalMilliseconds;
                    var rec = history?.Ops.FirstOrDefault(o => o.Id == $"{p.Id}_monitor_{ms}");
                    if (rec is not null && last is not null && rec.CallId > last.CallId) continue;
                    result.Add(new PlannedAction(-1, "monitor", p.Id, node, ms));
                }
            }
        }
        return result;
    }

    private async Task RunActionAsync(PlannedAction a, ClusterState state, long term, CancellationToken leadership)
    {
        try
        {
            var request = BuildRequest(a, state, term);
            if (request is null || !_settings.Members.TryGetValue(a.Node, out var addr)) return;
            Log($"dispatch {a.Task}{(a.IntervalMs > 0 ? $"/{a.IntervalMs}ms" : "")} {a.Resource} on {a.Node} (term {term})");
            ExecuteResponse? response = null;
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(leadership, _stop.Token);
                cts.CancelAfter(TimeSpan.FromMilliseconds(request.TimeoutMs + 10_000));
                using var http = await _http.PostAsJsonAsync(_settings.Url(addr, "/v1/node/execute"), request, cts.Token).ConfigureAwait(false);
                if (http.IsSuccessStatusCode) response = await http.Content.ReadFromJsonAsync<ExecuteResponse>(cts.Token).ConfigureAwait(false);
                else Log($"{a.Node} refused {a.Task} {a.Resource}: {(int)http.StatusCode} {await http.Content.ReadAsStringAsync(cts.Token).ConfigureAwait(false)}");
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException)
            {
                Log($"{a.Task} {a.Resource} on {a.Node}: no answer ({e.GetType().Name})");
                // The node is probably gone; membership will notice. Wait a little before re-planning.
                await Task.Delay(200, _stop.Token).ConfigureAwait(false);
            }
            if (response is null || leadership.IsCancellationRequested) return;
            await ProposeAsync(new RecordOperationCommand(a.Node, a.Resource, request.Class, request.Provider, request.Type, a.Task, a.IntervalMs,
                response.Rc, response.OpStatus, request.TargetRc ?? 0)
            {
                RequestId = $"op:{a.Node}:{a.Resource}:{a.Task}:{a.IntervalMs}:{response.CallId}:{term}",
                CallId = response.CallId, ExecMs = response.ExecMs, ExitReason = response.ExitReason, Term = term,
            }).ConfigureAwait(false);
            Log($"{a.Task} {a.Resource} on {a.Node}: rc {response.Rc}, {response.ExecMs} ms");
        }
        catch (OperationCanceledException) { }
        finally
        {
            _inFlight.TryRemove(a.Key, out _);
            RequestReplan();
        }
    }

    /// <summary>Resolves an action's agent, parameters, meta attributes, timeout and expected result from the configuration.</summary>
    private static ExecuteRequest? BuildRequest(PlannedAction a, ClusterState state, long term)
    {
        var id = a.Resource.Contains(':') ? a.Resource[..a.Resource.IndexOf(':')] : a.Resource;
        var config = state.Configuration;
        var prim = config.AllResources().OfType<Primitive>().FirstOrDefault(p => p.Id == id);
        if (prim is null) return null;
        var op = prim.Operations.FirstOrDefault(o => o.Name == a.Task && (long)o.IntervalValue.TotalMilliseconds == a.IntervalMs);
        var timeout = op?.Timeout ?? config.OperationDefaults.Get("timeout");
        var timeoutMs = Duration.TryParse(timeout, out var t) ? (long)t.TotalMilliseconds : 20_000;
        int? target = a.Task == "monitor" && a.IntervalMs == 0 ? 7
            : a.Task == "monitor" && op?.Role is { } role && Roles.TryParse(role, out var r) && r == Role.Promoted ? 8 : 0;
        var meta = prim.MetaAttributes.Flatten();
        foreach (var s in op?.MetaAttributes ?? []) foreach (var p in s.Pairs) if (p.Value is not null) meta[p.Name] = p.Value;
        meta["timeout"] = timeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new ExecuteRequest(term, "", a.Resource, prim.Class, prim.Provider, prim.Type, a.Task, a.IntervalMs)
        {
            TimeoutMs = timeoutMs, TargetRc = target, Parameters = prim.InstanceAttributes.Flatten(), Meta = meta,
        };
    }

    /// <summary>A recurring monitor's result changed on this node: tell the leader so it can recover.</summary>
    private void OnOperationCompleted(OperationRecord rec)
    {
        if (rec.IntervalMs == 0 || !rec.Changed) return;
        _ = Task.Run(async () =>
        {
            var leader = _consensus.Leader;
            if (leader is null || !_settings.Members.TryGetValue(leader, out var addr)) return;
            var report = new ReportRequest(_settings.Name, rec.ResourceId, AgentId.ClassName(rec.Agent.Class), rec.Agent.Provider, rec.Agent.Type,
                rec.Action, rec.IntervalMs, rec.Rc, (int)rec.Status, rec.CallId, rec.ExitReason, TargetRc: 0);
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                cts.CancelAfter(TimeSpan.FromSeconds(5));
                using var _ = await _http.PostAsJsonAsync(_settings.Url(addr, "/v1/leader/report"), report, cts.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException) { }
        });
    }
}
