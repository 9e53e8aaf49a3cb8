using System.Globalization;
using Vigil.SystemTests.Testbed;

// vigil-testbed failover [--reps N] [--nodes N]
//   The Vigil half of bench/failover.sh: builds the testbed, forms the cluster, measures N power-loss failovers
//   of the Dummy + IPaddr2 group as the client sees them (odd reps kill the leader, even reps another node, as the
//   Pacemaker anchor alternates DC and non-DC victims), checks the side channel for double activity, tears
//   everything down. Last line: vigil_median_s=… vigil_reps=… double_active=…
// vigil-testbed campaign [--schedules N] [--seed S] [--holder-faults] [--nodes N] [--fencing off|agent|lease]
//   A longer fault campaign than the system test's (bench/campaign.sh). --holder-faults adds SIGSTOP, partition,
//   asymmetric partition, packet loss (and delay) on the node holding the group, which without fencing or a lease can run it twice.
//   --nodes 2: a two-node cluster without a witness and the two-node faults (holder's and the other's); with --fencing off it is
//   configured as seed 001 (no-quorum-policy=ignore: a split runs the group on both nodes, reported as double activity), with
//   --fencing agent the testbed's power switch fences (priority-fencing-delay=4s) and the campaign powers fenced nodes on again.
//   Last line: schedules=… seed=… double_active=… double_active_total_s=… double_active_max_s=… fenced=… recovered_max_s=…
var inv = CultureInfo.InvariantCulture;
int reps = 10, nodes = 3, schedules = 50, seed = 1;
string fencing = "off", lease = "2s";
bool? leaseRounds = null;
bool holderFaults = false;
const string Usage = "usage: vigil-testbed failover [--reps 1..200] [--nodes 2..9] [--fencing off|agent|lease] [--lease DURATION] [--lease-rounds|--no-lease-rounds] | campaign [--schedules 1..1000] [--seed N] [--holder-faults] [--nodes 2..9] [--fencing off|agent|lease] [--lease DURATION]";
if (args.Length == 0 || args[0] is not ("failover" or "campaign"))
{
    Console.Error.WriteLine("vigil-testbed: " + Usage);
    return 64;
}
for (int i = 1; i < args.Length; i++)
{
    string? next = i + 1 < args.Length ? args[i + 1] : null;
    int value = 0;
    bool number = next is not null && int.TryParse(next, NumberStyles.Integer, inv, out value);
    switch (args[i])
    {
        case "--reps" when number && value is >= 1 and <= 200: reps = value; i++; break;
        case "--nodes" when number && value is >= 2 and <= 9: nodes = value; i++; break;
        case "--schedules" when number && value is >= 1 and <= 1000: schedules = value; i++; break;
        case "--seed" when number: seed = value; i++; break;
        case "--holder-faults": holderFaults = true; break;
        // Every node's settings ask for lease rounds (NodeSettings.LeaseRounds).
        case "--lease-rounds": leaseRounds = true; break;
        case "--no-lease-rounds": leaseRounds = false; break;
        case "--fencing" when next is "off" or "agent" or "lease": fencing = next; i++; break;
        // stonith-watchdog-timeout with --fencing lease (default 2s): between 0.5 and 60 s.
        case "--lease" when Vigil.Core.Duration.Positive(next) is { TotalSeconds: >= 0.5 and <= 60 }: lease = next!; i++; break;
        default:
            Console.Error.WriteLine($"vigil-testbed: unexpected or out-of-range argument '{args[i]}'; {Usage}");
            return 64;
    }
}

try
{
    using var bed = new Testbed(nodes, Console.WriteLine, leaseRounds);
    Console.WriteLine($"== vigil: {nodes} nodes in namespaces {bed.Id}-*, state and logs in {bed.Dir}");
    // Two nodes: seed 001's properties without fencing, a short death-match delay with it (the campaign's configuration change keeps them).
    Func<string, string> configuration = nodes == 2 && fencing != "lease"
        ? FaultCampaign.TwoNodeConfiguration(bed, fencing == "agent")
        : extra => Scenario.Configuration(extra, fencing, bed.FenceDevice, lease: lease);
    var holder = Scenario.Form(bed, TimeSpan.FromSeconds(90), configuration, fencing == "agent");
    Console.WriteLine($"== vigil: cluster formed, group on {holder}");
    return args[0] == "failover" ? Failover(bed) : Campaign(bed, configuration);
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or ArgumentException)
{
    Console.Error.WriteLine($"vigil-testbed: {e.Message}");
    return 1;
}

