using System.Globalization;
using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

/// <summary>Lease self-fencing in network namespaces (issue #8): no fence device, stonith-watchdog-timeout.</summary>
public sealed class SelfFencingInNamespacesTests(ITestOutputHelper output)
{
    [Fact]
    public void A_holder_cut_off_from_the_majority_stops_its_group_before_the_majority_starts_it_20_times()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        // A 3 s lease: the cut-off node must have stopped 1.9 s after its last contact (lease minus 1.1 s skew) and
        // starts stopping at half of that; with 2 s (0.45 s left for the stops) an IPaddr2 stop outlasted the deadline
        // at load average 42 on this machine, and the node reset itself with the address still up.
        Scenario.Form(bed, TimeSpan.FromSeconds(60), extra => Scenario.Configuration(extra, "lease", lease: "3s"), fencer: false);
        var samples = new List<LeaseSplitSample>();
        var started = System.Diagnostics.Stopwatch.StartNew();
        for (int rep = 1; rep <= 20; rep++)
        {
            var s = Splits.LeasePartition(bed, rep, TimeSpan.FromSeconds(45));
            output.WriteLine(s.ToString());
            samples.Add(s);
            // Stop at the first overlap (the rest would only take time).
            var overlap = bed.DoubleActivity();
            Assert.True(overlap.Count == 0, $"rep {rep}: double activity: {string.Join("; ", overlap)}\n{bed.Diagnostics()}");
        }
        output.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "20 partitions in {0:0} s: cut-off holder stopped after median {1:0.000} s (max {2:0.000}), group started on the majority after median {3:0.000} s (max {4:0.000}); smallest gap {5:0.000} s; self-fenced {6}",
            started.Elapsed.TotalSeconds, Scenario.Median(samples.Select(s => s.LastStopS)), samples.Max(s => s.LastStopS),
            Scenario.Median(samples.Select(s => s.FirstStartS)), samples.Max(s => s.FirstStartS), samples.Min(s => s.GapS), samples.Count(s => s.SelfFenced)));
        var doubles = bed.DoubleActivity();
        Assert.True(doubles.Count == 0, "double activity: " + string.Join("; ", doubles) + "\n" + bed.Diagnostics());
        // Every rep really moved the group, and the cut-off node's stops came first (NaN, no stop recorded, fails too).
        Assert.All(samples, s => Assert.True(s.NewHolder != s.Holder && s.GapS > 0, s.ToString()));
    }
}
