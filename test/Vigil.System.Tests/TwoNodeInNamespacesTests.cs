using System.Globalization;
using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

/// <summary>
/// Two-node clusters without a witness in network namespaces (issues #7 and #8): the fence race of a partition,
/// and fault campaigns as seed 001 configures a cluster (fencing off, no-quorum-policy=ignore) and with fencing.
/// </summary>
public sealed class TwoNodeInNamespacesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(45);

    /// <summary>Replay a failing campaign with VTB_SEED=N.</summary>
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("VTB_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 7;

    [Fact]
    public void A_partition_of_two_nodes_with_a_fence_device_leaves_exactly_one_survivor_running_the_group_20_times()
    {
        using var bed = new Testbed.Testbed(2, output.WriteLine);
        // priority-fencing-delay 4 s (default 5 s): each side's wait counts from when it missed its peer, and the two
        // waits are at least half the delay (2 s) apart. The race is judged 6 s after the partition, 1 s after the
        // latest the delayed side could fire (1 s quorum-loss grace + 4 s), and at least 1 s after the loser went off.
        Scenario.Form(bed, TimeSpan.FromSeconds(60), extra => Scenario.Configuration(extra, "agent", bed.FenceDevice, "priority-fencing-delay=4s"), fencer: true);
        var samples = new List<FencedSplitSample>();
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (int rep = 1; rep <= 20; rep++)
        {
            var s = Splits.FencedPartition(bed, rep, Bound, raceOver: TimeSpan.FromSeconds(1 + 4 + 1));
            output.WriteLine(s.ToString());
            samples.Add(s);
        }
        output.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "20 partitions in {0:0} s: survivor was the holder in {1}/20; fenced after median {2:0.000} s (max {3:0.000}); survivor alone with the group after median {4:0.000} s; rejoin median {5:0.00} s",
            started.Elapsed.TotalSeconds, samples.Count(s => s.Survivor == s.Holder), Scenario.Median(samples.Select(s => s.FencedS)), samples.Max(s => s.FencedS),
            Scenario.Median(samples.Select(s => s.GroupOnSurvivorS)), Scenario.Median(samples.Select(s => s.RejoinedS))));
        var doubles = bed.DoubleActivity();
        Assert.True(doubles.Count == 0, "double activity: " + string.Join("; ", doubles) + "\n" + bed.Diagnostics());
        // One fencing per partition, never two: the side channel has exactly 20 'fenced' lines, each of that rep's loser.
        var fenced = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel).Where(e => e.Kind == UniquenessChecker.Fenced).Select(e => e.Node).ToList();
        Assert.Equal(samples.Select(s => s.Fenced), fenced);
    }

    /// <summary>Forms the two-node cluster (seed 001, or with fence_vtb) and runs one schedule of each two-node fault kind.</summary>
    private (List<ScheduleResult> Results, List<DoubleActivity> Doubles) Campaign(Testbed.Testbed bed, bool fencing)
    {
        var configuration = FaultCampaign.TwoNodeConfiguration(bed, fencing);
        Scenario.Form(bed, TimeSpan.FromSeconds(60), configuration, fencer: fencing);
        var results = FaultCampaign.Run(bed, FaultCampaign.TwoNodeKinds.Count, Seed, FaultCampaign.TwoNodeKinds, output.WriteLine, configuration);
        Assert.Equal(FaultCampaign.TwoNodeKinds.Count, results.Count);
        return (results, bed.DoubleActivity());
    }

    [Fact]
    public void Seed_001_two_node_campaign_reports_its_double_activity_and_converges_after_every_fault()
    {
        using var bed = new Testbed.Testbed(2, output.WriteLine);
        // FaultCampaign.Run requires after every fault: both nodes online, one copy of the group, the IP answering from it.
        var (results, doubles) = Campaign(bed, fencing: false);
        foreach (var d in doubles) output.WriteLine($"double activity (expected without fencing): {d}");
        var (count, total, max, open) = FaultCampaign.Windows(doubles);
        output.WriteLine(string.Format(CultureInfo.InvariantCulture, "seed {0}: {1} double-activity windows, {2:0.000} s in all, longest {3:0.000} s, still open {4}",
            Seed, count, total, max, open));
        // Split brain is allowed here, but not at the end: every duplicate was stopped once the nodes met again.
        Assert.True(open == 0, $"seed {Seed}: a resource is still active on both nodes after the campaign\n{bed.Diagnostics()}");
        // Honest reporting, not zero: a partition of the holder runs the group on both sides, so the checker must see that.
        Assert.Contains(doubles, d => d.Resource is "vip" or "dummy");
        Assert.Equal(FaultCampaign.TwoNodeKinds.Count, results.Select(r => r.Kind).Distinct().Count());
    }

    [Fact]
    public void The_same_two_node_campaign_with_a_fence_device_causes_no_double_activity()
    {
        using var bed = new Testbed.Testbed(2, output.WriteLine);
        var (results, doubles) = Campaign(bed, fencing: true);
        Assert.True(doubles.Count == 0, $"seed {Seed}: double activity: {string.Join("; ", doubles)}\n{bed.Diagnostics()}");
        output.WriteLine($"seed {Seed}: 0 double-activity windows; fenced in {results.Count(r => r.Fenced.Count > 0)} of {results.Count} schedules");
        // The faults really split the cluster: fencing resolved at least one of them.
        Assert.Contains(results, r => r.Fenced.Count > 0);
    }
}
