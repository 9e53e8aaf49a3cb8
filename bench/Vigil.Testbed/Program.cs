using System.Globalization;
using Vigil.SystemTests.Testbed;

// vigil-testbed failover [--reps N] [--nodes 3]: the Vigil half of bench/failover.sh. Builds the testbed,
// forms the cluster, measures N power-loss failovers of the Dummy + IPaddr2 group as the client sees them,
// checks the side channel for double activity, tears everything down.
// Last line: vigil_median_s=… vigil_reps=… double_active=…
var inv = CultureInfo.InvariantCulture;
int reps = 10, nodes = 3;
for (int i = 1; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--reps" when i + 1 < args.Length && int.TryParse(args[i + 1], inv, out var r) && r is >= 1 and <= 200: reps = r; i++; break;
        case "--nodes" when i + 1 < args.Length && int.TryParse(args[i + 1], inv, out var n) && n is >= 2 and <= 9: nodes = n; i++; break;
        default:
            Console.Error.WriteLine($"vigil-testbed: unexpected argument '{args[i]}'; usage: vigil-testbed failover [--reps 1..200] [--nodes 2..9]");
            return 64;
    }
}
if (args.Length == 0 || args[0] != "failover")
{
    Console.Error.WriteLine("vigil-testbed: usage: vigil-testbed failover [--reps N] [--nodes N]");
    return 64;
}

try
{
    using var bed = new Testbed(nodes, Console.WriteLine);
    Console.WriteLine($"== vigil: {nodes} nodes in namespaces {bed.Id}-*, state and logs in {bed.Dir}");
    var holder = Scenario.Form(bed, TimeSpan.FromSeconds(90));
    Console.WriteLine($"== vigil: cluster formed, group on {holder}");
    var samples = new List<FailoverSample>();
    for (int rep = 1; rep <= reps; rep++)
    {
        var s = Scenario.PowerLoss(bed, TimeSpan.FromSeconds(60));
        samples.Add(s);
        Console.WriteLine(string.Format(inv, "vigil rep {0,2}: victim {1}{2} -> {3}: ip answers after {4:0.000} s, group reported started after {5:0.000} s{6}",
            rep, s.Victim, s.VictimWasLeader ? " (leader)" : "", s.NewHolder, s.VipAnswersS, s.GroupStartedS, s.AnsweredFromNewHolder ? "" : " (answer NOT from the new holder)"));
    }
    var doubles = bed.DoubleActivity();
    foreach (var d in doubles) Console.WriteLine($"DOUBLE ACTIVITY: {d}");
    var v = samples.Select(s => s.VipAnswersS).Order().ToList();
    Console.WriteLine(string.Format(inv, "vigil: ip answers median={0:0.000} min={1:0.000} max={2:0.000} (n={3}); group started median={4:0.000}; victim was leader in {5}/{3}",
        Scenario.Median(v), v[0], v[^1], v.Count, Scenario.Median(samples.Select(s => s.GroupStartedS)), samples.Count(s => s.VictimWasLeader)));
    Console.WriteLine(string.Format(inv, "vigil_median_s={0:0.000} vigil_reps={1} double_active={2}", Scenario.Median(v), v.Count, doubles.Count));
    return samples.All(s => s.AnsweredFromNewHolder) ? 0 : 1;
}
catch (Exception e) when (e is InvalidOperationException or TimeoutException or IOException or ArgumentException)
{
    Console.Error.WriteLine($"vigil-testbed: {e.Message}");
    return 1;
}
