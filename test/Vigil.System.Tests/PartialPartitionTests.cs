using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

/// <summary>
/// A cut between just the leader and the node holding the group (both still reach the third node). Without
/// fencing, a leader that judged the holder lost would start the group a second time while the holder, in
/// contact with the majority, keeps running it (the fault campaign found this with packet loss on the leader).
/// </summary>
public sealed class PartialPartitionTests(ITestOutputHelper output)
{
    [Fact]
    public void A_cut_between_only_the_leader_and_the_holder_moves_nothing_and_starts_no_second_copy()
    {
        var within = TimeSpan.FromSeconds(60);
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        Scenario.Form(bed, within);
        Scenario.PlaceGroup(bed, onLeader: false, within);
        var (before, holder) = bed.WaitStable(Scenario.Group, within);
        var leader = before.Leader!;
        Assert.NotEqual(leader, holder);
        var third = bed.Names.Single(n => n != leader && n != holder);
        var eventsBefore = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel).Count;

        var cutAt = Testbed.Testbed.PreciseNow();
        bed.Partition(leader, [holder]);
        // Ten times the loss threshold (400 ms): long enough for a leader that judges alone to move the group.
        Thread.Sleep(TimeSpan.FromSeconds(4));
        var during = bed.Status(third, 1000);
        bed.Heal(leader);
        var (_, after) = bed.WaitStable(Scenario.Group, within);
        foreach (var n in bed.Names)
            foreach (var line in File.ReadLines(bed.LogFile(n)).Where(l => l.Contains(" reach", StringComparison.Ordinal) || l.Contains("is lost", StringComparison.Ordinal) || l.Contains("leading in", StringComparison.Ordinal) || l.Contains("answers this leader", StringComparison.Ordinal)))
                output.WriteLine(line);

        Assert.True(bed.DoubleActivity().Count == 0, $"double activity: {string.Join("; ", bed.DoubleActivity())}\n{bed.Diagnostics()}");
        var since = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel).Skip(eventsBefore).ToList();
        Assert.True(since.Count == 0, $"the group was stopped or started during the cut: {string.Join("; ", since.Select(e => $"{e.Time - cutAt:0.000} s {e.Node} {e.Kind} {e.Resource}"))}\n{bed.Diagnostics()}");
        Assert.Equal(holder, after);
        // The cluster kept the holder online throughout (the third node's view during the cut).
        Assert.True(during is not null && during.Nodes.Single(n => n.Name == holder).Online, $"{holder} was not online during the cut\n{bed.Diagnostics()}");
        // A leader that stayed in office says why it did not judge the holder lost.
        var leaderLog = File.ReadAllText(bed.LogFile(leader));
        var stillLeading = during?.Leader == leader;
        if (stillLeading)
            Assert.Contains($"node {holder} does not answer this leader, but {third} reaches it", leaderLog);
    }
}
