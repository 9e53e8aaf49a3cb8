namespace Vigil.Host.Daemon;

/// <summary>
/// Wakes one waiting loop. Any number of <see cref="Set"/> calls while the loop is busy wake it once; the loop then
/// looks at everything that changed, so nothing is lost by coalescing.
/// </summary>
internal sealed class Wakeup
{
    private readonly SemaphoreSlim _semaphore = new(0);

    public void Set()
    {
        if (_semaphore.CurrentCount == 0) _semaphore.Release();
    }

    /// <summary>Returns when <see cref="Set"/> was called (since the last wait) or after <paramref name="timeout"/>.</summary>
    public Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) => _semaphore.WaitAsync(timeout, cancellationToken);
}
