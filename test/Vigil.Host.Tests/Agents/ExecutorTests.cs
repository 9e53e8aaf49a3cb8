using Vigil.Host.Agents;

namespace Vigil.Host.Tests.Agents;

/// <summary>The executor against the scripted runner: recurring monitors, role changes, history.</summary>
public sealed class ExecutorTests
{
    private static readonly AgentId Dummy = new(AgentClass.Ocf, "heartbeat", "Dummy");

    private static AgentAction A(string rsc, string action, int intervalMs = 0) =>
        new(Dummy, rsc, action) { Interval = TimeSpan.FromMilliseconds(intervalMs), NodeName = "n1" };

    private static async Task WaitFor(Func<bool> condition, int timeoutMs = 5000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition() && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.True(condition(), "condition not reached in time");
    }

    [Fact]
    public async Task A_recurring_monitor_runs_at_its_interval_until_the_resource_stops()
    {
        var runner = new ScriptedAgentRunner();
        await using var ex = new Executor(runner);
        await ex.ExecuteAsync(A("r", "start"));
        var first = await ex.ExecuteAsync(A("r", "monitor", 100));
        Assert.Equal(0, first.Rc);
        await WaitFor(() => runner.Calls.Count(c => c.Action == "monitor") >= 4);
        Assert.Single(ex.RecurringOperations);
        await ex.ExecuteAsync(A("r", "stop"));
        Assert.Empty(ex.RecurringOperations);
        var monitors = runner.Calls.Count(c => c.Action == "monitor");
        await Task.Delay(300);
        Assert.Equal(monitors, runner.Calls.Count(c => c.Action == "monitor"));
    }

    [Fact]
    public async Task A_probe_that_may_use_the_history_is_answered_from_it_without_running_the_agent_unless_it_says_nothing_sure()
    {
        var runner = new ScriptedAgentRunner();
        await using var ex = new Executor(runner);
        AgentAction Probe(string rsc) => A(rsc, "monitor") with { FromHistory = true };
        int Runs(string rsc) => runner.Calls.Count(c => c.ResourceId == rsc);

        // No history in this executor's life: the agent runs.
        Assert.Equal(7, (await ex.ExecuteAsync(Probe("r"))).Rc);
        Assert.Equal(1, Runs("r"));
        await ex.ExecuteAsync(A("r", "start"));
        // The agent would now say "not running" (its state changed behind the executor's back): the history answers
        // "running", from the start, and the agent is not run.
        runner.SetState("r", ObservedRole.Stopped);
        var fromHistory = await ex.ExecuteAsync(Probe("r"));
        Assert.Equal(0, fromHistory.Rc);
        Assert.Equal(2, Runs("r"));
        Assert.Contains("executor history (its last start: rc 0", fromHistory.ExitReason);
        // Without the flag a probe always runs the agent.
        Assert.Equal(7, (await ex.ExecuteAsync(A("r", "monitor"))).Rc);
        Assert.Equal(3, Runs("r"));

        // Promoted: 8. Stopped: 7.
        await ex.ExecuteAsync(A("ms", "start"));
        await ex.ExecuteAsync(A("ms", "promote"));
        var before = Runs("ms");
        Assert.Equal(8, (await ex.ExecuteAsync(Probe("ms"))).Rc);
        await ex.ExecuteAsync(A("ms", "stop"));
        Assert.Equal(7, (await ex.ExecuteAsync(Probe("ms"))).Rc);
        Assert.Equal(before + 1, Runs("ms"));

        // A failed last operation says nothing sure: the agent runs.
        runner.Script("f", "start", 1, "boom");
        await ex.ExecuteAsync(A("f", "start"));
        var afterFailure = Runs("f");
        await ex.ExecuteAsync(Probe("f"));
        Assert.Equal(afterFailure + 1, Runs("f"));
    }

    [Fact]
    public async Task Promotion_cancels_the_unpromoted_monitor_and_the_promoted_one_is_scheduled_in_its_place()
    {
        var runner = new ScriptedAgentRunner();
        await using var ex = new Executor(runner);
        await ex.ExecuteAsync(A("ms", "start"));
        await ex.ExecuteAsync(A("ms", "monitor", 200).WithMeta("role", "Unpromoted"));
        await ex.ExecuteAsync(A("ms", "promote"));
        Assert.Empty(ex.RecurringOperations);
        var promoted = await ex.ExecuteAsync(A("ms", "monitor", 150).WithMeta("role", "Promoted") with { TargetRc = 8 });
        Assert.Equal(8, promoted.Rc);
        Assert.False(promoted.Outcome.IsFailure);
        Assert.Equal(150, Assert.Single(ex.RecurringOperations).IntervalMs);
    }

