namespace Vigil.Host.Agents;

/// <summary>How the scheduler should react to a result it did not expect (Pacemaker 2.1.5 <c>remap_operation</c>).</summary>
public enum Recovery
{
    /// <summary>The result was expected, or is not a failure.</summary>
    None,
    /// <summary>Restart in place; counts toward migration-threshold.</summary>
    Soft,
    /// <summary>Ban from this node (fail count INFINITY): ERR_ARGS, ERR_UNIMPLEMENTED (one-shot), ERR_PERM, ERR_INSTALLED.</summary>
    Hard,
    /// <summary>Stop everywhere, never start anywhere: ERR_CONFIGURED.</summary>
    Fatal,
}

/// <summary>The role a result tells us the resource has on this node.</summary>
public enum ObservedRole
{
    Unknown,
    Stopped,
    Started,
    Promoted,
}

/// <summary>A result as the scheduler sees it after remapping.</summary>
public sealed record OperationOutcome(int Rc, ExecStatus Status, Recovery Recovery, ObservedRole Role)
{
    /// <summary>A probe that returned ERR_ARGS or ERR_INSTALLED, treated as "not running" (Pacemaker ≥ 2.1.3).</summary>
    public bool MaskedProbe { get; init; }
    public bool Degraded { get; init; }
    public bool IsFailure => Status is not (ExecStatus.Done or ExecStatus.Cancelled or ExecStatus.Pending or ExecStatus.NotSupported);
}

/// <summary>Exit-code remapping and probe masking, as Pacemaker 2.1.5 applies them (pure).</summary>
public static class ResultMapping
{
    public static OperationOutcome Remap(AgentAction a, AgentResult r, bool managed = true) =>
        Remap(a.Action, a.IntervalMs, a.ExpectedRc, r.Rc, r.Status, managed);

    public static OperationOutcome Remap(string action, long intervalMs, int targetRc, int rc, ExecStatus status, bool managed = true)
    {
        bool isProbe = action == "monitor" && intervalMs == 0;

        // Probe masking (pcmk_xe_mask_probe_failure): not installed / invalid args on a probe = not running here.
        if (isProbe && (rc is OcfCode.ErrInstalled or OcfCode.ErrArgs || status == ExecStatus.NotInstalled))
            return new OperationOutcome(OcfCode.NotRunning, ExecStatus.Done, Recovery.None, ObservedRole.Stopped) { MaskedProbe = true };

        // Only completed executions carry a meaningful rc; timeouts, cancellations etc. stay as they are.
        if (status is not (ExecStatus.Done or ExecStatus.Error))
        {
            var recovery = status switch
            {
                ExecStatus.Cancelled or ExecStatus.Pending or ExecStatus.NotSupported => Recovery.None,
                ExecStatus.ErrorHard or ExecStatus.NotInstalled => Recovery.Hard,
                ExecStatus.ErrorFatal => Recovery.Fatal,
                _ => Recovery.Soft,
            };
            return new OperationOutcome(rc, status, recovery, ObservedRole.Unknown);
        }

        bool degraded = rc is OcfCode.Degraded or OcfCode.DegradedPromoted;
        // OCF 1.1 degraded codes count as their healthy counterpart, shown as degraded.
        int effective = rc switch
        {
            OcfCode.Degraded => OcfCode.Success,
            OcfCode.DegradedPromoted => OcfCode.RunningPromoted,
            _ => rc,
        };
        int target = targetRc switch
        {
            OcfCode.Degraded => OcfCode.Success,
            OcfCode.DegradedPromoted => OcfCode.RunningPromoted,
            _ => targetRc,
        };

        OperationOutcome Ok(ObservedRole role) => new(effective, ExecStatus.Done, Recovery.None, role) { Degraded = degraded };
        OperationOutcome Fail(ExecStatus s, Recovery rec, ObservedRole role) => new(effective, s, rec, role) { Degraded = degraded };

        ObservedRole roleOfSuccess = action is "stop" ? ObservedRole.Stopped : action is "promote" ? ObservedRole.Promoted : ObservedRole.Started;
        switch (effective)
        {
            case OcfCode.Success:
                if (isProbe && target == OcfCode.NotRunning) return Ok(ObservedRole.Started); // probe found it active
                return target == OcfCode.Success ? Ok(roleOfSuccess) : Fail(ExecStatus.Error, Recovery.Soft, ObservedRole.Started);
            case OcfCode.NotRunning:
                if (isProbe || target == OcfCode.NotRunning || !managed) return Ok(ObservedRole.Stopped);
                return Fail(ExecStatus.Error, Recovery.Soft, ObservedRole.Stopped);
            case OcfCode.RunningPromoted:
                if (isProbe || target == OcfCode.RunningPromoted) return Ok(ObservedRole.Promoted);
                return Fail(ExecStatus.Error, Recovery.Soft, ObservedRole.Promoted);
            case OcfCode.FailedPromoted:
                return Fail(ExecStatus.Error, Recovery.Soft, ObservedRole.Promoted);
            case OcfCode.ErrConfigured:
                return Fail(ExecStatus.ErrorFatal, Recovery.Fatal, ObservedRole.Unknown);
            case OcfCode.ErrUnimplemented:
                return intervalMs == 0
                    ? Fail(ExecStatus.ErrorHard, Recovery.Hard, ObservedRole.Unknown)
                    : Fail(ExecStatus.NotSupported, Recovery.None, ObservedRole.Unknown);
            case OcfCode.ErrInstalled or OcfCode.ErrArgs or OcfCode.ErrPerm:
                return Fail(ExecStatus.ErrorHard, Recovery.Hard, ObservedRole.Unknown);
            default:
                // ERR_GENERIC and anything unknown (126, 127, 128+n from shells): soft failure.
                return Fail(ExecStatus.Error, Recovery.Soft, ObservedRole.Unknown);
        }
    }
}
