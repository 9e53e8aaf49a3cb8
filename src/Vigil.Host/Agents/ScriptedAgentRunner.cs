namespace Vigil.Host.Agents;

/// <summary>
/// The simulated <see cref="IAgentRunner"/>: every resource behaves like a well-written agent
/// (idempotent start/stop, monitor 0/7/8, promote/demote), and tests or the simulator can script
/// the next results of any action ("the next monitor of db returns 1", "stop of ip times out").
/// No processes, no clock, no I/O; deterministic.
/// </summary>
public sealed class ScriptedAgentRunner : IAgentRunner
{
    private readonly Dictionary<string, ObservedRole> _state = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Rsc, string Action), Queue<AgentResult>> _script = [];
    private readonly List<AgentAction> _calls = [];
    private readonly object _lock = new();

    /// <summary>Every action run, in order.</summary>
    public IReadOnlyList<AgentAction> Calls { get { lock (_lock) return _calls.ToList(); } }

    /// <summary>The next <paramref name="action"/> of <paramref name="resourceId"/> returns <paramref name="result"/> (queued; first in, first out).</summary>
    public ScriptedAgentRunner Script(string resourceId, string action, AgentResult result)
    {
        lock (_lock)
        {
            if (!_script.TryGetValue((resourceId, action), out var q)) _script[(resourceId, action)] = q = new Queue<AgentResult>();
            q.Enqueue(result);
        }
        return this;
    }

    /// <summary>Shortcut: the next <paramref name="action"/> exits with <paramref name="rc"/>.</summary>
    public ScriptedAgentRunner Script(string resourceId, string action, int rc, string? exitReason = null) =>
        Script(resourceId, action, new AgentResult(rc, ExecStatus.Done) { RawExitCode = rc, ExitReason = exitReason });

    /// <summary>Changes what the resource "really" is (a crash: Stopped; an outside start: Started).</summary>
    public void SetState(string resourceId, ObservedRole role)
    {
        lock (_lock) _state[resourceId] = role;
    }

    public ObservedRole State(string resourceId)
    {
        lock (_lock) return _state.GetValueOrDefault(resourceId, ObservedRole.Stopped);
    }

    public Task<AgentResult> RunAsync(AgentAction action, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            _calls.Add(action);
            if (_script.TryGetValue((action.ResourceId, action.Action), out var q) && q.Count > 0)
                return Task.FromResult(q.Dequeue());
            var state = _state.GetValueOrDefault(action.ResourceId, ObservedRole.Stopped);
            int rc;
            switch (action.Action)
            {
                case "start" or "migrate_from":
                    if (state == ObservedRole.Stopped) state = ObservedRole.Started;
                    rc = OcfCode.Success;
                    break;
                case "stop" or "migrate_to":
                    state = ObservedRole.Stopped;
                    rc = OcfCode.Success;
                    break;
                case "promote":
                    rc = state == ObservedRole.Stopped ? OcfCode.NotRunning : OcfCode.Success;
                    if (rc == OcfCode.Success) state = ObservedRole.Promoted;
                    break;
                case "demote":
                    rc = state == ObservedRole.Stopped ? OcfCode.NotRunning : OcfCode.Success;
                    if (rc == OcfCode.Success) state = ObservedRole.Started;
                    break;
                case "monitor" or "status":
                    rc = state switch { ObservedRole.Stopped => OcfCode.NotRunning, ObservedRole.Promoted => OcfCode.RunningPromoted, _ => OcfCode.Success };
                    break;
                case "meta-data":
                    return Task.FromResult(new AgentResult(OcfCode.Success, ExecStatus.Done) { Stdout = NativeAgents.DummyMetadata });
                case "validate-all" or "notify" or "reload" or "reload-agent":
                    rc = OcfCode.Success;
                    break;
                default:
                    rc = OcfCode.ErrUnimplemented;
                    break;
            }
            _state[action.ResourceId] = state;
            return Task.FromResult(new AgentResult(rc, ExecStatus.Done) { RawExitCode = rc });
        }
    }
}