    [Fact]
    public async Task Registered_monitors_follow_the_role_through_start_promote_demote_and_stop()
    {
        var runner = new ScriptedAgentRunner();
        await using var ex = new Executor(runner);
        ex.SetMonitors("ms", [A("ms", "monitor", 31_000).WithMeta("role", "Unpromoted"), A("ms", "monitor", 29_000).WithMeta("role", "Promoted")]);
        long[] Active() => ex.RecurringOperations.Select(a => a.IntervalMs).Order().ToArray();

        await ex.ExecuteAsync(A("ms", "start"));
        Assert.Equal([31_000], Active());
        await WaitFor(() => runner.Calls.Any(c => c.Action == "monitor" && c.IntervalMs == 31_000)); // runs at once, not after 31 s
        await ex.ExecuteAsync(A("ms", "promote"));
        Assert.Equal([29_000], Active());
        await WaitFor(() => ex.History("ms").Any(h => h.IntervalMs == 29_000));
        var promotedMonitor = ex.History("ms").Single(h => h.IntervalMs == 29_000);
        Assert.Equal(8, promotedMonitor.Rc);
        Assert.False(promotedMonitor.Outcome.IsFailure);
        await ex.ExecuteAsync(A("ms", "demote"));
        Assert.Equal([31_000], Active());
        await ex.ExecuteAsync(A("ms", "stop"));
        Assert.Empty(Active());
    }

    [Fact]
    public async Task History_keeps_call_ids_and_the_time_the_result_last_changed()
    {
        var runner = new ScriptedAgentRunner();
        var time = new ManualTime();
        await using var ex = new Executor(runner, time);
        var records = new List<OperationRecord>();
        ex.Completed += records.Add;
        await ex.ExecuteAsync(A("r", "start"));
        var m1 = await ex.ExecuteAsync(A("r", "monitor", 60_000));
        time.Advance(TimeSpan.FromMinutes(1));
        var m2 = await ex.ExecuteAsync(A("r", "monitor", 60_000));
        Assert.True(m2.CallId > m1.CallId);
        Assert.Equal(m1.LastRcChange, m2.LastRcChange);
        Assert.False(m2.Changed);
        runner.SetState("r", ObservedRole.Stopped);
        time.Advance(TimeSpan.FromMinutes(1));
        var m3 = await ex.ExecuteAsync(A("r", "monitor", 60_000));
        Assert.Equal(7, m3.Rc);
        Assert.True(m3.Changed);
        Assert.Equal(time.GetUtcNow(), m3.LastRcChange);
        Assert.Equal(Recovery.Soft, m3.Outcome.Recovery);
        Assert.Equal(m3, ex.LastFailure("r"));
        Assert.Equal(["r_start_0", "r_monitor_60000"], ex.History("r").Select(h => h.OperationKey));
        Assert.Equal(4, records.Count);
    }

    [Fact]
    public async Task A_recurring_monitor_reports_the_digest_it_was_dispatched_with()
    {
        var runner = new ScriptedAgentRunner();
        await using var ex = new Executor(runner);
        var records = new System.Collections.Concurrent.ConcurrentQueue<OperationRecord>();
        ex.Completed += records.Enqueue;
        const string digest = "0123456789abcdef0123456789abcdef";
        await ex.ExecuteAsync(A("r", "start") with { OpDigest = digest });
        await ex.ExecuteAsync(A("r", "monitor", 50) with { OpDigest = digest });
        runner.SetState("r", ObservedRole.Stopped);
        await WaitFor(() => records.Any(r => r.Action == "monitor" && r.Rc == 7));
        var changed = records.First(r => r.Action == "monitor" && r.Rc == 7);
        Assert.Equal(digest, changed.OpDigest);   // what the node reports to the leader
        Assert.Equal(digest, OperationHistory.ToLrmOp(changed, "r_monitor_50", "n1").Attribute("op-digest"));
        Assert.Null(OperationHistory.ToLrmOp(records.First(r => r.Action == "start") with { OpDigest = null }, "r_last_0", "n1").Attribute("op-digest"));
    }

    [Fact]
    public async Task The_executor_knows_the_digest_a_running_resource_was_started_with_until_it_stops()
    {
        var runner = new ScriptedAgentRunner().Script("t", "start", new AgentResult(OcfCode.ErrGeneric, ExecStatus.Timeout));
        await using var ex = new Executor(runner);
        Assert.Null(ex.StartedWith("r"));
        await ex.ExecuteAsync(A("r", "start") with { OpDigest = "a" });
        await ex.ExecuteAsync(A("r", "monitor") with { OpDigest = "b" });   // a probe does not start anything
        Assert.Equal("a", ex.StartedWith("r"));
        await ex.ExecuteAsync(A("r", "stop") with { OpDigest = "c" });
        Assert.Null(ex.StartedWith("r"));
        await ex.ExecuteAsync(A("r", "start") with { OpDigest = "d" });
        Assert.Equal("d", ex.StartedWith("r"));
        // A start that timed out may have started it, with its parameters.
        await ex.ExecuteAsync(A("t", "start") with { OpDigest = "e" });
        Assert.Equal("e", ex.StartedWith("t"));
    }

