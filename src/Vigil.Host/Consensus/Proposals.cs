namespace Vigil.Host.Consensus;

/// <summary>How the daemon proposes: a bounded wait per attempt, ambiguity retried, time running out said as ambiguity.</summary>
public static class Proposals
{
    /// <summary>
    /// Calls <paramref name="propose"/> up to <paramref name="attempts"/> times while it answers
    /// <see cref="ProposeOutcome.Ambiguous"/> (safe: commands carry request ids). Each attempt gets <paramref name="timeout"/>;
    /// one that runs out is ambiguous too (the entry may still commit) and is not retried, its time being up; it is
    /// reported through <paramref name="timedOut"/>. Only <paramref name="stop"/> cancels with an exception.
    /// </summary>
    public static async Task<ProposeOutcome> ProposeAsync(Func<CancellationToken, Task<ProposeOutcome>> propose, TimeSpan timeout, int attempts,
        Action timedOut, CancellationToken stop)
    {
        for (int attempt = 0; attempt < attempts; attempt++)
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(stop);
            bounded.CancelAfter(timeout);
            ProposeOutcome outcome;
            try { outcome = await propose(bounded.Token).ConfigureAwait(false); }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                timedOut();
                return ProposeOutcome.Ambiguous;
            }
            if (outcome != ProposeOutcome.Ambiguous) return outcome;
        }
        return ProposeOutcome.Ambiguous;
    }
}
