using System.Collections.Concurrent;

namespace Vigil.Host.Agents;

/// <summary>
/// One operation result as the scheduler reads it from history (an lrm_rsc_op): call id, rc and exec
/// status as the agent reported them, the remapped outcome, and when the rc last changed.
/// </summary>
public sealed record OperationRecord(string ResourceId, AgentId Agent, string Action, long IntervalMs, int CallId)
{
    public int Rc { get; init; }
    public ExecStatus Status { get; init; }
    public required OperationOutcome Outcome { get; init; }
    public string? ExitReason { get; init; }
    public DateTimeOffset LastRun { get; init; }
    /// <summary>When this operation's rc last differed from its previous result (Pacemaker's last-rc-change).</summary>
    public DateTimeOffset LastRcChange { get; init; }
    public TimeSpan ExecTime { get; init; }
    public TimeSpan QueueTime { get; init; }
    /// <summary>False for a recurring result equal to the previous one (Pacemaker reports only changes).</summary>
    public bool Changed { get; init; } = true;
    public string OperationKey => $"{ResourceId}_{Action}_{IntervalMs}";
    /// <summary>The controller's transition key the action came with, if any.</summary>
    public string? TransitionKey { get; init; }
    /// <summary>The digest of the parameters the action came with (<see cref="AgentAction.OpDigest"/>), if any.</summary>
    public string? OpDigest { get; init; }
}

