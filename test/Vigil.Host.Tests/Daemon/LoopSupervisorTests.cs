using System.Collections.Concurrent;
using Vigil.Host.Daemon;

namespace Vigil.Host.Tests.Daemon;

public sealed class LoopSupervisorTests
{
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(1);

    [Fact]
    public async Task A_loop_that_fails_or_ends_early_is_logged_and_started_again_until_the_stop()
    {
        using var stop = new CancellationTokenSource();
        var log = new ConcurrentQueue<string>();
        int runs = 0;
        Task Loop(CancellationToken ct)
        {
            var run = Interlocked.Increment(ref runs);
            if (run == 1) throw new OperationCanceledException("a proposal's own timeout");
            if (run == 2) throw new InvalidOperationException("a bug");
            if (run == 3) return Task.CompletedTask;
            return Task.Delay(Timeout.Infinite, ct);
        }
        var supervised = LoopSupervisor.RunAsync("DC", Loop, log.Enqueue, Pause, stop.Token);
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (Volatile.Read(ref runs) < 4 && waited.Elapsed < TimeSpan.FromSeconds(10)) await Task.Delay(5);
        Assert.Equal(4, Volatile.Read(ref runs));
        await stop.CancelAsync();
        await supervised.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(
            ["the DC loop failed (OperationCanceledException: a proposal's own timeout); started again",
             "the DC loop failed (InvalidOperationException: a bug); started again",
             "the DC loop ended unexpectedly; started again"],
            log.ToArray());
        Assert.Equal(4, runs);
    }

    [Fact]
    public async Task A_loop_that_throws_because_of_the_stop_ends_quietly()
    {
        using var stop = new CancellationTokenSource();
        var log = new ConcurrentQueue<string>();
        var supervised = LoopSupervisor.RunAsync("quorum", async ct => { await Task.Delay(Timeout.Infinite, ct); }, log.Enqueue, Pause, stop.Token);
        await stop.CancelAsync();
        await supervised.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Empty(log);
    }
}
