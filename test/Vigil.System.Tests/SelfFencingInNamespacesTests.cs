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

    [Fact]
    public void A_cut_off_holder_whose_stop_hangs_resets_itself_before_the_majority_starts_its_group()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        // slow (the daemon's own Dummy) takes 60 s to stop. It follows the group, so the cut-off node stops it first, and
        // the floating IP is still up at the node's deadline: only the reset may end it before the majority starts it.
        // The daemon writes "b" to its reset trigger as to /proc/sysrq-trigger; the testbed reads it and powers the node off.
        const string slow = """
            primitive slow vigil:Dummy params stop_delay=60000 op stop timeout=90s
            colocation slow_with_grp inf: slow grp
            order grp_then_slow Mandatory: grp slow
            """;
        var holder = Scenario.Form(bed, TimeSpan.FromSeconds(60), _ => Scenario.Configuration(slow, "lease", lease: "3s"), fencer: false);
        bed.WaitFor(st => st.Resources.Any(r => r.Id == "slow" && r.Role == "Started" && r.Nodes.SequenceEqual([holder])), TimeSpan.FromSeconds(30), "slow with the group");
        var s = Splits.LeasePartition(bed, 1, TimeSpan.FromSeconds(45));
        output.WriteLine(s.ToString());
        Assert.True(s.SelfFenced, $"the cut-off node did not fence itself: {s}\n{bed.Diagnostics()}");
        var log = File.ReadAllText(bed.LogFile(s.Holder));
        var fenceLine = log.Split('\n').FirstOrDefault(l => l.Contains("SELF-FENCING: no quorum for", StringComparison.Ordinal));
        output.WriteLine($"{s.Holder}'s log: {fenceLine}");
        Assert.True(fenceLine is not null && fenceLine.Contains("slow", StringComparison.Ordinal) && fenceLine.Contains("not stopped within the lease", StringComparison.Ordinal)
            && fenceLine.Contains($"resetting the host through {bed.ResetTriggerFifo(s.Holder)}", StringComparison.Ordinal), $"no self-fence line naming slow in {s.Holder}'s log:\n{log}");
        Assert.Contains(bed.Journal, line => line.Contains($"{s.Holder}: reset at", StringComparison.Ordinal) && line.Contains("wrote b to its reset trigger", StringComparison.Ordinal));
        // Its address was never stopped: the reset ended it, and before the majority's first start.
        var doubles = bed.DoubleActivity();
        Assert.True(doubles.Count == 0, "double activity: " + string.Join("; ", doubles) + "\n" + bed.Diagnostics());
        Assert.True(s.NewHolder != s.Holder && s.GapS > 0, s.ToString());
        // After the reboot the node reports why it fenced itself.
        var back = bed.WaitFor(st => st.Node == s.Holder && st.Warnings.Any(w => w.StartsWith("this node self-fenced at", StringComparison.Ordinal)),
            TimeSpan.FromSeconds(30), "the self-fence in the rebooted node's status", [s.Holder]);
        Assert.Contains(back.Warnings, w => w.Contains("slow", StringComparison.Ordinal));
    }
}
