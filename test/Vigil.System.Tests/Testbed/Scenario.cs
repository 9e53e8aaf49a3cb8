using System.Diagnostics;

namespace Vigil.SystemTests.Testbed;

/// <summary>One power-loss failover as measured by the system test and bench/failover.sh.</summary>
public sealed record FailoverSample(string Victim, bool VictimWasLeader, string NewHolder, double VipAnswersS, double GroupStartedS, bool AnsweredFromNewHolder);

/// <summary>The testbed's standard cluster: a group of a Dummy and the floating IP, both through the witness agents.</summary>
public static class Scenario
{
    public const string Group = "grp";

    /// <summary>
    /// Pacemaker's anchor configures the same: stickiness 100, fencing off, monitors every 10 s. With
    /// <paramref name="fencing"/> "lease", lease self-fencing (<paramref name="lease"/>); with "agent", the fence
    /// device line <paramref name="device"/>. <paramref name="properties"/> are more cluster properties
    /// ("no-quorum-policy=ignore", "priority-fencing-delay=4s").
    /// </summary>
    public static string Configuration(string extra = "", string fencing = "off", string? device = null, string properties = "", string lease = "2s") => $"""
        {fencing switch
        {
            "lease" => $"property stonith-enabled=true stonith-watchdog-timeout={lease} {properties}",
            "agent" => $"property stonith-enabled=true {properties}\n" + device,
            _ => $"property stonith-enabled=false {properties}",
        }}
        rsc_defaults resource-stickiness=100
        primitive dummy ocf:vtb:Dummy op monitor interval=10s timeout=20s
        primitive vip ocf:vtb:IPaddr2 params ip={Testbed.Vip} cidr_netmask=24 nic=eth0 op monitor interval=10s timeout=20s
        group {Group} dummy vip
        {extra}
        """;

    /// <summary>Boots all nodes, waits for a leader with every node online, loads the configuration, waits for the group.</summary>
    public static string Form(Testbed bed, TimeSpan within, string fencing = "off") => Form(bed, within, extra => Configuration(extra, fencing, bed.FenceDevice), fencing == "agent");

    /// <summary>As above with a configuration of the caller's (<paramref name="configuration"/> of extra lines); <paramref name="fencer"/> starts fence_vtb.</summary>
    public static string Form(Testbed bed, TimeSpan within, Func<string, string> configuration, bool fencer)
    {
        if (fencer) bed.StartFencer();
        bed.StartAll();
        var formed = bed.WaitFor(s => s.Leader is not null && s.Nodes.Count == bed.Count && s.Nodes.All(n => n.Online), within, "cluster formation");
        var (applied, answer) = bed.Configure(formed.Leader!, configuration(""));
        if (!applied) throw new InvalidOperationException($"the configuration was not applied: {answer}\n{bed.Diagnostics()}");
        return bed.WaitStable(Group, within).Holder;
    }

    /// <summary>
    /// Power loss of the node holding the group (link down + kill -9 of the daemon and its agents); the time
    /// until the floating IP answers the client again (the outage a user sees) and until a survivor reports
    /// the group started. The victim is powered on again and the cluster settles before this returns.
    /// </summary>
    public static FailoverSample PowerLoss(Testbed bed, TimeSpan within, bool? victimIsLeader = null)
    {
        if (victimIsLeader is { } leader) PlaceGroup(bed, leader, within);
        var (before, holder) = bed.WaitStable(Group, within);
        using var probe = new VipProbe(bed, Testbed.Vip);
        if (probe.FirstReplyAfter(Testbed.PreciseNow() - 0.1, TimeSpan.FromSeconds(10)) is null)
            throw new InvalidOperationException($"the floating IP {Testbed.Vip} does not answer the client before the fault\n{bed.Diagnostics()}");
        if (bed.ClientArp(Testbed.Vip) != bed.NodeMac(holder))
            throw new InvalidOperationException($"before the fault the floating IP answers from {bed.ClientArp(Testbed.Vip)}, not from the holder {holder} ({bed.NodeMac(holder)})\n{bed.Diagnostics()}");
        var t0 = bed.PowerOff(holder);
        var survivors = bed.Names.Where(n => n != holder).ToList();
        var sw = Stopwatch.StartNew();
        double? started = null;
        string? newHolder = null;
        while (sw.Elapsed < within && started is null)
        {
            foreach (var n in survivors)
                if (bed.Status(n, 300) is { } s && Testbed.GroupNode(s, Group) is { } g && g != holder) { started = Testbed.PreciseNow(); newHolder = g; break; }
            if (started is null) Thread.Sleep(20);
        }
        var answered = probe.FirstReplyAfter(t0, within - sw.Elapsed);
        if (started is null || answered is null || newHolder is null)
            throw new TimeoutException($"after the power loss of {holder} the group did not come back (group started: {started is not null}, IP answers: {answered is not null}) within {within.TotalSeconds:0} s\n{bed.Diagnostics()}");
        var fromNew = bed.ClientArp(Testbed.Vip) == bed.NodeMac(newHolder);
        bed.PowerOn(holder);
        bed.WaitStable(Group, within);
        return new FailoverSample(holder, before.Leader == holder, newHolder, answered.Value - t0, started.Value - t0, fromNew);
    }

    /// <summary>
    /// Puts the group on the leader or on another node, as the Pacemaker anchor alternates DC and non-DC victims
    /// (move, wait, then clear the move constraint: stickiness keeps the group there).
    /// </summary>
    public static void PlaceGroup(Testbed bed, bool onLeader, TimeSpan within)
    {
        var (status, holder) = bed.WaitStable(Group, within);
        var leader = status.Leader!;
        if ((holder == leader) == onLeader) return;
        var target = onLeader ? leader : bed.Names.First(n => n != leader);
        var (moved, answer) = bed.Operate(leader, "move", Group, target);
        if (!moved) throw new InvalidOperationException($"moving {Group} to {target} was refused: {answer}\n{bed.Diagnostics()}");
        bed.WaitFor(s => Testbed.GroupNode(s, Group) == target, within, $"{Group} moving to {target}");
        var (cleared, answer2) = bed.Operate(leader, "clear", Group);
        if (!cleared) throw new InvalidOperationException($"clearing the move of {Group} was refused: {answer2}\n{bed.Diagnostics()}");
    }

    public static double Median(IEnumerable<double> values)
    {
        var v = values.Order().ToList();
        if (v.Count == 0) return double.NaN;
        return v.Count % 2 == 1 ? v[v.Count / 2] : (v[v.Count / 2 - 1] + v[v.Count / 2]) / 2;
    }
}
