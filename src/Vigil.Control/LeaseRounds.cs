namespace Vigil.Control;

/// <summary>
/// What one member says of a lost node's lease requests: when it last received one (a moment on the asking leader's
/// clock, no earlier than the real one) and the boot id it came with. Null <see cref="At"/>: it never received one.
/// </summary>
public sealed record LeaseReceipt(string Member, DateTimeOffset? At, string? Boot);

/// <summary>
/// Lease rounds: while the configuration uses lease self-fencing, every member of a cluster of three or more sends a
/// lease request to every other member each <see cref="Every"/>. A round counts for its sender only when a majority
/// (itself included) answered within <see cref="AnswerWithin"/> of sending it, and once one has counted, the sender's
/// contact with a majority, from which its lease deadline counts, never lasts past the last such round's start plus
/// <see cref="AnswerWithin"/>. Its requests say whether that holds when they are sent (bound), and a member that
/// receives a bound one notes when and from which boot. So a leader that asks the other members can bound the lost
/// node's last contact by the latest receipt, instead of by when its own consensus requests failed or by its election.
/// </summary>
public static class LeaseRounds
{
    /// <summary>How often a member sends its lease requests.</summary>
    public static readonly TimeSpan Every = TimeSpan.FromMilliseconds(100);

    /// <summary>How soon a majority's answers must be back for a round to count: also how long one round's contact lasts.</summary>
    public static readonly TimeSpan AnswerWithin = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Where a leader may count lost node <paramref name="target"/>'s lease from, given what members other than it said
    /// (<paramref name="receipts"/>, this leader's own included) of its lease requests, or null with the reason it may not.
    /// </summary>
    /// <remarks>
    /// Why it holds. Receipts are of bound requests only, sent after the target's first counted round, from which on its
    /// contact stays bound by its rounds (they go on until its daemon stops). Any bound round the target counted was
    /// answered by a majority, which shares a member with the members that answered here (a majority without the target):
    /// that member received the round's request no earlier than it was sent and noted it; the rounds it counted before its
    /// first bound request were sent before that one. So every counted round started no later than the latest receipt R
    /// (when there is one), and the target's contact ended by R + <see cref="AnswerWithin"/>; its deadline falls <paramref name="skew"/> before that plus the lease (plus
    /// <paramref name="margin"/> for late timers). A round started later that would still rescue the target before its
    /// deadline must be answered by R + 2 <see cref="AnswerWithin"/> + lease - skew + margin = this origin + the lease, so a
    /// question asked at or after that moment would have seen its receipt: the caller asks again then
    /// (<see cref="Confirmed"/>). Receipts of another boot than the one on record (a restart the cluster has not seen) and
    /// a target no member heard from in its current boot leave the answer to the other bounds.
    /// </remarks>
    public static (DateTimeOffset? From, string Why) CountFrom(IReadOnlyList<LeaseReceipt> receipts, int members, string? recordedBoot, TimeSpan skew, TimeSpan margin)
    {
        if (receipts.Count * 2 <= members)
            return (null, $"only {receipts.Count} of {members} members answered about its lease requests, not a majority without it");
        if (recordedBoot is null) return (null, "its boot id is not on record");
        var stem = ClusterState.BootStem(recordedBoot);
        if (receipts.FirstOrDefault(r => r.At is not null && ClusterState.BootStem(r.Boot) != stem) is { } other)
            return (null, $"{other.Member} last heard from another boot of it ({other.Boot})");
        var heard = receipts.Where(r => r.At is not null).ToList();
        if (heard.Count == 0) return (null, "no member received a lease request from its current boot");
        var latest = heard.MaxBy(r => r.At!.Value)!;
        var offset = 2 * AnswerWithin - skew + margin;
        return (latest.At!.Value + offset,
            $"{offset.Duration().TotalMilliseconds:F0} ms {(offset < TimeSpan.Zero ? "before" : "after")} the last lease request of it that {latest.Member} received ({latest.At:HH:mm:ss.fff} UTC)");
    }

    /// <summary>Whether a question asked at <paramref name="askedAt"/> that found <paramref name="from"/> confirms the lease over.</summary>
    public static bool Confirmed(DateTimeOffset from, TimeSpan lease, DateTimeOffset askedAt) => askedAt >= from + lease;
}
