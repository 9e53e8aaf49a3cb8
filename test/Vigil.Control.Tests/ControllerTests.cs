using Vigil.Control;

namespace Vigil.Control.Tests;

public class ControllerTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static int _n;
    private static string Rid() => $"c{Interlocked.Increment(ref _n)}";

    private static string Config(bool fencing) => $"""
        <configuration><crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="{(fencing ? "true" : "false")}"/></cluster_property_set></crm_config>
        <nodes/><resources>{(fencing ? "<primitive id=\"f\" class=\"stonith\" type=\"fence_dummy\"/>" : "")}<primitive id="d" class="ocf" provider="heartbeat" type="Dummy"/></resources>
        <constraints><rsc_location id="l" rsc="d" node="n1" score="100"/></constraints></configuration>
        """;

    private static RecordOperationCommand Op(string node, string task, int rc, int callId, long term, int target = 0) =>
        new(node, "d", "ocf", "heartbeat", "Dummy", task, 0, rc, 0, target) { RequestId = Rid(), CallId = callId, Term = term, AtUnixSeconds = 10 };

    /// <summary>Three online nodes, d probed everywhere in term 1 and running on n1.</summary>
    private static ClusterState Running(bool fencing)
    {
        var s = ClusterState.Empty.Apply(new ConfigureCommand(Config(fencing)) { RequestId = Rid() });
        foreach (var n in new[] { "n1", "n2", "n3" })
            s = s.Apply(new NodeMembershipCommand(n, true) { RequestId = Rid() }).Apply(Op(n, "monitor", 7, 1, 1, target: 7));
        return s.Apply(Op("n1", "start", 0, 2, 1));
    }

    [Fact]
    public void A_lost_node_is_fenced_before_its_resources_start_elsewhere()
    {
        var s = Running(fencing: true).Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        var plan = Controller.Plan(s, 1, new HashSet<string>(), T0);
        Assert.Equal("n1", Assert.Single(plan.Fencing).Target);
        Assert.DoesNotContain(plan.Actions, a => a.Action.Task == "start" && a.Action.Resource == "d");
        s = s.Apply(new FenceResultCommand("n1", "reboot", true, "n2", "controller") { RequestId = Rid() });
        Assert.Empty(s.Nodes.Single(n => n.Id == "n1").Resources);
        plan = Controller.Plan(s, 1, new HashSet<string>(), T0);
        Assert.Empty(plan.Fencing);
        Assert.Contains(plan.Actions, a => a.Action.Task == "start" && a.Action.Resource == "d");
    }

    [Fact]
    public void A_node_that_asked_to_shut_down_moves_its_resources_away_and_then_leaves_clean()
    {
        var s = Running(fencing: true).Apply(new SetNodeAttributeCommand("n1", ClusterState.ShutdownAttribute, "1767225600", Transient: true) { RequestId = Rid() });
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        // Still running there: the scheduler stops it, and the node is not recorded as down yet.
        Assert.Empty(c.CompletedShutdowns(s, 1, new HashSet<string>()));
        var plan = Controller.Plan(s, 1, new HashSet<string>(), T0);
        Assert.Contains(plan.Actions, a => (a.Action.Task, a.Action.Node) == ("stop", "n1"));
        s = s.Apply(Op("n1", "stop", 0, 3, 1));
        // An action still in flight to it holds the record back too.
        Assert.Empty(c.CompletedShutdowns(s, 1, new HashSet<string> { "d|monitor|0|n1" }));
        var done = Assert.Single(c.CompletedShutdowns(s, 1, new HashSet<string>()));
        Assert.Equal(("n1", true, "down"), (done.Command.Node, done.Command.Online, done.Command.Expected));
        s = s.Apply(done.Command);
        Assert.Empty(c.CompletedShutdowns(s, 1, new HashSet<string>()));
        // When it then leaves, it is gone, not lost: not unclean, and nothing fences it.
        s = s.Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        var n1 = s.Nodes.Single(n => n.Id == "n1");
        Assert.False(Activity.IsUnclean(n1));
        Assert.Empty(Controller.Plan(s, 1, new HashSet<string>(), T0).Fencing);
        // Back with a new boot it is an ordinary member again, without the request.
        s = s.Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "next" });
        n1 = s.Nodes.Single(n => n.Id == "n1");
        Assert.Equal("member", n1.Expected);
        Assert.False(ClusterState.ShutdownRequested(n1));
    }

    [Fact]
    public void A_cleanly_departed_nodes_history_is_erased_and_its_late_reports_are_dropped()
    {
        // Seed 735 of the simulator's --clean-stops: a monitor failure reported just before the node left was recorded
        // after the node's expected-down record; on the offline node it stood for a resource to stop there, which only
        // fencing could do.
        var s = Running(fencing: true).Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "b1" })
            .Apply(Op("n1", "stop", 0, 3, 1) with { Boot = "b1" })
            .Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Expected = "down" })
            .Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10_000, 7, 0, 0) { RequestId = Rid(), CallId = 4, Term = 1, AtUnixSeconds = 11, Boot = "b1" })
            .Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        Assert.Empty(s.Nodes.Single(n => n.Id == "n1").Resources);
        Assert.Empty(Controller.Plan(s, 1, new HashSet<string>(), T0).Fencing);
        // A report of that boot arriving after it left is dropped; a lost node's (not shut down) is kept.
        var late = new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10_000, 7, 0, 0) { RequestId = Rid(), CallId = 5, Term = 1, AtUnixSeconds = 12, Boot = "b1" };
        Assert.Empty(s.Apply(late).Nodes.Single(n => n.Id == "n1").Resources);
        var lost = Running(fencing: true).Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "b1" })
            .Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        Assert.NotEmpty(lost.Nodes.Single(n => n.Id == "n1").Resources);
        Assert.Contains(lost.Apply(late with { RequestId = Rid() }).Nodes.Single(n => n.Id == "n1").Resources.Single().Ops, o => o.CallId == 5);
    }

    [Theory]
    [InlineData(1, 2)]  // a probe that timed out: its state is unknown
    [InlineData(7, 0)]  // the recurring monitor found it stopped (it died on its own)
    public void A_node_shuts_down_only_after_a_failure_recorded_last_there_was_stopped(int rc, int opStatus)
    {
        // Found by the simulator with clean stops (seeds 25, 735, 889 of --clean-stops): Activity does not count such a
        // resource as running, the scheduler does (it stops it there first), so the node left too early and was fenced.
        var s = Running(fencing: true).Apply(new SetNodeAttributeCommand("n1", ClusterState.ShutdownAttribute, "1767225600", Transient: true) { RequestId = Rid() });
        var failure = rc == 7
            ? new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10_000, 7, 0, 0) { RequestId = Rid(), CallId = 3, Term = 1, AtUnixSeconds = 10 }
            : new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 0, rc, opStatus, 7) { RequestId = Rid(), CallId = 3, Term = 1, AtUnixSeconds = 10 };
        s = s.Apply(failure);
        Assert.DoesNotContain(Activity.Active(s).GetValueOrDefault("d") ?? [], x => x.Node == "n1");
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        Assert.Empty(c.CompletedShutdowns(s, 1, new HashSet<string>()));
        Assert.Contains(Controller.Plan(s, 1, new HashSet<string>(), T0).Actions, a => (a.Action.Task, a.Action.Resource, a.Action.Node) == ("stop", "d", "n1"));
        // Once stopped there, the shutdown completes and the departure fences nothing.
        s = s.Apply(Op("n1", "stop", 0, 4, 1));
        var done = Assert.Single(c.CompletedShutdowns(s, 1, new HashSet<string>()));
        s = s.Apply(done.Command).Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        Assert.Empty(Controller.Plan(s, 1, new HashSet<string>(), T0).Fencing);
    }

    [Fact]
    public void A_shutdown_record_counts_only_for_the_boot_it_was_made_for()
    {
        // Found by the simulator with clean stops (seeds 5, 45, 67 of --clean-stops --bug exit-on-stale-record): a daemon
        // started again still read its previous boot's record and left at once as cleanly stopped, and was fenced.
        var s = Running(fencing: true).Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "b1" });
        Assert.False(ClusterState.ShutdownRecorded(s.Nodes.Single(n => n.Id == "n1"), "b1"));
        s = s.Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "b1", Expected = "down" });
        var n1 = s.Nodes.Single(n => n.Id == "n1");
        Assert.True(ClusterState.ShutdownRecorded(n1, "b1"));
        Assert.False(ClusterState.ShutdownRecorded(n1, "b2"));
        // Gone, then back with a new boot: an ordinary member, whatever boot asks.
        s = s.Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        Assert.False(ClusterState.ShutdownRecorded(s.Nodes.Single(n => n.Id == "n1"), "b1"));
        s = s.Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "b2" });
        Assert.False(ClusterState.ShutdownRecorded(s.Nodes.Single(n => n.Id == "n1"), "b2"));
    }

    [Fact]
    public void A_node_that_left_without_shutting_down_is_still_fenced()
    {
        // The counterpart: the same departure without the shutdown record is a loss.
        var s = Running(fencing: true).Apply(Op("n1", "stop", 0, 3, 1)).Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        Assert.True(Activity.IsUnclean(s.Nodes.Single(n => n.Id == "n1")));
        Assert.Equal("n1", Assert.Single(Controller.Plan(s, 1, new HashSet<string>(), T0).Fencing).Target);
    }

    [Fact]
    public void A_new_leader_probes_what_it_did_not_see_before_it_acts()
    {
        var s = Running(fencing: false);
        var plan = Controller.Plan(s, 2, new HashSet<string>(), T0);
        Assert.Equal(3, plan.Actions.Count);
        Assert.All(plan.Actions, a => Assert.Equal(("monitor", 0L), (a.Action.Task, a.Action.IntervalMs)));
        Assert.DoesNotContain(Controller.Plan(s, 1, new HashSet<string>(), T0).Actions, a => a.Action.IntervalMs == 0 && a.Action.Task == "monitor");
        // Recorded under term 1: each node's executor history may answer. A node with nothing recorded runs the agent.
        Assert.All(plan.Actions, a => Assert.True(a.Action.FromHistory, $"{a.Action.Key} may be answered from history"));
        var joined = s.Apply(new NodeMembershipCommand("n4", true) { RequestId = Rid() });
        var probes = Controller.MissingProbes(joined, 2);
        Assert.False(Assert.Single(probes, p => p.Node == "n4").FromHistory);
        Assert.Equal(3, probes.Count(p => p.FromHistory));
    }

    [Fact]
    public void A_new_leader_fences_a_lost_node_while_it_probes_the_others_but_starts_nothing()
    {
        // Term 2: nothing was probed under it, and n1 (which ran d) is lost.
        var s = Running(fencing: true).Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        var plan = Controller.Plan(s, 2, new HashSet<string>(), T0);
        Assert.Equal("n1", Assert.Single(plan.Fencing).Target);
        Assert.Equal(["n2", "n3"], plan.Actions.Select(a => a.Action.Node).Order(StringComparer.Ordinal));
        Assert.All(plan.Actions, a => Assert.Equal(("d", "monitor", 0L), (a.Action.Resource, a.Action.Task, a.Action.IntervalMs)));
    }

    [Fact]
    public void Nothing_more_is_done_to_a_resource_with_an_action_in_flight()
    {
        var s = Running(fencing: false).Apply(new NodeMembershipCommand("n1", false) { RequestId = Rid() });
        Assert.Contains(Controller.Plan(s, 1, new HashSet<string>(), T0).Actions, a => a.Action.Task == "start");
        var busy = new HashSet<string> { "d|monitor|0|n2" };
        Assert.DoesNotContain(Controller.Plan(s, 1, busy, T0).Actions, a => a.Action.Resource == "d");
    }

    [Fact]
    public void An_unanswered_action_makes_the_controller_probe_first()
    {
        var s = Running(fencing: false);
        var c = new Controller(["n1", "n2", "n3"], "n1", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        c.Unanswered(new PlannedAction(5, "start", "d", "n2", 0));
        var plan = c.PlanIfDue(s, 1, new HashSet<string>(), false, T0)!;
        var probe = Assert.Single(plan.Actions);
        Assert.Equal(("monitor", "n2", 0L), (probe.Action.Task, probe.Action.Node, probe.Action.IntervalMs));
        // What this leader sent may still run there: the agent is asked, not the history.
        Assert.False(probe.Action.FromHistory);
    }

    [Fact]
    public void The_controller_is_settled_only_once_its_transition_is_done_and_nothing_is_uncertain()
    {
        // The daemon's DC polls slowly only while settled: a transition still running must keep it busy.
        var s = ClusterState.Empty.Apply(new ConfigureCommand(Config(false)) { RequestId = Rid() });
        foreach (var n in new[] { "n1", "n2", "n3" }) s = s.Apply(new NodeMembershipCommand(n, true) { RequestId = Rid() });
        var c = new Controller(["n1", "n2", "n3"], "n1", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        Assert.True(c.Settled);
        var rounds = 0;
        var callId = 10;
        for (var plan = c.PlanIfDue(s, 1, new HashSet<string>(), false, T0); plan is { Actions.Count: > 0 }; plan = c.PlanIfDue(s, 1, new HashSet<string>(), false, T0))
        {
            Assert.False(c.Settled);
            Assert.True(++rounds < 10, "the transition never ends");
            foreach (var a in plan.Actions)
            {
                var rc = a.TargetRc ?? 0;
                s = s.Apply(new RecordOperationCommand(a.Action.Node, "d", "ocf", "heartbeat", "Dummy", a.Action.Task, a.Action.IntervalMs, rc, 0, rc)
                    { RequestId = Rid(), CallId = ++callId, Term = 1, AtUnixSeconds = 10 });
                c.Recorded(a.Action, expected: true);
            }
        }
        Assert.True(rounds >= 2, $"probes, then the start: {rounds} round(s)");
        Assert.Contains(Activity.Active(s)["d"], x => x.Node == "n1");
        Assert.True(c.Settled);
        c.Unanswered(new PlannedAction(5, "stop", "d", "n1", 0));
        Assert.False(c.Settled);
    }

    [Fact]
    public void After_a_settled_wait_a_member_that_stopped_answering_gets_its_whole_grace()
    {
        var s = Running(fencing: false);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        Assert.Empty(c.ReconcileMembership(s, 1, _ => true, T0));
        // The DC waited a second, settled, and was woken because n1 stopped answering.
        var woke = T0.AddSeconds(1);
        c.SeenAll(woke);
        Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", woke));
        Assert.Equal(woke, c.LastSeen("n1"));
        Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", woke.AddMilliseconds(300)));
        var lost = Assert.Single(c.ReconcileMembership(s, 1, n => n != "n1", woke.AddMilliseconds(500)));
        Assert.Equal(("n1", false), (lost.Command.Node, lost.Command.Online));
    }

    [Fact]
    public void A_late_older_result_does_not_overwrite_a_newer_one()
    {
        var s = Running(fencing: false);
        var late = s.Apply(Op("n1", "stop", 0, 1, 1));
        Assert.Equal("start", late.Nodes.Single(n => n.Id == "n1").Resources.Single().Ops.Single(o => o.Id == "d_last_0").Operation);
        Assert.Contains(Activity.Active(late)["d"], x => x.Node == "n1");
    }

    [Fact]
    public void A_node_back_with_a_new_boot_id_loses_its_old_history()
    {
        var s = Running(fencing: false).Apply(new NodeMembershipCommand("n1", true) { RequestId = Rid(), Boot = "a" });
        Assert.NotEmpty(s.Nodes.Single(n => n.Id == "n1").Resources);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        var change = Assert.Single(c.ReconcileMembership(s, 1, _ => true, T0, n => n == "n1" ? "b" : null));
        s = s.Apply(change.Command);
        Assert.Empty(s.Nodes.Single(n => n.Id == "n1").Resources);
        Assert.Empty(c.ReconcileMembership(s, 1, _ => true, T0, n => n == "n1" ? "b" : null));
    }

    [Fact]
    public void A_new_leader_counts_the_silence_that_elected_it_towards_the_former_leaders_loss_but_not_its_lease()
    {
        var s = Running(fencing: false);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(2, T0, formerLeader: "n1", formerLeaderSilent: TimeSpan.FromMilliseconds(300));
        Assert.Empty(c.ReconcileMembership(s, 2, n => n != "n1", T0.AddMilliseconds(99)));
        var lost = Assert.Single(c.ReconcileMembership(s, 2, n => n != "n1", T0.AddMilliseconds(101)));
        Assert.Equal("n1", lost.Command.Node);
        Assert.Equal(T0, c.LastSeen("n1"));   // the lease still counts from the election
        // Another member gets the full threshold; a former leader that answers is not lost.
        var d = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        d.Lead(2, T0, formerLeader: "n1", formerLeaderSilent: TimeSpan.FromMilliseconds(300));
        Assert.Empty(d.ReconcileMembership(s, 2, n => n != "n3", T0.AddMilliseconds(399)));
        Assert.Empty(d.ReconcileMembership(s, 2, _ => true, T0.AddMilliseconds(50)));
        Assert.Empty(d.ReconcileMembership(s, 2, n => n != "n1", T0.AddMilliseconds(449)));   // seen at 50 ms: 400 ms from then
    }

    [Fact]
    public void The_lease_of_the_leader_succeeded_directly_counts_from_before_the_election_until_it_is_seen()
    {
        var s = Running(fencing: false);
        // Its own allowance, not the one for members that stopped answering in this term.
        var earlier = TimeSpan.FromMilliseconds(700);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(400), earlier);
        c.Lead(3, T0, "n1", TimeSpan.FromMilliseconds(300), formerLeaderTerm: 2);
        Assert.Equal(T0 - earlier, c.LeaseOrigin("n1"));
        Assert.StartsWith("700 ms before this leader's election (n1 led the term before", c.LeaseCount("n1")!.Value.Basis);
        Assert.Equal(T0, c.LeaseOrigin("n3"));   // only the former leader
        Assert.Equal("when this leader last saw it", c.LeaseCount("n3")!.Value.Basis);
        Assert.Equal(T0, c.LastSeen("n1"));      // the loss is judged as before
        // Unreached, it stays so; once seen (directly here), its lease counts from that sighting.
        c.ReconcileMembership(s, 3, n => n != "n1", T0.AddMilliseconds(50));
        Assert.Equal(T0 - earlier, c.LeaseOrigin("n1"));
        c.ReconcileMembership(s, 3, _ => true, T0.AddMilliseconds(60));
        Assert.Equal(T0.AddMilliseconds(60), c.LeaseOrigin("n1"));

        // A term in between (a leader this node may not know of), or an unknown term: from the election.
        var d = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(400), earlier);
        d.Lead(4, T0, "n1", TimeSpan.FromMilliseconds(300), formerLeaderTerm: 2);
        Assert.Equal(T0, d.LeaseOrigin("n1"));
        var e = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(400), earlier);
        e.Lead(3, T0, "n1", TimeSpan.FromMilliseconds(300));   // no term known
        Assert.Equal(T0, e.LeaseOrigin("n1"));
        // Without the election allowance (zero), the former leader counts from the election.
        var f = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400), TimeSpan.FromMilliseconds(400));
        f.Lead(3, T0, "n1", TimeSpan.FromMilliseconds(300), formerLeaderTerm: 2);
        Assert.Equal(T0, f.LeaseOrigin("n1"));
        // Leading again later: the earlier leadership's allowance is gone.
        c.Follow();
        c.Lead(5, T0.AddSeconds(5));
        Assert.Equal(T0.AddSeconds(5), c.LeaseOrigin("n1"));
    }

    [Fact]
    public void A_member_sighted_in_this_term_has_its_lease_counted_from_before_it_stopped_answering()
    {
        var s = Running(fencing: false);
        var before = TimeSpan.FromMilliseconds(400);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400), before);
        c.Lead(1, T0);
        var sighted = T0.AddSeconds(1);
        Assert.Empty(c.ReconcileMembership(s, 1, _ => true, sighted));
        // Settled, woken by n1's status change: stamped at the wake, but the consensus layer says when it stopped answering.
        var ended = sighted.AddMilliseconds(600);
        var woke = ended.AddMilliseconds(5);
        c.SeenAll(woke);
        c.ReconcileMembership(s, 1, n => n != "n1", woke, contactEnded: n => n == "n1" ? ended : null);
        Assert.Equal(woke, c.LastSeen("n1"));            // judged lost as before
        Assert.Equal(ended - before, c.LeaseOrigin("n1"));
        Assert.StartsWith("400 ms before it stopped answering", c.LeaseCount("n1")!.Value.Basis);
        Assert.Equal(woke, c.LeaseOrigin("n3"));         // not said to have stopped answering
        // Seen again by another member after that: its lease counts from then.
        var later = woke.AddMilliseconds(100);
        c.ReconcileMembership(s, 1, n => n != "n1", later, indirect: n => new IndirectContact(later, null), contactEnded: n => n == "n1" ? ended : null);
        Assert.Equal(later, c.LeaseOrigin("n1"));

        // Not sighted since the term began plus the threshold (a status from before the term): no earlier count.
        var d = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400), before);
        d.Lead(2, T0);
        d.ReconcileMembership(s, 2, _ => true, T0.AddMilliseconds(100));
        d.ReconcileMembership(s, 2, n => n != "n1", T0.AddMilliseconds(500), contactEnded: n => n == "n1" ? T0.AddMilliseconds(450) : null);
        Assert.Equal(T0.AddMilliseconds(100), d.LeaseOrigin("n1"));
        // Without the allowance (zero), nothing changes.
        var e = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        e.Lead(1, T0);
        e.ReconcileMembership(s, 1, _ => true, sighted);
        e.ReconcileMembership(s, 1, n => n != "n1", woke, contactEnded: n => n == "n1" ? ended : null);
        Assert.Equal(sighted, e.LeaseOrigin("n1"));
    }

    [Fact]
    public void A_member_is_lost_only_after_the_threshold()
    {
        var s = Running(fencing: false);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(399)));
        var lost = Assert.Single(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(401)));
        Assert.Equal(("n1", false), (lost.Command.Node, lost.Command.Online));
    }

    [Fact]
    public void A_member_another_member_still_reaches_is_not_lost_but_it_rejoins_only_by_answering_the_leader()
    {
        var s = Running(fencing: false);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        IndirectContact? Reached(int ms) => new(T0.AddMilliseconds(ms), null);
        // The leader does not reach n1 for 1 s; n3 reached it 300 ms before each round.
        foreach (var ms in new[] { 200, 401, 700, 1000 })
            Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(ms), indirect: n => n == "n1" ? Reached(ms - 300) : null));
        Assert.Equal(T0.AddMilliseconds(700), c.LastSeen("n1"));
        // Once a probe asked after that finds nobody reaching it, the threshold counts from the last indirect contact.
        IndirectContact? Unreached(int askedMs) => new(T0.AddMilliseconds(700), T0.AddMilliseconds(askedMs));
        Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(1099), indirect: n => n == "n1" ? Unreached(800) : null));
        var lost = Assert.Single(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(1101), indirect: n => n == "n1" ? Unreached(800) : null));
        Assert.Equal(("n1", false), (lost.Command.Node, lost.Command.Online));
        // Recorded lost, another member's contact does not bring it back; answering the leader does.
        s = s.Apply(lost.Command);
        Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(1200), indirect: _ => Reached(1200)));
        var back = Assert.Single(c.ReconcileMembership(s, 1, _ => true, T0.AddMilliseconds(1300)));
        Assert.Equal(("n1", true), (back.Command.Node, back.Command.Online));
    }

    [Fact]
    public void A_member_is_not_judged_lost_while_the_other_members_have_not_answered_since_it_was_last_seen()
    {
        var s = Running(fencing: false);
        var c = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        c.Lead(1, T0);
        Assert.Empty(c.ReconcileMembership(s, 1, _ => true, T0.AddMilliseconds(100)));
        // No probe answered yet: held past the threshold.
        Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(600), indirect: _ => new IndirectContact(null, null)));
        // An answer to a probe asked before the last contact does not count.
        Assert.Empty(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(650), indirect: _ => new IndirectContact(null, T0.AddMilliseconds(50))));
        // One asked since: lost (the threshold passed long ago).
        Assert.Single(c.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(700), indirect: _ => new IndirectContact(null, T0.AddMilliseconds(150))));
        // Nobody to ask (null): the threshold alone decides, as before.
        var d = new Controller(["n1", "n2", "n3"], "n2", TimeSpan.FromMilliseconds(400));
        d.Lead(1, T0);
        Assert.Single(d.ReconcileMembership(s, 1, n => n != "n1", T0.AddMilliseconds(401), indirect: _ => null));
    }

    [Theory]
    [InlineData(5, 3, 5, true)]
    [InlineData(5, 3, 4, false)]
    [InlineData(2, 6, 5, false)]
    [InlineData(0, 0, 1, true)]
    public void Executors_refuse_terms_older_than_any_they_have_seen(long seen, long consensus, long request, bool admitted)
    {
        Assert.Equal(admitted, Controller.AdmitTerm(seen, consensus, request, out var next));
        Assert.Equal(Math.Max(seen, request), next);
    }
}
