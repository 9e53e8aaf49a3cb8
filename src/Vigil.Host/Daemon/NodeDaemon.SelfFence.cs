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
        TimeSpan? deadline = null, dueIn = null;
        while (!ct.IsCancellationRequested)
        {
            // Checked every 100 ms while a lease binds this node (something runs here and the lease is set) or a watchdog
            // needs feeding; otherwise once a second, woken at once when a resource starts here or the state changes.
            // Within 100 ms of the deadline, at the deadline itself: the reset must not come up to a check late.
            var wait = deadline is not null || _watchdog is not null ? LeaseCheck : LeaseIdleCheck;
            if (dueIn is { } due && due < wait) wait = due;
            try { await _leaseWake.WaitAsync(wait, ct).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
            deadline = _localActive.IsEmpty ? null : FencePlanner.SelfFenceDeadline(_consensus.State.Configuration, skew);
            var sinceContact = TimeSpan.FromMilliseconds(Environment.TickCount64 - LastQuorumContactMs());
            // A leader whose lease ran out is out of contact before the consensus layer says so (it steps down later):
            // the quorum check, waiting for that layer, is woken to ask the peers.
            if (deadline is not null && _hasQuorum && !InQuorumContact) _quorumWake.Set();
            // Fed on every round in which this node may keep what it runs; when it must fence itself it is not fed again.
            if (deadline is null || sinceContact < deadline)
            {
                dueIn = deadline - sinceContact + TimeSpan.FromMilliseconds(1);
                _watchdog?.Feed();
                if (deadline is not null && LeaseStopNow(sinceContact, deadline.Value)) _ = Task.Run(() => LeaseStopAsync(sinceContact, deadline.Value), CancellationToken.None);
                continue;
            }
            var still = _localActive.Keys.Order(StringComparer.Ordinal).ToList();
            SelfFence($"no quorum for {sinceContact.TotalMilliseconds:F0} ms and {string.Join(", ", still)} not stopped within the lease ({deadline.Value.TotalMilliseconds:F0} ms)", still);
            return;
        }
    }

    private int _leaseStopping;
    private static readonly TimeSpan LeaseStopAfter = TimeSpan.FromMilliseconds(150);

    /// <summary>
    /// No majority answered this node's pings since its last contact (<see cref="_majorityUnreachedMs"/>; in a plain
    /// election the other members answer at once), and 150 ms or half the deadline, whichever is less, have passed since
    /// that contact: stop now. By then the majority is judging this node lost too; a shorter cut leaves everything running.
    /// The quorum check would start the stops only at its next round, after its pings' timeout: up to half a second
    /// later, time the stops need before the deadline. Only where the quorum check would stop too: a deadline exists only
    /// when no-quorum-policy stops resources (<see cref="FencePlanner.LeaseProblem"/>), and not in a two-node cluster
    /// (whose survivor may carry on alone; it decides there).
    /// </summary>
    private bool LeaseStopNow(TimeSpan sinceContact, TimeSpan deadline) =>
        sinceContact >= TimeSpan.FromTicks(Math.Min(deadline.Ticks / 2, LeaseStopAfter.Ticks)) &&
        Interlocked.Read(ref _majorityUnreachedMs) != 0 && !_localActive.IsEmpty &&
        TwoNodePeer is null && _consensus.AloneNow is null &&
        Volatile.Read(ref _leaseStopping) == 0;

    private async Task LeaseStopAsync(TimeSpan sinceContact, TimeSpan deadline)
    {
        if (Interlocked.Exchange(ref _leaseStopping, 1) != 0) return;
        try
        {
            Log($"no majority for {sinceContact.TotalMilliseconds:F0} ms: stopping what this node runs before its lease deadline ({deadline.TotalMilliseconds:F0} ms)");
            await StopLocalResourcesAsync("lease deadline near").ConfigureAwait(false);
        }
        catch (OperationCanceledException) { }
        finally { Volatile.Write(ref _leaseStopping, 0); }
    }

    /// <summary>
    /// The node may notice a lost majority later than the majority notices it: by up to an election
    /// timeout (followers wait that long for a leader) plus one quorum check and its ping timeout.
    /// </summary>
    private TimeSpan LeaseSkew => TimeSpan.FromMilliseconds(_settings.UpperElectionTimeoutMs + 500);

    /// <summary>
    /// How much earlier than the moment its consensus requests stopped being answered the DC may count a lost member's
    /// lease (<see cref="Controller.LeaseOrigin"/>). The member noted contact until at most the upper election timeout
    /// after the last heartbeat it got (its consensus token is cancelled then), and that heartbeat came before the
    /// request that went unanswered, so its deadline falls (skew - upper election timeout) before that moment plus the
    /// lease. 100 ms are kept as a margin for late timers. With the defaults: 1.1 s - 0.6 s - 0.1 s = 0.4 s.
    /// </summary>
    private TimeSpan LeaseBeforeContactEnded => LeaseSkew - TimeSpan.FromMilliseconds(_settings.UpperElectionTimeoutMs + 100);

    /// <summary>
    /// How much earlier than its own election the DC may count the lease of the leader it directly succeeded
    /// (<see cref="Controller.LeaseOrigin"/>). That leader noted its last contact at a moment its leader lease held
    /// (<see cref="LeaderInContact"/>): less than the lease after the start of a heartbeat round a majority answered.
    /// DotNext's lease is the leader's own election timeout, drawn between the lower and the upper one, so at most the
    /// upper. The majority that answered the round and the majority that elected the DC share a member. If that member
    /// is the DC, it stood for election only after its own election timeout (at least the lower one) passed without a
    /// heartbeat; if it is a voter, DotNext's leader stickiness made it refuse votes until its election timeout had passed
    /// since the last heartbeat it accepted (RaftCluster.VoteAsync checks the time since the last leader contact). Either
    /// way the election came at least the lower election timeout after that round started. So the old leader's deadline
    /// falls (skew - (upper - lower election timeout)) before the election plus the lease. A contact noted by pinging a
    /// majority counts too, but a leader that pings a majority is reachable, so its successor does not judge it lost
    /// (indirect probes). 100 ms are kept as a margin. With the defaults: 1.1 s - 0.3 s - 0.1 s = 0.7 s.
    /// </summary>
    private TimeSpan LeaseBeforeElection =>
        LeaseSkew - TimeSpan.FromMilliseconds(_settings.UpperElectionTimeoutMs - _settings.LowerElectionTimeoutMs + 100);

    /// <summary>
    /// Records why (synced to disk: the reset does not wait for the page cache), then resets this node's host at once
    /// through the kernel's magic SysRq trigger (selfFenceAction "reboot", like sbd). Where that is impossible or
    /// selfFenceAction is "exit", the reset is the daemon's own: it kills the agent processes it started and exits
    /// (exit code 75), so a supervisor restarts it. An armed watchdog is left armed either way.
    /// </summary>
    private void SelfFence(string reason, List<string> resources)
    {
        var record = new SelfFenceRecord(DateTimeOffset.UtcNow, reason, resources);
        try
        {
            // Written in place and fsynced: a rename would need the folder synced too before a reset without sync.
            using var file = new FileStream(Path.Combine(_settings.DataDirectory, SelfFenceFile), FileMode.Create, FileAccess.Write);
            file.Write(JsonSerializer.SerializeToUtf8Bytes(record, WireJson.Plain));
            file.Flush(flushToDisk: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { Log($"cannot record the self-fence reason: {e.Message}"); }
        var how = _settings.SelfFenceReboots
            ? $"resetting the host through {_settings.ResetTrigger}"
            : "selfFenceAction is exit: killing the agents this daemon started and exiting; addresses and mounts stay up";
        Log($"SELF-FENCING: {reason}; {how}{(_watchdog is null ? "" : $"; the watchdog {_watchdog.Path} is no longer fed")}");
        _log.Flush();
        if (_settings.SelfFenceReboots) ResetHost();
        _agentRunner.KillAll();
        // Closed without the magic close: an armed device resets the host when its timeout runs out.
        _watchdog?.Dispose();
        Environment.Exit(75);
    }

    /// <summary>Writes "b" to the reset trigger: on /proc/sysrq-trigger the kernel reboots at once and this never returns.</summary>
    private void ResetHost()
    {
        try
        {
            using (var trigger = new FileStream(_settings.ResetTrigger, FileMode.Open, FileAccess.Write))
                trigger.WriteByte((byte)'b');
            Log($"the host did not reset after 'b' was written to {_settings.ResetTrigger}: killing the agents this daemon started and exiting instead");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            Log($"cannot reset the host through {_settings.ResetTrigger} ({e.Message}): killing the agents this daemon started and exiting instead; " +
                "run the daemon as root with /proc mounted writable, or set watchdogDevice");
        }
        _log.Flush();
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