    [Fact]
    public async Task History_converts_to_the_CIB_status_shape_the_scheduler_reads()
    {
        var runner = new ScriptedAgentRunner().Script("r", "monitor", OcfCode.ErrGeneric, "boom");
        await using var ex = new Executor(runner);
        await ex.ExecuteAsync(A("r", "start") with { TransitionKey = "3:7:0:abc" });
        await ex.ExecuteAsync(A("r", "monitor", 60_000));
        var lrm = Assert.Single(ex.LrmHistory("n1"));
        Assert.Equal("ocf", lrm.Class);
        Assert.Equal("heartbeat", lrm.Provider);
        Assert.Equal(["r_last_0", "r_last_failure_0", "r_monitor_60000"], lrm.Ops.Select(o => o.Id));
        var last = lrm.Ops[0];
        Assert.Equal("start", last.Operation);
        Assert.Equal(0, last.Rc);
        Assert.Equal("0:0;3:7:0:abc", last.TransitionMagic);
        var failure = lrm.Ops[1];
        Assert.Equal(1, failure.Rc);
        // As in Pacemaker's CIB: the execution completed (op-status 0); rc 1 is what makes it a failure.
        Assert.Equal((int)ExecStatus.Done, failure.OpStatus);
        Assert.Equal(60_000, failure.IntervalMs);
        Assert.Equal("boom", failure.Attribute("exit-reason"));
        await ex.CleanupAsync("r");
        Assert.Empty(ex.LrmHistory("n1"));
    }

    [Fact]
    public async Task Start_delay_postpones_the_first_execution()
    {
        var runner = new ScriptedAgentRunner();
        await using var ex = new Executor(runner);
        var sw = System.Diagnostics.Stopwatch.StartNew();
        await ex.ExecuteAsync(A("r", "start").WithMeta("start_delay", "300"));
        Assert.True(sw.ElapsedMilliseconds >= 290, $"ran after {sw.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Scripted_results_are_returned_in_order()
    {
        var runner = new ScriptedAgentRunner().Script("r", "start", OcfCode.ErrInstalled, "no binary").Script("r", "start", OcfCode.Success);
        await using var ex = new Executor(runner);
        var first = await ex.ExecuteAsync(A("r", "start"));
        Assert.Equal(Recovery.Hard, first.Outcome.Recovery);
        Assert.Equal("no binary", first.ExitReason);
        Assert.Equal(0, (await ex.ExecuteAsync(A("r", "start"))).Rc);
    }

    [Fact]
    public async Task Actions_on_one_resource_run_one_at_a_time_and_different_resources_run_in_parallel()
    {
        var runner = new SlowRunner();
        await using var ex = new Executor(runner);
        var tasks = new[] { ex.ExecuteAsync(A("a", "start")), ex.ExecuteAsync(A("a", "monitor")), ex.ExecuteAsync(A("b", "start")) };
        await Task.WhenAll(tasks);
        Assert.Equal(1, runner.MaxPerResource);
        Assert.Equal(2, runner.MaxOverall);
    }

    [Fact]
    public async Task A_runner_that_throws_becomes_a_recorded_error_not_a_crash()
    {
        await using var ex = new Executor(new ThrowingRunner());
        var r = await ex.ExecuteAsync(A("r", "start"));
        Assert.Equal(ExecStatus.Error, r.Status);
        Assert.Contains("disk full", r.ExitReason, StringComparison.Ordinal);
        Assert.Equal(Recovery.Soft, r.Outcome.Recovery);
    }

    private sealed class ThrowingRunner : IAgentRunner
    {
        public Task<AgentResult> RunAsync(AgentAction action, CancellationToken cancellationToken = default) =>
            throw new IOException("disk full");
    }

    private sealed class SlowRunner : IAgentRunner
    {
        private readonly Dictionary<string, int> _running = [];
        private int _overall;
        public int MaxPerResource { get; private set; }
        public int MaxOverall { get; private set; }

        public async Task<AgentResult> RunAsync(AgentAction action, CancellationToken cancellationToken = default)
        {
            lock (_running)
            {
                _running[action.ResourceId] = _running.GetValueOrDefault(action.ResourceId) + 1;
                _overall++;
                MaxPerResource = Math.Max(MaxPerResource, _running[action.ResourceId]);
                MaxOverall = Math.Max(MaxOverall, _overall);
            }
            await Task.Delay(150, cancellationToken);
            lock (_running)
            {
                _running[action.ResourceId]--;
                _overall--;
            }
            return new AgentResult(0, ExecStatus.Done);
        }
    }
}
