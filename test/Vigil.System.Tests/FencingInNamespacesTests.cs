using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

/// <summary>Fencing on the testbed: the cluster's fence device is the testbed's power switch (fence_vtb).</summary>
public sealed class FencingInNamespacesTests(ITestOutputHelper output)
{
    [Fact]
    public void A_frozen_holder_is_powered_off_by_the_fence_device_before_its_group_starts_elsewhere()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        var holder = Scenario.Form(bed, TimeSpan.FromSeconds(60), fencing: "agent");
        var survivors = bed.Names.Where(n => n != holder).ToList();
        var t0 = Testbed.Testbed.PreciseNow();
        // Frozen, not dead: its resources (the IP, the Dummy) still exist; only fencing makes recovery safe.
        bed.Pause(holder, stop: true);
        var after = bed.WaitFor(s => Testbed.Testbed.GroupNode(s, Scenario.Group) is { } g && g != holder, TimeSpan.FromSeconds(30), "recovery after fencing", survivors);
        var newHolder = Testbed.Testbed.GroupNode(after, Scenario.Group)!;

        var fenced = bed.FencedAfter(holder, t0);
        Assert.True(fenced is not null, "the testbed's power switch was never asked to fence the frozen node\n" + bed.Diagnostics());
        var events = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel);
        var firstStart = events.Where(e => e.Kind == UniquenessChecker.Start && e.Node == newHolder && e.Time >= t0).Min(e => e.Time) - t0;
        output.WriteLine($"fenced after {fenced:0.000} s, first start on {newHolder} after {firstStart:0.000} s");
        Assert.True(firstStart > fenced, $"a resource started on {newHolder} at +{firstStart:0.000} s, before {holder} was fenced at +{fenced:0.000} s\n{bed.Diagnostics()}");
        var doubles = bed.DoubleActivity();
        Assert.True(doubles.Count == 0, "double activity: " + string.Join("; ", doubles) + "\n" + bed.Diagnostics());
        Assert.Contains(after.FencingHistory, h => h.Contains($"{holder}  reboot  done", StringComparison.Ordinal) && h.EndsWith("with fence", StringComparison.Ordinal));
    }
}
