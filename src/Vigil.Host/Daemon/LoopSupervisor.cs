namespace Vigil.Host.Daemon;

/// <summary>Keeps one of the daemon's loops running until the daemon stops.</summary>
public static class LoopSupervisor
{
    /// <summary>
    /// Runs <paramref name="loop"/> until <paramref name="stop"/> is cancelled. A loop that ends before that, by returning
    /// or by an exception it did not expect, would leave the node without that part (no planning, no quorum check, no
    /// lease check) and nobody would know: it is logged and started again after <paramref name="pause"/>.
    /// </summary>
    public static async Task RunAsync(string name, Func<CancellationToken, Task> loop, Action<string> log, TimeSpan pause, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                await loop(stop).ConfigureAwait(false);
                if (!stop.IsCancellationRequested) log($"the {name} loop ended unexpectedly; started again");
            }
            catch (Exception e)
            {
                if (stop.IsCancellationRequested) return;
                log($"the {name} loop failed ({e.GetType().Name}: {e.Message}); started again");
            }
            try { await Task.Delay(pause, stop).ConfigureAwait(false); }
            catch (OperationCanceledException) { return; }
        }
    }
}