/// <summary>
/// The executor of one node: runs actions through an <see cref="IAgentRunner"/>, one at a time per
/// resource (parallel across resources), keeps recurring monitors going at their intervals, cancels
/// them when the resource changes role, and records the operation history. Attribute updates that
/// agents made through the shims are applied after every action.
/// </summary>
public sealed class Executor : IAsyncDisposable
{
    private readonly IAgentRunner _runner;
    private readonly TimeProvider _time;
    private readonly ShimHost? _shims;
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _locks = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string Rsc, string Action, long IntervalMs), Recurring> _recurring = new();
    private readonly ConcurrentDictionary<string, OperationRecord> _history = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, OperationRecord> _lastFailure = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private int _callId;

    private sealed record Recurring(AgentAction Action, CancellationTokenSource Cancel, Task Loop);

    public Executor(IAgentRunner runner, TimeProvider? time = null, ShimHost? shims = null)
    {
        _runner = runner;
        _time = time ?? TimeProvider.System;
        _shims = shims;
    }

    /// <summary>Raised for every completed execution, recurring ones included (see <see cref="OperationRecord.Changed"/>).</summary>
    public event Action<OperationRecord>? Completed;

    /// <summary>
    /// Runs <paramref name="action"/> now (after any action already running on the same resource).
    /// A recurring monitor runs once now and then keeps running every interval until cancelled;
    /// the first result is returned. Role changes (stop, promote, demote, migrate) first cancel
    /// the resource's recurring monitors; the controller schedules the ones for the new role.
    /// </summary>
    public async Task<OperationRecord> ExecuteAsync(AgentAction action, CancellationToken cancellationToken = default)
    {
        if (action.Action is "stop" or "promote" or "demote" or "migrate_to" or "migrate_from")
            await CancelAllRecurringAsync(action.ResourceId).ConfigureAwait(false);
        // start-delay (op meta, in ms like every CRM_meta time): wait before the first execution.
        if (StartDelay(action) is TimeSpan delay && delay > TimeSpan.Zero)
            await Task.Delay(ProcessRunner.TimerSafe(delay), _time, cancellationToken).ConfigureAwait(false);
        var record = await RunOnceAsync(action, cancellationToken).ConfigureAwait(false);
        if (action.IsRecurring && record.Status is not (ExecStatus.Cancelled or ExecStatus.NotSupported))
            StartRecurring(action);
        else if (!action.IsRecurring && !record.Outcome.IsFailure && action.Action is "start" or "promote" or "demote" or "migrate_from")
            ScheduleMonitorsFor(action.ResourceId, record.Outcome.Role == ObservedRole.Promoted || action.Action == "promote");
        return record;
    }

    private readonly ConcurrentDictionary<string, IReadOnlyList<AgentAction>> _monitors = new(StringComparer.Ordinal);

    /// <summary>
    /// Registers the recurring monitors of a resource (from its configured ops). After every
    /// successful start, promote, demote or migrate_from the executor starts the ones for the new role
    /// (role Promoted/Master for a promoted instance, any other or none otherwise), running each once at
    /// once and then at its interval; role changes cancel them first. Without a registration the
    /// controller schedules monitors itself through <see cref="ExecuteAsync"/>.
    /// </summary>
    public void SetMonitors(string resourceId, IEnumerable<AgentAction> monitors) =>
        _monitors[resourceId] = monitors.Where(m => m.Action == "monitor" && m.IsRecurring).ToList();

    private void ScheduleMonitorsFor(string resourceId, bool promoted)
    {
        if (!_monitors.TryGetValue(resourceId, out var monitors)) return;
        foreach (var m in monitors)
        {
            var role = m.Meta.GetValueOrDefault("role");
            bool forPromoted = role is not null && (role.Equals("Promoted", StringComparison.OrdinalIgnoreCase) || role.Equals("Master", StringComparison.OrdinalIgnoreCase));
            if (forPromoted != promoted) continue;
            var action = forPromoted && m.TargetRc is null ? m with { TargetRc = OcfCode.RunningPromoted } : m;
            StartRecurring(action, runFirst: true);
        }
    }

    private static TimeSpan? StartDelay(AgentAction action)
    {
        var text = action.Meta.GetValueOrDefault("start_delay") ?? action.Meta.GetValueOrDefault("start-delay");
        if (text is null) return null;
        // Pacemaker passes milliseconds; a configured value like "5s" is accepted too.
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var ms)) return TimeSpan.FromMilliseconds(ms);
        return Core.Duration.TryParse(text, out var d) ? d : null;
    }

    private void StartRecurring(AgentAction action, bool runFirst = false)
    {
        var key = (action.ResourceId, action.Action, action.IntervalMs);
        if (_recurring.TryRemove(key, out var old)) old.Cancel.Cancel();
        var cts = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        var loop = Task.Run(() => RecurringLoopAsync(action, runFirst, cts.Token));
        _recurring[key] = new Recurring(action, cts, loop);
    }

    private async Task RecurringLoopAsync(AgentAction action, bool runFirst, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (!runFirst) await Task.Delay(ProcessRunner.TimerSafe(action.Interval), _time, ct).ConfigureAwait(false);
                runFirst = false;
                await RunOnceAsync(action, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Stops one recurring operation; true when it existed.</summary>
    public async Task<bool> CancelRecurringAsync(string resourceId, string action, TimeSpan interval)
    {
        if (!_recurring.TryRemove((resourceId, action, (long)interval.TotalMilliseconds), out var r)) return false;
        await r.Cancel.CancelAsync().ConfigureAwait(false);
        await r.Loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        r.Cancel.Dispose();
        return true;
    }

    /// <summary>Stops every recurring operation of a resource; returns how many there were.</summary>
    public async Task<int> CancelAllRecurringAsync(string resourceId)
    {
        int n = 0;
        foreach (var key in _recurring.Keys.Where(k => k.Rsc == resourceId).ToList())
            if (await CancelRecurringAsync(key.Rsc, key.Action, TimeSpan.FromMilliseconds(key.IntervalMs)).ConfigureAwait(false)) n++;
        return n;
    }

    /// <summary>The recurring operations currently scheduled.</summary>
    public IReadOnlyList<AgentAction> RecurringOperations => _recurring.Values.Select(r => r.Action).ToList();

    /// <summary>
    /// The digest of the parameters this executor last started <paramref name="resourceId"/> with
    /// (a start that failed or timed out may have started it too), or null when it was stopped or
    /// migrated away since, or never started in this executor's life: what a probe that finds it
    /// running reports, since the cluster may not have recorded that start (its answer was lost).
    /// </summary>
    public string? StartedWith(string resourceId) =>
        _history.Values.Where(r => r.ResourceId == resourceId && r.IntervalMs == 0 && r.Action is "start" or "migrate_from" or "stop" or "migrate_to")
            .MaxBy(r => r.CallId) is { Action: "start" or "migrate_from" } last ? last.OpDigest : null;

    /// <summary>The latest record of every operation of <paramref name="resourceId"/>, plus its last failure if any.</summary>
    public IReadOnlyList<OperationRecord> History(string resourceId)
    {
        var list = _history.Values.Where(r => r.ResourceId == resourceId).OrderBy(r => r.CallId).ToList();
        return list;
    }

    public OperationRecord? LastFailure(string resourceId) => _lastFailure.GetValueOrDefault(resourceId);

    /// <summary>The history of every resource in the CIB status shape (lrm_resource), for the scheduler.</summary>
    public IReadOnlyList<Core.Model.LrmResource> LrmHistory(string nodeName)
    {
        var recurring = RecurringOperations;
        return _history.Values.Select(r => r.ResourceId).Concat(_lastFailure.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(rsc => OperationHistory.ToLrmResource(rsc, History(rsc), LastFailure(rsc), recurring, nodeName))
            .ToList();
    }

    /// <summary>Forgets a resource's history and failures (crm_resource --cleanup); recurring operations are cancelled.</summary>
    public async Task CleanupAsync(string resourceId)
    {
        await CancelAllRecurringAsync(resourceId).ConfigureAwait(false);
        foreach (var key in _history.Where(kv => kv.Value.ResourceId == resourceId).Select(kv => kv.Key).ToList())
            _history.TryRemove(key, out _);
        _lastFailure.TryRemove(resourceId, out _);
    }

    private readonly ConcurrentDictionary<string, byte> _fenceDevices = new(StringComparer.Ordinal);

    /// <summary>
    /// Fence devices run as Pacemaker's executor runs stonith resources: start registers the device
    /// after its monitor succeeds, stop unregisters it, a probe reports whether it is registered here,
    /// and a recurring monitor asks the device only while it is registered.
    /// </summary>
    private async Task<AgentResult> RunAgentAsync(AgentAction action, CancellationToken ct)
    {
        if (action.Agent.Class != AgentClass.Stonith) return await _runner.RunAsync(action, ct).ConfigureAwait(false);
        switch (action.Action)
        {
            case "start":
                var r = await _runner.RunAsync(action with { Action = "monitor" }, ct).ConfigureAwait(false);
                if (r.Status == ExecStatus.Done && r.Rc == OcfCode.Success) _fenceDevices[action.ResourceId] = 0;
                return r;
            case "stop":
                _fenceDevices.TryRemove(action.ResourceId, out _);
                return new AgentResult(OcfCode.Success, ExecStatus.Done);
            case "monitor" when !_fenceDevices.ContainsKey(action.ResourceId):
                return new AgentResult(OcfCode.NotRunning, ExecStatus.Done);
            case "monitor" when action.IntervalMs == 0:
                return new AgentResult(OcfCode.Success, ExecStatus.Done);
            default:
                return await _runner.RunAsync(action, ct).ConfigureAwait(false);
        }
    }

    private async Task<OperationRecord> RunOnceAsync(AgentAction action, CancellationToken ct)
    {
        var queued = _time.GetTimestamp();
        var gate = _locks.GetOrAdd(action.ResourceId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        AgentResult result;
        var queueTime = _time.GetElapsedTime(queued);
        var started = _time.GetUtcNow();
        int callId = Interlocked.Increment(ref _callId);
        try
        {
            // Under the resource's lock: what ran before this probe is in the history now.
            result = (action.FromHistory && action.IsProbe ? AnswerFromHistory(action.ResourceId) : null)
                     ?? await RunAgentAsync(action, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            // The runner could not even run the agent (disk full, no /bin/bash, …): an operational
            // failure like any other, recorded and retried by the controller's usual recovery.
            result = new AgentResult(OcfCode.ErrGeneric, ExecStatus.Error) { ExitReason = $"executor error: {e.GetType().Name}: {e.Message}" };
        }
        finally
        {
            gate.Release();
        }
        _shims?.Pump();
        var outcome = ResultMapping.Remap(action, result);
        var key = action.OperationKey;
        _history.TryGetValue(key, out var previous);
        bool changed = previous is null || previous.Rc != result.Rc || previous.Status != result.Status;
        var record = new OperationRecord(action.ResourceId, action.Agent, action.Action, action.IntervalMs, callId)
        {
            Rc = result.Rc,
            Status = result.Status,
            Outcome = outcome,
            ExitReason = result.ExitReason,
            LastRun = started,
            LastRcChange = changed ? started : previous!.LastRcChange,
            ExecTime = result.Duration,
            QueueTime = queueTime,
            Changed = changed,
            TransitionKey = action.TransitionKey,
            OpDigest = action.OpDigest,
        };
        if (result.Status != ExecStatus.Cancelled)
        {
            _history[key] = record;
            if (outcome.IsFailure) _lastFailure[action.ResourceId] = record;
        }
        if (_shims is not null && !outcome.IsFailure)
        {
            if (outcome.Role is ObservedRole.Started or ObservedRole.Promoted) _shims.SetRunning(action.ResourceId, [_shims.NodeName]);
            else if (outcome.Role is ObservedRole.Stopped) _shims.SetRunning(action.ResourceId, []);
        }
        Completed?.Invoke(record);
        return record;
    }

    /// <summary>
    /// What a probe of <paramref name="resourceId"/> would find, told by this executor's own history: the result of the
    /// last operation it completed on it (a start, stop, promote, demote, migration or monitor that succeeded, or a
    /// monitor that found it stopped), or null when that says nothing sure (no history in this executor's life, a
    /// failure, a timeout). The agent is then not run: a new leader learns in no time what every node runs, as
    /// Pacemaker's DC learns it from each node's executor history when it is elected. Like there, a resource that failed
    /// since its last monitor is found by its next monitor.
    /// </summary>
    private AgentResult? AnswerFromHistory(string resourceId)
    {
        var last = _history.Values.Where(r => r.ResourceId == resourceId).MaxBy(r => r.CallId);
        if (last is not { Status: ExecStatus.Done }) return null;
        int? rc = (last.Action, last.Rc) switch
        {
            ("start" or "migrate_from" or "demote", OcfCode.Success) => OcfCode.Success,
            ("promote", OcfCode.Success) => OcfCode.RunningPromoted,
            ("stop" or "migrate_to", OcfCode.Success) => OcfCode.NotRunning,
            ("monitor", OcfCode.Success or OcfCode.NotRunning or OcfCode.RunningPromoted) => last.Rc,
            _ => null,
        };
        return rc is { } known
            ? new AgentResult(known, ExecStatus.Done)
            {
                ExitReason = $"from this node's executor history (its last {last.Action}{(last.IntervalMs > 0 ? $"/{last.IntervalMs}ms" : "")}: rc {last.Rc} at {last.LastRun:HH:mm:ss.fff} UTC); the agent was not run",
            }
            : null;
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync().ConfigureAwait(false);
        foreach (var r in _recurring.Values)
            await r.Loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _recurring.Clear();
        _stopping.Dispose();
    }
}
