using System.Diagnostics;
using System.Globalization;

namespace Vigil.SystemTests.Testbed;

/// <summary>The faults a schedule can inject. "Other" targets a node that does not hold the group, "Holder" the one that does.</summary>
public enum FaultKind
{
    PauseOther,      // SIGSTOP of every process of the node, then SIGCONT
    PauseHolder,
    LossOther,       // 30 % packet loss both ways on one node
    LossHolder,
    DelayOther,      // 150 ms delay on one node (tc netem; only where the kernel has it)
    DelayHolder,
    PartitionOther,  // the node's link down, then up
    PartitionHolder,
    DeafOther,       // asymmetric: the node hears no other node but they hear it
    DeafHolder,
    PowerLossOther,  // link down + kill -9 of everything on the node, then power on
}

/// <summary>What one schedule did and how the cluster came back.</summary>
/// <remarks><see cref="Fenced"/>: the nodes the cluster's fence device powered off during the schedule (powered on again by the campaign).</remarks>
public sealed record ScheduleResult(int Index, FaultKind Kind, string Target, bool TargetWasLeader, double HoldS, bool ConfigApplied, double RecoveredS, string Holder, IReadOnlyList<string> Fenced)
{
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "schedule {0}: {1} on {2}{3} for {4:0.0} s; config change {5}; settled {6:0.00} s after healing, group on {7}{8}",
        Index, Kind, Target, TargetWasLeader ? " (leader)" : "", HoldS, ConfigApplied ? "acknowledged and present on every node" : "refused (allowed)", RecoveredS, Holder,
        Fenced.Count == 0 ? "" : $"; fenced: {string.Join(", ", Fenced)}");
}

/// <summary>
/// A bounded fault campaign on a formed testbed: each schedule (the kinds in turn, targets and durations from a
/// seeded Random, so a failing seed can be replayed) injects one fault for 2–4 s while a configuration change is submitted through a healthy node,
/// heals it, and then requires within <see cref="RecoveryBound"/>: every node online, the group started on one
/// node, the floating IP answering the client from that node, and an acknowledged change present on every node.
/// Double activity is judged afterwards from the side channel (<see cref="Testbed.DoubleActivity"/>).
/// </summary>
public static class FaultCampaign
{
    public static readonly TimeSpan RecoveryBound = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The faults of a two-node campaign: with only two nodes every fault of either node splits the cluster,
    /// so the holder's faults are the interesting ones (SIGSTOP, link down, deaf, packet loss), plus the other
    /// node's link and power.
    /// </summary>
    public static readonly IReadOnlyList<FaultKind> TwoNodeKinds =
        [FaultKind.PartitionHolder, FaultKind.PauseHolder, FaultKind.DeafHolder, FaultKind.LossHolder, FaultKind.PartitionOther, FaultKind.PowerLossOther];

    /// <summary>The two-node cluster of the campaign: seed 001 (fencing off, no-quorum-policy=ignore), or fence_vtb with a 2 s death-match delay.</summary>
    public static Func<string, string> TwoNodeConfiguration(Testbed bed, bool fencing) => fencing
        ? extra => Scenario.Configuration(extra, "agent", bed.FenceDevice, "priority-fencing-delay=4s")
        : extra => Scenario.Configuration(extra, "off", properties: "no-quorum-policy=ignore");

    /// <summary>Count, summed and longest window (seconds) of double activity; open-ended windows (still active on two nodes) counted apart.</summary>
    public static (int Count, double TotalS, double MaxS, int OpenEnded) Windows(IReadOnlyList<DoubleActivity> doubles)
    {
        var closed = doubles.Where(d => !double.IsPositiveInfinity(d.To)).Select(d => d.To - d.From).ToList();
        return (doubles.Count, closed.Sum(), closed.DefaultIfEmpty(0).Max(), doubles.Count - closed.Count);
    }

