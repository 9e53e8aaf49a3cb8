using System.Text.Json;
using Vigil.Control;

namespace Vigil.Host.Daemon;

/// <summary>Why this node fenced itself: written before the reset, shown by status after the restart.</summary>
public sealed record SelfFenceRecord(DateTimeOffset At, string Reason, List<string> Resources);

public sealed partial class NodeDaemon
{
    private const string SelfFenceFile = "self-fence.json";
    /// <summary>The last self-fence of this node, as found at start (status shows it).</summary>
    private SelfFenceRecord? _selfFenced;
    /// <summary>The watchdog device this node feeds (settings: WatchdogDevice), or null.</summary>
    private Watchdog? _watchdog;
    private readonly Wakeup _leaseWake = new();
    private static readonly TimeSpan LeaseCheck = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan LeaseIdleCheck = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The node half of lease self-fencing: with stonith-watchdog-timeout set, a node cut off from the
    /// majority must have stopped its resources by its deadline (see <see cref="FencePlanner.SelfFenceDeadline"/>),
    /// because the majority then counts it as fenced and recovers them. If it has not (a stop hangs,
    /// or the no-quorum stop never ran), it resets itself.
    /// </summary>
    private async Task LeaseLoopAsync(CancellationToken ct)
    {
        var skew = LeaseSkew;
        TimeSpan? deadline = null;
        while (!ct.IsCancellationRequested)
        {
            // Checked every 100 ms while a lease binds this node (something runs here and the lease is set) or a watchdog
            // needs feeding; otherwise once a second, woken at once when a resource starts here or the state changes.
            var wait = deadline is not null || _watchdog is not null ? LeaseCheck : LeaseIdleCheck;
            try { await _leaseWake.WaitAsync(wait, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            deadline = _localActive.IsEmpty ? null : FencePlanner.SelfFenceDeadline(_consensus.State.Configuration, skew);
            var sinceContact = TimeSpan.FromMilliseconds(Environment.TickCount64 - LastQuorumContactMs());
            // Fed on every round in which this node may keep what it runs; when it must fence itself it is not fed again.
            if (deadline is null || sinceContact < deadline)
            {
                _watchdog?.Feed();
                continue;
            }
            var still = _localActive.Keys.Order(StringComparer.Ordinal).ToList();
            SelfFence($"no quorum for {sinceContact.TotalMilliseconds:F0} ms and {string.Join(", ", still)} not stopped within the lease ({deadline.Value.TotalMilliseconds:F0} ms)", still);
            return;
        }
    }

    /// <summary>
    /// The node may notice a lost majority later than the majority notices it: by up to an election
    /// timeout (followers wait that long for a leader) plus one quorum check and its ping timeout.
    /// </summary>
    private TimeSpan LeaseSkew => TimeSpan.FromMilliseconds(_settings.UpperElectionTimeoutMs + 500);

    /// <summary>
    /// Records why, then resets this node. Without a hardware watchdog the reset is the daemon's own:
    /// it kills the agent processes it started and exits at once (exit code 75), so a supervisor restarts it.
    /// </summary>
    private void SelfFence(string reason, List<string> resources)
    {
        var record = new SelfFenceRecord(DateTimeOffset.UtcNow, reason, resources);
        try
        {
            var path = Path.Combine(_settings.DataDirectory, SelfFenceFile);
            File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(record, WireJson.Plain));
            File.Move(path + ".tmp", path, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Log($"cannot record the self-fence reason: {e.Message}"); }
        Log($"SELF-FENCING: {reason}{(_watchdog is null ? "" : $"; the watchdog {_watchdog.Path} is no longer fed")}");
        _log.Flush();
        _agentRunner.KillAll();
        // Closed without the magic close: an armed device resets the host when its timeout runs out.
        _watchdog?.Dispose();
        Environment.Exit(75);
    }

    /// <summary>The last self-fence of this node, if its record exists (shown by status until the next one).</summary>
    private SelfFenceRecord? ReadSelfFence()
    {
        try
        {
            var path = Path.Combine(_settings.DataDirectory, SelfFenceFile);
            return File.Exists(path) ? JsonSerializer.Deserialize<SelfFenceRecord>(File.ReadAllText(path), WireJson.Plain) : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or JsonException) { return null; }
    }
}
