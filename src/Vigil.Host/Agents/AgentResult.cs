namespace Vigil.Host.Agents;

/// <summary>
/// What one agent execution produced. <see cref="Rc"/> is already in OCF terms (LSB and fence
/// codes are mapped where they enter); <see cref="RawExitCode"/> keeps what the process returned.
/// </summary>
public sealed record AgentResult(int Rc, ExecStatus Status)
{
    public int? RawExitCode { get; init; }
    /// <summary>The agent's own explanation (last <c>ocf-exit-reason:</c> on stderr) or the executor's, when the action failed.</summary>
    public string? ExitReason { get; init; }
    /// <summary>Captured stdout (head, bounded): meta-data XML, usage, fence list output.</summary>
    public string Stdout { get; init; } = "";
    /// <summary>Captured stderr (tail, bounded).</summary>
    public string Stderr { get; init; } = "";
    public bool OutputTruncated { get; init; }
    public TimeSpan Duration { get; init; }

    public bool TimedOut => Status == ExecStatus.Timeout;

    /// <summary>The last <paramref name="lines"/> lines of stderr, for messages.</summary>
    public IReadOnlyList<string> StderrTail(int lines = 10)
    {
        var all = Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return all.Length <= lines ? all : all[^lines..];
    }

    public static AgentResult ExecutorError(ExecStatus status, int rc, string reason) => new(rc, status) { ExitReason = reason };
}

/// <summary>Exit-reason extraction (Pacemaker's parse_exit_reason_from_stderr).</summary>
public static class ExitReason
{
    public const int MaxLength = 128 * 4;

    /// <summary>The text after the last <c>ocf-exit-reason:</c> on stderr, up to the end of that line; null when none.</summary>
    public static string? FromStderr(string stderr)
    {
        var i = stderr.LastIndexOf(OcfEnvironment.ExitReasonPrefix, StringComparison.Ordinal);
        if (i < 0) return null;
        var start = i + OcfEnvironment.ExitReasonPrefix.Length;
        var end = stderr.IndexOf('\n', start);
        var text = (end < 0 ? stderr[start..] : stderr[start..end]).Trim();
        if (text.Length > MaxLength) text = text[..MaxLength];
        return text.Length == 0 ? null : text;
    }
}
