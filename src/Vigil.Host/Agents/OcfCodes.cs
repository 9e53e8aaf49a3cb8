namespace Vigil.Host.Agents;

/// <summary>OCF exit codes (OCF 1.1 names; the shell library still calls 8/9 RUNNING_MASTER/FAILED_MASTER).</summary>
public static class OcfCode
{
    public const int Success = 0;
    public const int ErrGeneric = 1;
    public const int ErrArgs = 2;
    public const int ErrUnimplemented = 3;
    public const int ErrPerm = 4;
    public const int ErrInstalled = 5;
    public const int ErrConfigured = 6;
    public const int NotRunning = 7;
    public const int RunningPromoted = 8;
    public const int FailedPromoted = 9;
    public const int Degraded = 190;
    public const int DegradedPromoted = 191;

    public static string Name(int rc) => rc switch
    {
        Success => "OCF_SUCCESS",
        ErrGeneric => "OCF_ERR_GENERIC",
        ErrArgs => "OCF_ERR_ARGS",
        ErrUnimplemented => "OCF_ERR_UNIMPLEMENTED",
        ErrPerm => "OCF_ERR_PERM",
        ErrInstalled => "OCF_ERR_INSTALLED",
        ErrConfigured => "OCF_ERR_CONFIGURED",
        NotRunning => "OCF_NOT_RUNNING",
        RunningPromoted => "OCF_RUNNING_PROMOTED",
        FailedPromoted => "OCF_FAILED_PROMOTED",
        Degraded => "OCF_DEGRADED",
        DegradedPromoted => "OCF_DEGRADED_PROMOTED",
        _ => $"unknown exit status {rc}",
    };

    public static string Description(int rc) => rc switch
    {
        Success => "ok",
        ErrGeneric => "error",
        ErrArgs => "invalid parameter",
        ErrUnimplemented => "unimplemented feature",
        ErrPerm => "insufficient privileges",
        ErrInstalled => "not installed",
        ErrConfigured => "not configured",
        NotRunning => "not running",
        RunningPromoted => "promoted",
        FailedPromoted => "promoted (failed)",
        Degraded => "degraded",
        DegradedPromoted => "promoted (degraded)",
        _ => "unknown",
    };
}

/// <summary>How an execution ended, apart from the agent's exit code (Pacemaker's PCMK_EXEC_*; values are the CIB op-status).</summary>
public enum ExecStatus
{
    Pending = -1,
    Done = 0,
    Cancelled = 1,
    Timeout = 2,
    NotSupported = 3,
    Error = 4,
    ErrorHard = 5,
    ErrorFatal = 6,
    NotInstalled = 7,
    NotConnected = 8,
    Invalid = 9,
}
