namespace Vigil.Host.Agents;

/// <summary>The result of one fence action against one target, as the fencer needs it.</summary>
public sealed record FenceResult(FenceOutcome Outcome, AgentResult Agent)
{
    public bool Succeeded => Outcome == FenceOutcome.Success;
}

/// <summary>Runs fence agents for the fencer: key=value on stdin, host maps, per-action overrides, secrets kept out of results.</summary>
public sealed class FenceRunner
{
    private readonly IAgentRunner _runner;

    public FenceRunner(IAgentRunner runner) => _runner = runner;

    /// <summary>
    /// Runs <paramref name="action"/> (on, off, reboot, status, list, monitor, …) of <paramref name="device"/>
    /// against <paramref name="target"/> (a node name; mapped through pcmk_host_map). The timeout is
    /// pcmk_ACTION_timeout when set, else <paramref name="timeout"/>, else 20 s.
    /// </summary>
    public async Task<FenceResult> RunAsync(FenceDevice device, string action, string? target, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var t = timeout ?? AgentAction.DefaultTimeout;
        if (device.Parameters.TryGetValue($"pcmk_{action.Replace('-', '_')}_timeout", out var s) && Core.Duration.TryParse(s, out var over))
            t = over;
        var a = new AgentAction(new AgentId(AgentClass.Stonith, null, device.Agent), device.Id, action)
        {
            Parameters = System.Collections.Immutable.ImmutableDictionary.CreateRange(device.Parameters),
            Timeout = t,
        };
        if (target is not null) a = a.WithMeta("stonith_target", target);
        var r = await _runner.RunAsync(a, cancellationToken).ConfigureAwait(false);
        var outcome = r.Status switch
        {
            ExecStatus.Timeout => FenceOutcome.TimedOut,
            ExecStatus.Done => FenceArgs.Outcome(action, r.RawExitCode ?? (r.Rc == OcfCode.Success ? 0 : 1)),
            _ => FenceOutcome.Failed,
        };
        return new FenceResult(outcome, r);
    }
}