int Failover(Testbed bed)
{
    var samples = new List<FailoverSample>();
    for (int rep = 1; rep <= reps; rep++)
    {
        var s = Scenario.PowerLoss(bed, TimeSpan.FromSeconds(60), victimIsLeader: rep % 2 == 1);
        samples.Add(s);
        Console.WriteLine(string.Format(inv, "vigil rep {0,2}: victim {1}{2} -> {3}: ip answers after {4:0.000} s, group reported started after {5:0.000} s{6}",
            rep, s.Victim, s.VictimWasLeader ? " (leader)" : "", s.NewHolder, s.VipAnswersS, s.GroupStartedS, s.AnsweredFromNewHolder ? "" : " (answer NOT from the new holder)"));
    }
    var doubles = bed.DoubleActivity();
    foreach (var d in doubles) Console.WriteLine($"DOUBLE ACTIVITY: {d}");
    var v = samples.Select(s => s.VipAnswersS).Order().ToList();
    Console.WriteLine(string.Format(inv, "vigil: ip answers median={0:0.000} min={1:0.000} max={2:0.000} (n={3}); group started median={4:0.000}; victim was leader in {5}/{3}",
        Scenario.Median(v), v[0], v[^1], v.Count, Scenario.Median(samples.Select(s => s.GroupStartedS)), samples.Count(s => s.VictimWasLeader)));
    foreach (var leader in new[] { true, false })
    {
        var part = samples.Where(s => s.VictimWasLeader == leader).Select(s => s.VipAnswersS).ToList();
        if (part.Count > 0)
            Console.WriteLine(string.Format(inv, "vigil: victim {0}: ip answers median={1:0.000} min={2:0.000} max={3:0.000} (n={4})",
                leader ? "was the leader    " : "was not the leader", Scenario.Median(part), part.Min(), part.Max(), part.Count));
    }
    Console.WriteLine(string.Format(inv, "vigil_median_s={0:0.000} vigil_reps={1} double_active={2}", Scenario.Median(v), v.Count, doubles.Count));
    return samples.All(s => s.AnsweredFromNewHolder) ? 0 : 1;
}

int Campaign(Testbed bed, Func<string, string> configuration)
{
    var kinds = nodes == 2 ? FaultCampaign.TwoNodeKinds.ToList()
        : [FaultKind.PauseOther, FaultKind.LossOther, FaultKind.PartitionOther, FaultKind.DeafOther, FaultKind.PowerLossOther];
    if (holderFaults && nodes > 2) kinds.AddRange([FaultKind.PauseHolder, FaultKind.PartitionHolder, FaultKind.DeafHolder, FaultKind.LossHolder]);
    if (bed.HasNetem()) kinds.AddRange(holderFaults || nodes == 2 ? [FaultKind.DelayOther, FaultKind.DelayHolder] : [FaultKind.DelayOther]);
    else Console.WriteLine("this kernel has no sch_netem: no delay faults in this run");
    var results = FaultCampaign.Run(bed, schedules, seed, kinds, Console.WriteLine, configuration);
    var doubles = bed.DoubleActivity();
    foreach (var d in doubles) Console.WriteLine($"DOUBLE ACTIVITY: {d}");
    var (_, totalS, maxS, open) = FaultCampaign.Windows(doubles);
    foreach (var g in results.GroupBy(r => r.Kind).OrderBy(g => g.Key))
        Console.WriteLine(string.Format(inv, "{0,-16} n={1,3} settled after healing: median {2:0.00} s, max {3:0.00} s", g.Key, g.Count(),
            Scenario.Median(g.Select(r => r.RecoveredS)), g.Max(r => r.RecoveredS)));
    Console.WriteLine(string.Format(inv, "schedules={0} seed={1} double_active={2} double_active_total_s={3:0.000} double_active_max_s={4:0.000}{5} fenced={6} recovered_max_s={7:0.00}",
        results.Count, seed, doubles.Count, totalS, maxS, open > 0 ? $" double_active_open={open}" : "", results.Sum(r => r.Fenced.Count), results.Max(r => r.RecoveredS)));
    return doubles.Count == 0 ? 0 : 1;
}
