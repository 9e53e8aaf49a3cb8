using System.Globalization;
using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

public sealed class FaultCampaignTests(ITestOutputHelper output)
{
    /// <summary>Replay a failing campaign with VTB_SEED=N.</summary>
    private static int Seed => int.TryParse(Environment.GetEnvironmentVariable("VTB_SEED"), NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : 7;

    [Fact]
    public void Faults_on_nodes_not_holding_the_group_cause_no_double_activity_and_everything_comes_back()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        Scenario.Form(bed, TimeSpan.FromSeconds(60));
        var kinds = new List<FaultKind> { FaultKind.PauseOther, FaultKind.LossOther, FaultKind.PartitionOther, FaultKind.DeafOther, FaultKind.PowerLossOther };
        if (bed.HasNetem()) kinds.Add(FaultKind.DelayOther);
        else output.WriteLine("this kernel has no sch_netem: the delay fault is left out of this run (loss uses nftables)");

        var results = FaultCampaign.Run(bed, schedules: 8, Seed, kinds, output.WriteLine);

        Assert.Equal(8, results.Count);
        var doubles = bed.DoubleActivity();
        Assert.True(doubles.Count == 0, $"seed {Seed}: double activity: {string.Join("; ", doubles)}\n{bed.Diagnostics()}");
        // The campaign really injected faults: every kind came up, and changes went through.
        Assert.Equal(kinds.Count, results.Select(r => r.Kind).Distinct().Count());
        Assert.Contains(results, r => r.ConfigApplied);
    }
}
