using System.Diagnostics;
using System.Globalization;
using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

/// <summary>
/// Fencing on the testbed (issue #8): the cluster's fence device is the testbed's power switch (fence_vtb), a broken
/// fence_vtb, or Debian's fence_dummy.
/// </summary>
public sealed class FencingInNamespacesTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);

    [Fact]
    public void A_frozen_holder_is_powered_off_by_the_fence_device_before_its_group_starts_elsewhere()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        var holder = Scenario.Form(bed, TimeSpan.FromSeconds(60), fencing: "agent");
        var survivors = bed.Names.Where(n => n != holder).ToList();
        var t0 = Testbed.Testbed.PreciseNow();
        // Frozen, not dead: its resources (the IP, the Dummy) still exist; only fencing makes recovery safe.
        bed.Pause(holder, stop: true);
        var after = bed.WaitFor(s => Testbed.Testbed.GroupNode(s, Scenario.Group) is { } g && g != holder, Bound, "recovery after fencing", survivors);
        var newHolder = Testbed.Testbed.GroupNode(after, Scenario.Group)!;

        var fenced = bed.FencedAfter(holder, t0);
        Assert.True(fenced is not null, "the testbed's power switch was never asked to fence the frozen node\n" + bed.Diagnostics());
        var firstStart = FirstStart(bed, newHolder, t0) - t0;
        output.WriteLine($"fenced after {fenced:0.000} s, first start on {newHolder} after {firstStart:0.000} s");
        Assert.True(firstStart > fenced, $"a resource started on {newHolder} at +{firstStart:0.000} s, before {holder} was fenced at +{fenced:0.000} s\n{bed.Diagnostics()}");
        AssertNoDoubleActivity(bed);
        Assert.Contains(after.FencingHistory, h => h.Contains($"{holder}  reboot  done", StringComparison.Ordinal) && h.EndsWith("with fence", StringComparison.Ordinal));
    }

    [Fact]
    public void A_failing_fence_device_leaves_the_group_blocked_and_visible_until_an_operator_acknowledges()
    {
        const string reason = "the power switch of the testbed is broken";
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        // The testbed's switch still serves requests: had the broken device asked it, the side channel would say 'fenced'.
        var holder = Scenario.Form(bed, TimeSpan.FromSeconds(60), extra => Scenario.Configuration(extra, "agent", bed.BrokenFenceDevice(reason)), fencer: true);
        var survivors = bed.Names.Where(n => n != holder).ToList();
        // Powered off for real, so that the operator's acknowledgement below is true; the cluster cannot know it.
        var t0 = bed.PowerOff(holder);
        var failed = bed.WaitFor(s => s.Fencing.Any(f => f.StartsWith($"fencing {holder} failed", StringComparison.Ordinal)), Bound, "the fencing failure in status", survivors);
        var failedS = Testbed.Testbed.PreciseNow() - t0;
        Assert.Contains(failed.Fencing, f => f.Contains(reason, StringComparison.Ordinal) && f.Contains($"vigil fence ack {holder}", StringComparison.Ordinal));

        // Blocked for 7 s (longer than the daemon's 5 s pause before a retry): every survivor shows the holder offline
        // and unclean with the group on it alone, and the side channel shows no start since the power-off.
        var sw = Stopwatch.StartNew();
        int polls = 0, attempts = 0;
        while (sw.Elapsed < TimeSpan.FromSeconds(7))
        {
            foreach (var n in survivors)
            {
                if (bed.Status(n, 500) is not { } s) continue;
                polls++;
                Assert.True(s.Nodes.Single(x => x.Name == holder) is { Online: false, Unclean: true }, $"{n} does not show {holder} offline and unclean\n{bed.Diagnostics()}");
                foreach (var r in s.Resources.Where(r => r.Group == Scenario.Group))
                    Assert.True(r.Nodes.SequenceEqual([holder]) && r.Unclean.SequenceEqual([holder]), $"{n} shows {r.Id} on [{string.Join(", ", r.Nodes)}] (unclean [{string.Join(", ", r.Unclean)}]) although fencing failed\n{bed.Diagnostics()}");
                attempts = Math.Max(attempts, s.FencingHistory.Count(h => h.Contains($"{holder}  reboot  FAILED", StringComparison.Ordinal)));
            }
            Thread.Sleep(200);
        }
        Assert.True(polls >= 10, $"only {polls} status answers from the survivors in 7 s\n{bed.Diagnostics()}");
        // The failing device was tried again after the pause (status promises it), not once only.
        Assert.True(attempts >= 2, $"{attempts} failed fencing attempt(s) recorded in 7 s after the first failure; a retry was due after 5 s\n{bed.Diagnostics()}");
        Assert.True(FirstStart(bed, survivors, t0) is null, "a resource started on a survivor although fencing failed\n" + bed.Diagnostics());
        foreach (var n in survivors)
        {
            var fencing = bed.Status(n)?.Fencing ?? [];
            Assert.True(fencing.Any(f => f.StartsWith($"fencing {holder} failed", StringComparison.Ordinal) && f.Contains(reason, StringComparison.Ordinal)),
                $"{n} does not say why {holder}'s resources are blocked: [{string.Join("; ", fencing)}]\n{bed.Diagnostics()}");
        }

        // What the operator sees: 'vigil status' run from the client's namespace against a survivor.
        var text = bed.Cli(survivors[0], "status");
        Assert.True(text.Out.Contains($"Node {holder}: UNCLEAN (offline)", StringComparison.Ordinal) && text.Out.Contains($"{holder} (UNCLEAN)", StringComparison.Ordinal)
                    && text.Out.Contains($"fencing {holder} failed", StringComparison.Ordinal), $"vigil status (exit {text.Code}):\n{text.Out}{text.Err}");

        // The acknowledgement, as the operator types it; then the group must start on a survivor, and only then.
        var tAck = Testbed.Testbed.PreciseNow();
        var ack = bed.Cli(survivors[1], "fence", "ack", holder, "--yes");
        Assert.True(ack.Code == 0, $"vigil fence ack exit {ack.Code}: {ack.Out}{ack.Err}");
        var after = bed.WaitFor(s => Testbed.Testbed.GroupNode(s, Scenario.Group) is { } g && g != holder, Bound, "recovery after the acknowledgement", survivors);
        var newHolder = Testbed.Testbed.GroupNode(after, Scenario.Group)!;
        var firstStart = FirstStart(bed, newHolder, t0)!.Value;
        output.WriteLine(string.Format(CultureInfo.InvariantCulture,
            "failure in status after {0:0.000} s; {1} failed attempts recorded while blocked; ack at +{2:0.000} s; first start on {3} at +{4:0.000} s ({5:0.000} s after the ack was sent)",
            failedS, attempts, tAck - t0, newHolder, firstStart - t0, firstStart - tAck));
        Assert.True(firstStart > tAck, $"a resource started on {newHolder} at +{firstStart - t0:0.000} s, before the acknowledgement at +{tAck - t0:0.000} s\n{bed.Diagnostics()}");
        Assert.Contains(after.FencingHistory, h => h.Contains($"{holder}  ack  done", StringComparison.Ordinal));
        Assert.True(bed.FencedAfter(holder, t0) is null, "the broken device powered the node off through the testbed's switch\n" + bed.Diagnostics());
        AssertNoDoubleActivity(bed);
    }

    [Fact]
    public void Debians_fence_dummy_as_the_device_fences_a_powered_off_holder_before_its_group_starts_elsewhere()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        bed.InstallFenceAgent("/usr/sbin/fence_dummy");
        // Its own status file: fence_dummy's default /tmp/fence_dummy.status would be shared with anything else on this machine.
        var device = $"""primitive fd stonith:fence_dummy params pcmk_host_list="{string.Join(' ', bed.Names)}" status_file="{Path.Combine(bed.Dir, "fence_dummy.status")}" op monitor interval=30s""";
        var holder = Scenario.Form(bed, TimeSpan.FromSeconds(60), extra => Scenario.Configuration(extra, "agent", device), fencer: false);
        var survivors = bed.Names.Where(n => n != holder).ToList();
        // fence_dummy powers nothing off, so the testbed does: the group may then move safely once fencing is recorded.
        var t0 = bed.PowerOff(holder);
        var after = bed.WaitFor(s => Testbed.Testbed.GroupNode(s, Scenario.Group) is { } g && g != holder, Bound, "recovery after fencing with fence_dummy", survivors);
        var newHolder = Testbed.Testbed.GroupNode(after, Scenario.Group)!;

        Assert.Contains(after.FencingHistory, h => h.Contains($"{holder}  reboot  done", StringComparison.Ordinal) && h.EndsWith("with fd", StringComparison.Ordinal));
        // The node that ran fence_dummy logs its success before it proposes the result; the start must come later.
        var fenced = survivors.Select(n => LoggedAt(bed, n, $": fenced {holder} with fd", t0)).Where(t => t is not null).Min();
        Assert.True(fenced is not null, $"no survivor logged fencing {holder} with fd\n{bed.Diagnostics()}");
        var firstStart = FirstStart(bed, newHolder, t0)!.Value;
        output.WriteLine($"fence_dummy done after {fenced - t0:0.000} s, first start on {newHolder} after {firstStart - t0:0.000} s");
        Assert.True(firstStart > fenced, $"a resource started on {newHolder} at +{firstStart - t0:0.000} s, before fence_dummy finished at +{fenced - t0:0.000} s\n{bed.Diagnostics()}");
        AssertNoDoubleActivity(bed);
    }

    /// <summary>Epoch seconds of the first side-channel start on any of <paramref name="nodes"/> at or after <paramref name="t0"/>, if any.</summary>
    [Fact]
    public void A_holder_stopped_cleanly_hands_its_group_over_first_and_is_not_fenced()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        var holder = Scenario.Form(bed, TimeSpan.FromSeconds(60), fencing: "agent");
        var survivors = bed.Names.Where(n => n != holder).ToList();
        var t0 = Testbed.Testbed.PreciseNow();
        var exit = bed.Terminate(holder, TimeSpan.FromSeconds(30));
        var exitedS = Testbed.Testbed.PreciseNow() - t0;
        Assert.True(exit == 0, $"{holder}'s daemon after SIGTERM: {(exit is null ? "still running after 30 s" : $"exit {exit}")}\n{bed.Diagnostics()}");
        var after = bed.WaitFor(s => Testbed.Testbed.GroupNode(s, Scenario.Group) is { } g && g != holder, Bound, "the group on a survivor", survivors);
        var newHolder = Testbed.Testbed.GroupNode(after, Scenario.Group)!;
        var firstStart = FirstStart(bed, newHolder, t0)!.Value - t0;
        var lastStop = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel)
            .Where(e => e.Kind == UniquenessChecker.Stop && e.Node == holder && e.Time >= t0).Select(e => e.Time - t0).DefaultIfEmpty(double.NaN).Max();
        output.WriteLine($"{holder} stopped cleanly: its last stop after {lastStop:0.000} s, first start on {newHolder} after {firstStart:0.000} s, daemon exited (0) after {exitedS:0.000} s");
        // The real IPaddr2 and Dummy stopped on the holder before they started elsewhere, and the holder stays up: a clean
        // stop is not a loss, so it is neither fenced nor shown unclean.
        Assert.True(lastStop < firstStart, $"last stop on {holder} at +{lastStop:0.000} s, first start on {newHolder} at +{firstStart:0.000} s\n{bed.Diagnostics()}");
        AssertNoDoubleActivity(bed);
        Thread.Sleep(2000);
        Assert.True(bed.FencedAfter(holder, t0) is null, $"{holder} was fenced after its clean stop\n{bed.Diagnostics()}");
        var later = bed.WaitFor(s => s.Nodes.Any(n => n.Name == holder && !n.Online), Bound, "the stopped node offline", survivors);
        Assert.DoesNotContain(later.Nodes, n => n.Unclean);
        Assert.Empty(later.FencingHistory);
    }

    private static double? FirstStart(Testbed.Testbed bed, IEnumerable<string> nodes, double t0) =>
        UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel)
            .Where(e => e.Kind == UniquenessChecker.Start && nodes.Contains(e.Node) && e.Time >= t0).Select(e => (double?)e.Time).Min();

    private static double? FirstStart(Testbed.Testbed bed, string node, double t0) => FirstStart(bed, [node], t0);

    /// <summary>Epoch seconds of the first line of the node's daemon log containing <paramref name="text"/> at or after <paramref name="t0"/> (the log has UTC HH:mm:ss.fff).</summary>
    private static double? LoggedAt(Testbed.Testbed bed, string node, string text, double t0)
    {
        if (!File.Exists(bed.LogFile(node))) return null;
        var day = Math.Floor(t0 / 86400) * 86400;
        foreach (var line in File.ReadLines(bed.LogFile(node)))
        {
            if (!line.Contains(text, StringComparison.Ordinal) || line.Length < 12
                || !TimeSpan.TryParseExact(line[..12], @"hh\:mm\:ss\.fff", CultureInfo.InvariantCulture, out var time)) continue;
            var at = day + time.TotalSeconds;
            if (at < t0 - 43200) at += 86400;   // the run crossed midnight UTC
            if (at >= t0) return at;
        }
        return null;
    }

    private static void AssertNoDoubleActivity(Testbed.Testbed bed)
    {
        var doubles = bed.DoubleActivity();
        Assert.True(doubles.Count == 0, "double activity: " + string.Join("; ", doubles) + "\n" + bed.Diagnostics());
    }
}