    /// <param name="configuration">The cluster's configuration with extra lines (the change each schedule submits); default <see cref="Scenario.Configuration"/> without fencing.</param>
    public static List<ScheduleResult> Run(Testbed bed, int schedules, int seed, IReadOnlyList<FaultKind> kinds, Action<string> log, Func<string, string>? configuration = null)
    {
        configuration ??= extra => Scenario.Configuration(extra);
        // A node the cluster fenced (fence_vtb powers it off) is powered on again, as a reboot would, wherever the campaign waits.
        void PowerOnFenced()
        {
            foreach (var n in bed.Names.Except(bed.Running).ToList())
            {
                log($"  {n} is off (fenced by the cluster): powering it on");
                bed.Heal(n);
                bed.PowerOn(n);
            }
        }
        var rng = new Random(seed);
        // Every kind comes up in turn (in a seeded order); targets and durations are drawn per schedule.
        var order = kinds.OrderBy(_ => rng.Next()).ToList();
        var results = new List<ScheduleResult>();
        for (int k = 1; k <= schedules; k++)
        {
            var (status, holder) = bed.WaitStable(Scenario.Group, RecoveryBound, PowerOnFenced);
            var startedAt = Testbed.PreciseNow();
            var kind = order[(k - 1) % order.Count];
            var others = bed.Names.Where(n => n != holder).ToList();
            var target = kind switch
            {
                FaultKind.PauseHolder or FaultKind.PartitionHolder or FaultKind.DeafHolder or FaultKind.LossHolder or FaultKind.DelayHolder => holder,
                _ => others[rng.Next(others.Count)],
            };
            var hold = TimeSpan.FromMilliseconds(2000 + rng.Next(2001));
            var via = bed.Names.First(n => n != target);
            var value = $"{1000 + k}min";
            log($"schedule {k}/{schedules} (seed {seed}): {kind} on {target} for {hold.TotalSeconds:0.0} s; holder {holder}, leader {status.Leader}; config change via {via}");

            Inject(bed, kind, target, on: true);
            var change = Task.Run(() => bed.Configure(via, configuration($"property cluster-recheck-interval={value}")));
            Thread.Sleep(hold);
            Inject(bed, kind, target, on: false);
            var healed = Stopwatch.StartNew();
            // While waiting for the change: a request through a node fenced meanwhile (also just after healing, a fence
            // already under way) only ends with its 15 s timeout, and the fenced node is powered on in the meantime.
            var waited = Stopwatch.StartNew();
            while (!change.Wait(TimeSpan.FromMilliseconds(200)))
            {
                PowerOnFenced();
                if (waited.Elapsed > TimeSpan.FromSeconds(30))
                    throw new TimeoutException($"schedule {k} (seed {seed}): the configuration request did not return within 30 s\n{bed.Diagnostics()}");
            }
            var (applied, answer) = change.Result;
            log($"  config change {(applied ? "acknowledged" : "not acknowledged: " + answer.Trim())}");

            var (_, newHolder) = bed.WaitStable(Scenario.Group, RecoveryBound, PowerOnFenced);
            var recovered = healed.Elapsed.TotalSeconds;
            using (var probe = new VipProbe(bed, Testbed.Vip, deadlineSeconds: 30))
            {
                if (probe.FirstReplyAfter(Testbed.PreciseNow(), TimeSpan.FromSeconds(10)) is null)
                    throw new TimeoutException($"schedule {k} (seed {seed}, {kind} on {target}): the floating IP does not answer 10 s after the cluster settled\n{bed.Diagnostics()}");
            }
            if (bed.ClientArp(Testbed.Vip) != bed.NodeMac(newHolder))
                throw new InvalidOperationException($"schedule {k} (seed {seed}, {kind} on {target}): the floating IP answers from {bed.ClientArp(Testbed.Vip)}, not from the holder {newHolder} ({bed.NodeMac(newHolder)})\n{bed.Diagnostics()}");
            if (applied) RequireEverywhere(bed, $"value=\"{value}\"", $"schedule {k} (seed {seed}): the acknowledged change cluster-recheck-interval={value}");
            var fenced = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel)
                .Where(e => e.Kind == UniquenessChecker.Fenced && e.Time >= startedAt).Select(e => e.Node).ToList();
            var r = new ScheduleResult(k, kind, target, status.Leader == target, hold.TotalSeconds, applied, recovered, newHolder, fenced);
            log("  " + r);
            results.Add(r);
        }
        return results;
    }

    private static void Inject(Testbed bed, FaultKind kind, string node, bool on)
    {
        switch (kind)
        {
            case FaultKind.PauseOther or FaultKind.PauseHolder: bed.Pause(node, stop: on); break;
            case FaultKind.PartitionOther or FaultKind.PartitionHolder: bed.Link(node, up: !on); break;
            case FaultKind.PowerLossOther when on: bed.PowerOff(node); break;
            case FaultKind.PowerLossOther: bed.PowerOn(node); break;
            case FaultKind.LossOther or FaultKind.LossHolder when on: bed.Loss(node, 30); break;
            case FaultKind.DelayOther or FaultKind.DelayHolder when on: bed.Delay(node, 150); break;
            case FaultKind.DeafOther or FaultKind.DeafHolder when on: bed.DeafTo(node); break;
            default: bed.Heal(node); break;
        }
    }

    /// <summary>Every node's replicated state contains <paramref name="needle"/> within 10 s (followers may lag a little).</summary>
    private static void RequireEverywhere(Testbed bed, string needle, string what)
    {
        var sw = Stopwatch.StartNew();
        var missing = bed.Names.ToList();
        while (sw.Elapsed < TimeSpan.FromSeconds(10))
        {
            missing = bed.Names.Where(n => bed.Cib(n) is not { } cib || !cib.Contains(needle, StringComparison.Ordinal)).ToList();
            if (missing.Count == 0) return;
            Thread.Sleep(200);
        }
        throw new InvalidOperationException($"{what} is missing on {string.Join(", ", missing)}: a lost configuration change\n{bed.Diagnostics()}");
    }
}
