using System.Diagnostics;
using System.Globalization;

namespace Vigil.SystemTests.Testbed;

/// <summary>
/// One partition of a two-node cluster with a fence device: who survived, when the other was fenced (seconds
/// after the partition), when the survivor reported running alone with the group, how long the fenced node
/// took to rejoin after it was powered on again.
/// </summary>
public sealed record FencedSplitSample(int Rep, string Holder, string? Leader, string Survivor, string Fenced, double FencedS, double GroupOnSurvivorS, double RejoinedS)
{
    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "rep {0,2}: holder {1}{2}, survivor {3} ({4}), {5} fenced after {6:0.000} s, survivor alone with the group after {7:0.000} s, {5} rejoined {8:0.00} s after power-on",
        Rep, Holder, Leader == Holder ? " (leader)" : "", Survivor, Survivor == Holder ? "the holder" : "NOT the holder", Fenced, FencedS, GroupOnSurvivorS, RejoinedS);
}

/// <summary>
/// One partition of the node holding the group from the majority with lease self-fencing: when the cut-off
/// holder's last stop was recorded and when the group's first start elsewhere came (seconds after the partition).
/// </summary>
public sealed record LeaseSplitSample(int Rep, string Holder, bool HolderWasLeader, string NewHolder, double LastStopS, double FirstStartS, bool SelfFenced, double RejoinedS)
{
    public double GapS => FirstStartS - LastStopS;

    public override string ToString() => string.Format(CultureInfo.InvariantCulture,
        "rep {0,2}: holder {1}{2} cut off; its last stop at {3:0.000} s, first start on {4} at {5:0.000} s (gap {6:0.000} s){7}; healed, settled after {8:0.00} s",
        Rep, Holder, HolderWasLeader ? " (leader)" : "", LastStopS, NewHolder, FirstStartS, GapS, SelfFenced ? "; the cut-off node SELF-FENCED (its 'last stop' is its reset)" : "", RejoinedS);
}

