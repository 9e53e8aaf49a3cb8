using Vigil.Control;

namespace Vigil.Control.Tests;

public sealed class LeaseRoundsTests
{
    private static readonly DateTimeOffset T = new(2026, 12, 2, 20, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Skew = TimeSpan.FromMilliseconds(1100), Margin = TimeSpan.FromMilliseconds(100), Lease = TimeSpan.FromSeconds(2);

    [Fact]
    public void The_latest_receipt_of_a_majority_bounds_the_count_by_two_answer_windows_less_the_skew_plus_the_margin()
    {
        var (from, why) = LeaseRounds.CountFrom(
            [new("n1", T, "b7"), new("n3", T.AddMilliseconds(40), "b7.1")], 3, "b7", Skew, Margin);
        // 40 ms + 2 x 200 ms - 1100 ms + 100 ms = 560 ms before T.
        Assert.Equal(T.AddMilliseconds(-560), from);
        Assert.Contains("n3", why);
        Assert.Contains("600 ms before", why);
        // Confirmed only by a question asked when the lease counted from there has run out.
        Assert.False(LeaseRounds.Confirmed(from!.Value, Lease, T.AddMilliseconds(1439)));
        Assert.True(LeaseRounds.Confirmed(from.Value, Lease, T.AddMilliseconds(1440)));
    }

    [Fact]
    public void A_member_that_never_heard_from_it_still_counts_toward_the_majority()
    {
        var (from, _) = LeaseRounds.CountFrom([new("n1", null, null), new("n3", T, "b7")], 3, "b7", Skew, Margin);
        Assert.Equal(T.AddMilliseconds(-600), from);
    }

    [Theory]
    [InlineData("not a majority")]
    [InlineData("no boot on record")]
    [InlineData("another boot")]
    [InlineData("nobody heard it")]
    public void Without_a_sound_bound_it_says_why_and_leaves_the_count_to_the_others(string situation)
    {
        var (receipts, members, boot, expected) = situation switch
        {
            "not a majority" => (new List<LeaseReceipt> { new("n1", T, "b7"), new("n3", T, "b7") }, 5, "b7", "not a majority"),
            "no boot on record" => ([new("n1", T, "b7"), new("n3", T, "b7")], 3, null, "boot id is not on record"),
            "another boot" => ([new("n1", T, "b7"), new("n3", T, "b8")], 3, "b7", "n3 last heard from another boot of it (b8)"),
            _ => ([new("n1", null, null), new("n3", null, null)], 3, (string?)"b7", "no member received"),
        };
        var (from, why) = LeaseRounds.CountFrom(receipts, members, boot, Skew, Margin);
        Assert.Null(from);
        Assert.Contains(expected, why);
    }
}
