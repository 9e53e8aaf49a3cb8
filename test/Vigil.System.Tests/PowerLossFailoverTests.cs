using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

public sealed class PowerLossFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public void Power_loss_of_the_node_running_the_group_moves_the_floating_ip_without_double_activity()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        Scenario.Form(bed, TimeSpan.FromSeconds(60));
        var samples = new List<FailoverSample>();
        for (int rep = 1; rep <= 3; rep++)
        {
            var s = Scenario.PowerLoss(bed, TimeSpan.FromSeconds(30), victimIsLeader: rep % 2 == 1);
            output.WriteLine($"rep {rep}: {s}");
            samples.Add(s);
            Assert.True(s.AnsweredFromNewHolder, $"rep {rep}: the floating IP answered, but not from the new holder {s.NewHolder}\n{bed.Diagnostics()}");
            // A generous bound for a loaded CI machine (the goal, about 1 s, is measured by bench/failover.sh).
            Assert.True(s.VipAnswersS < 10, $"rep {rep}: the floating IP was back only after {s.VipAnswersS:0.000} s\n{bed.Diagnostics()}");
        }
        output.WriteLine($"median outage {Scenario.Median(samples.Select(s => s.VipAnswersS)):0.000} s");
        var doubles = bed.DoubleActivity();
        Assert.True(doubles.Count == 0, "double activity: " + string.Join("; ", doubles) + "\n" + bed.Diagnostics());
        // The side channel saw every power loss and a start of both resources on each new holder after it.
        var events = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel);
        Assert.Equal(3, events.Count(e => e.Kind == UniquenessChecker.PowerOff));
        foreach (var s in samples)
        {
            var off = events.Last(e => e.Kind == UniquenessChecker.PowerOff && e.Node == s.Victim).Time;
            Assert.Contains(events, e => e.Kind == UniquenessChecker.Start && e.Resource == "vip" && e.Node == s.NewHolder && e.Time > off);
        }
    }
}