/// <summary>Network partitions that fencing must resolve (issue #8): the two-node death match and lease self-fencing.</summary>
public static class Splits
{
    /// <summary>
    /// Partitions the two nodes of a two-node cluster from each other (both alive, both still reachable by the
    /// power switch) and requires exactly one survivor: the other powered off by the survivor's fence, the
    /// survivor running alone with the group, and still exactly one node powered on at <paramref name="raceOver"/>
    /// after the partition (when the delayed side of the race would have fired). Then the network heals, the
    /// fenced node is powered on and the cluster must settle again.
    /// </summary>
    public static FencedSplitSample FencedPartition(Testbed bed, int rep, TimeSpan within, TimeSpan raceOver)
    {
        if (bed.Count != 2) throw new ArgumentException("a two-node partition needs a two-node testbed", nameof(bed));
        var (before, holder) = bed.WaitStable(Scenario.Group, within);
        var (a, b) = (bed.Names[0], bed.Names[1]);
        var t0 = Testbed.PreciseNow();
        bed.Partition(a, [b]);
        bed.Partition(b, [a]);
        var sw = Stopwatch.StartNew();
        string? survivor = null;
        double groupOnSurvivor = double.NaN;
        while (sw.Elapsed < within && survivor is null)
        {
            var running = bed.Running.ToList();
            if (running.Count == 0)
                throw new InvalidOperationException($"rep {rep}: both nodes were fenced: no survivor\n{bed.Diagnostics()}");
            if (running.Count == 1 && bed.Status(running[0], 500) is { } s && s.Alone is { } alone && alone.Peer != running[0]
                && Testbed.GroupNode(s, Scenario.Group) == running[0] && s.LocalActive.Contains("dummy") && s.LocalActive.Contains("vip"))
            {
                survivor = running[0];
                groupOnSurvivor = Testbed.PreciseNow() - t0;
            }
            else Thread.Sleep(50);
        }
        if (survivor is null)
            throw new TimeoutException($"rep {rep}: within {within.TotalSeconds:0} s of the partition no single node was left running alone with the group " +
                                       $"(running: {string.Join(", ", bed.Running)})\n{bed.Diagnostics()}");
        var loser = bed.Names.Single(n => n != survivor);
        // The race is over only once the delayed side could have fired too, and a request it sent before it went off was served.
        var loserOff = bed.FencedAfter(loser, t0) ?? double.NaN;
        while (Testbed.PreciseNow() - t0 < Math.Max(raceOver.TotalSeconds, double.IsNaN(loserOff) ? 0 : loserOff + 1))
        {
            if (!bed.Running.Contains(survivor))
                throw new InvalidOperationException($"rep {rep}: the survivor {survivor} was fenced too, {Testbed.PreciseNow() - t0:0.000} s after the partition: no survivor\n{bed.Diagnostics()}");
            Thread.Sleep(50);
        }
        if (bed.Status(survivor, 1000) is not { } after || Testbed.GroupNode(after, Scenario.Group) != survivor || after.Alone?.Peer != loser)
            throw new InvalidOperationException($"rep {rep}: at the end of the race the survivor {survivor} no longer runs alone with the group\n{bed.Diagnostics()}");
        var fenced = bed.FencedAfter(loser, t0)
                     ?? throw new InvalidOperationException($"rep {rep}: {loser} is off, but the power switch never recorded fencing it\n{bed.Diagnostics()}");
        bed.Heal(a);
        bed.Heal(b);
        bed.PowerOn(loser);
        var rejoin = Stopwatch.StartNew();
        bed.WaitStable(Scenario.Group, within);
        return new FencedSplitSample(rep, holder, before.Leader, survivor, loser, fenced, groupOnSurvivor, rejoin.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// Cuts the node holding the group off from all other nodes (both directions) and waits until the majority
    /// runs the group; reads from the side channel the cut-off node's last stop and the first start elsewhere.
    /// Then heals and waits until the cluster settles (a self-fenced node, whose daemon exited, is powered on again).
    /// </summary>
    public static LeaseSplitSample LeasePartition(Testbed bed, int rep, TimeSpan within)
    {
        var (before, holder) = bed.WaitStable(Scenario.Group, within);
        var others = bed.Names.Where(n => n != holder).ToList();
        var t0 = Testbed.PreciseNow();
        bed.Partition(holder, others);
        var moved = bed.WaitFor(s => Testbed.GroupNode(s, Scenario.Group) is { } g && g != holder, within, $"rep {rep}: recovery of the group on the majority", others);
        var newHolder = Testbed.GroupNode(moved, Scenario.Group)!;
        var events = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel).Where(e => e.Time >= t0).ToList();
        var firstStart = events.Where(e => e.Kind == UniquenessChecker.Start && e.Node == newHolder).Select(e => e.Time - t0).DefaultIfEmpty(double.NaN).Min();
        // The cut-off node's last stop, or its reset when it self-fenced (the testbed powers it off at once); NaN when
        // neither was recorded (its stop failed and it did not reset): the checker then finds the overlap.
        var lastStop = events.Where(e => e.Kind is UniquenessChecker.Stop or UniquenessChecker.PowerOff && e.Node == holder)
            .Select(e => e.Time - t0).DefaultIfEmpty(double.NaN).Max();
        var reset = bed.WasReset(holder);
        var selfFenced = reset || bed.DaemonExited(holder);
        bed.Heal(holder);
        if (selfFenced)
        {
            // It boots again, as after a reboot; a daemon that exited without its reset leaves the node up: power it off first.
            if (!reset) bed.PowerOff(holder);
            bed.PowerOn(holder);
        }
        var heal = Stopwatch.StartNew();
        bed.WaitStable(Scenario.Group, within);
        return new LeaseSplitSample(rep, holder, before.Leader == holder, newHolder, lastStop, firstStart, selfFenced, heal.Elapsed.TotalSeconds);
    }
}
