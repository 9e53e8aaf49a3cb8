using Vigil.Control;
using Vigil.Scheduler;

namespace Vigil.Control.Tests;

/// <summary>
/// Operation digests: results are recorded with the digest the scheduler computes, so a parameter
/// change restarts a running resource once, and nothing else does.
/// </summary>
public class DigestTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private const string DigestA = "0123456789abcdef0123456789abcdef";
    private const string DigestB = "fedcba9876543210fedcba9876543210";
    private static int _n;
    private static string Rid() => $"g{Interlocked.Increment(ref _n)}";

    private static string Primitive(string id, string fake, string stickiness, string extra = "") => $"""
        <primitive id="{id}" class="ocf" provider="heartbeat" type="Dummy">
          <instance_attributes id="{id}-p"><nvpair id="{id}-p-fake" name="fake" value="{fake}"/></instance_attributes>{extra}
          <meta_attributes id="{id}-m"><nvpair id="{id}-m-s" name="resource-stickiness" value="{stickiness}"/></meta_attributes>
          <operations><op id="{id}-mon" name="monitor" interval="10s"/></operations>
        </primitive>
        """;

    /// <summary>d (in the given shape) and an unrelated primitive e; <paramref name="fake"/> is the parameter that changes.</summary>
    private static string Config(string shape, string fake, string stickiness = "100", string eFake = "1")
    {
        var d = shape switch
        {
            "primitive" => Primitive("d", fake, stickiness),
            // The group's parameter reaches its member beneath the member's own.
            "group" => $"""<group id="g"><instance_attributes id="g-p"><nvpair id="g-p-x" name="state_dir" value="{fake}"/></instance_attributes>{Primitive("d", "1", stickiness)}</group>""",
            "clone" => $"""<clone id="c">{Primitive("d", fake, stickiness)}</clone>""",
            // A node-dependent value from a rule (scored above the unconditional set).
            "rule" => Primitive("d", "1", stickiness, $"""
                <instance_attributes id="d-r" score="10"><rule id="d-r-r" score="0"><expression id="d-r-e" attribute="#uname" operation="eq" value="n1"/></rule>
                <nvpair id="d-r-x" name="fake" value="{fake}"/></instance_attributes>
                """),
            _ => throw new ArgumentException(shape),
        };
        return $"""
            <configuration><crm_config><cluster_property_set id="o"><nvpair id="o-s" name="stonith-enabled" value="false"/></cluster_property_set></crm_config>
            <nodes/><resources>{d}{Primitive("e", eFake, "100")}</resources>
            <constraints><rsc_location id="l" rsc="{shape switch { "group" => "g", "clone" => "c", _ => "d" }}" node="n1" score="50"/><rsc_location id="le" rsc="e" node="n2" score="50"/></constraints></configuration>
            """;
    }

    /// <summary>
    /// Runs the controller against an executor that does what it is told (start runs, stop stops,
    /// monitors report the truth) and records every result with the request's digest, as the daemon
    /// does, until a fresh plan has nothing to do. Returns what was executed, in order.
    /// </summary>
    private sealed class Cluster
    {
        public ClusterState State = ClusterState.Empty;
        private readonly Controller _controller = new(["n1", "n2", "n3"], "n1", TimeSpan.FromSeconds(1));
        private readonly HashSet<(string Rsc, string Node)> _running = [];
        private int _callId;

        public Cluster(string config)
        {
            _controller.Lead(1, T0);
            State = State.Apply(new ConfigureCommand(config) { RequestId = Rid() });
            foreach (var n in new[] { "n1", "n2", "n3" }) State = State.Apply(new NodeMembershipCommand(n, true) { RequestId = Rid() });
        }

        public void Configure(string config) => State = State.Apply(new ConfigureCommand(config) { RequestId = Rid() });

        public List<string> Settle()
        {
            var done = new List<string>();
            for (int round = 0; round < 100; round++)
            {
                var plan = _controller.PlanIfDue(State, 1, new HashSet<string>(), replanRequested: true, T0)!;
                Assert.Empty(plan.Fencing);
                if (plan.Actions.Count == 0) return done;
                foreach (var r in plan.Actions)
                {
                    var a = r.Action;
                    var key = (a.Resource, a.Node);
                    if (a.Task == "start") _running.Add(key);
                    if (a.Task == "stop") _running.Remove(key);
                    int rc = a.Task == "monitor" ? (_running.Contains(key) ? 0 : 7) : 0;
                    State = State.Apply(new RecordOperationCommand(a.Node, a.Resource, r.Class, r.Provider, r.Type, a.Task, a.IntervalMs, rc, 0, r.TargetRc ?? 0)
                    {
                        RequestId = Rid(), CallId = ++_callId, Term = 1, AtUnixSeconds = 10, OpDigest = r.OpDigest,
                    });
                    _controller.Recorded(a, rc == (r.TargetRc ?? 0));
                    done.Add($"{a.Task}{(a.IntervalMs > 0 ? "/" + a.IntervalMs : "")} {a.Resource} {a.Node}");
                }
            }
            Assert.Fail($"no steady state after 100 rounds (a restart loop?): {string.Join(", ", done.TakeLast(20))}");
            return done;
        }
    }

    [Theory]
    [InlineData("primitive")]
    [InlineData("group")]
    [InlineData("clone")]
    [InlineData("rule")]
    public void A_changed_parameter_restarts_the_running_resource_once_and_nothing_else(string shape)
    {
        var c = new Cluster(Config(shape, "1"));
        var first = c.Settle();
        var nodes = shape == "clone" ? new[] { "n1", "n2", "n3" } : ["n1"];
        foreach (var n in nodes) Assert.Contains($"start d {n}", first);
        // Steady: a fresh plan on the recorded state does nothing (no digest mismatch, no loop).
        Assert.Empty(c.Settle());

        c.Configure(Config(shape, "2"));
        var restart = c.Settle();
        var expected = nodes.SelectMany(n => new[] { $"stop d {n}", $"start d {n}", $"monitor/10000 d {n}" }).Order().ToList();
        Assert.Equal(expected, restart.Order().ToList());
        Assert.Empty(c.Settle());

        // A meta attribute is no parameter: nothing restarts.
        c.Configure(Config(shape, "2", stickiness: "200"));
        Assert.Empty(c.Settle());

        // A change to the unrelated resource restarts only that one.
        c.Configure(Config(shape, "2", stickiness: "200", eFake: "2"));
        Assert.Equal(["monitor/10000 e n2", "start e n2", "stop e n2"], c.Settle().Order().ToList());
    }

    [Fact]
    public void The_recorded_digest_is_the_one_the_scheduler_computes_and_the_agent_gets_its_parameters()
    {
        var c = new Cluster(Config("rule", "x"));
        c.Settle();
        var op = c.State.Nodes.Single(n => n.Id == "n1").Resources.Single(r => r.Id == "d").Ops.Single(o => o.Id == "d_last_0");
        Assert.Equal("start", op.Operation);
        var expected = OperationDigest.ForResource(c.State.Cib, T0, "d", "n1", "start", 0)!;
        Assert.Equal(expected.Digest, op.Attribute("op-digest"));
        Assert.Equal(OperationDigest.Compute([new("fake", "x")]), expected.Digest);
        Assert.Equal("x", expected.ResourceParameters["fake"]);   // the rule for n1 wins over the plain set
        Assert.Equal("1", OperationDigest.ForResource(c.State.Cib, T0, "d", "n2", "start", 0)!.ResourceParameters["fake"]);
        Assert.Null(OperationDigest.ForResource(c.State.Cib, T0, "nope", "n1", "start", 0));
        Assert.Null(OperationDigest.ForResource(c.State.Cib, T0, "d", "n9", "start", 0));
        var request = Controller.BuildRequest(new PlannedAction(1, "start", "d", "n1", 0), c.State, 1, T0)!;
        Assert.Equal(("x", expected.Digest), (request.Parameters["fake"], request.OpDigest));
    }

    [Fact]
    public void A_history_without_digests_restarts_nothing()
    {
        // A state written before digests were recorded: the resource runs with unknown parameters.
        var s = ClusterState.Empty.Apply(new ConfigureCommand(Config("primitive", "2")) { RequestId = Rid() });
        foreach (var n in new[] { "n1", "n2", "n3" })
            s = s.Apply(new NodeMembershipCommand(n, true) { RequestId = Rid() })
                .Apply(new RecordOperationCommand(n, "d", "ocf", "heartbeat", "Dummy", "monitor", 0, 7, 0, 7) { RequestId = Rid(), CallId = 1, Term = 1 })
                .Apply(new RecordOperationCommand(n, "e", "ocf", "heartbeat", "Dummy", "monitor", 0, 7, 0, 7) { RequestId = Rid(), CallId = 2, Term = 1 });
        s = s.Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = Rid(), CallId = 3, Term = 1 })
            .Apply(new RecordOperationCommand("n2", "e", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = Rid(), CallId = 4, Term = 1 });
        var plan = Controller.Plan(s, 1, new HashSet<string>(), T0);
        Assert.DoesNotContain(plan.Actions, a => a.Action.Task is "stop" or "start");
    }

    [Fact]
    public void The_state_records_the_digest_and_its_snapshot_keeps_it()
    {
        var s = ClusterState.Empty
            .Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = Rid(), CallId = 1, OpDigest = DigestA })
            .Apply(new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10000, 0, 0, 0) { RequestId = Rid(), CallId = 2, OpDigest = DigestB })
            .Apply(new RecordOperationCommand("n1", "e", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0) { RequestId = Rid(), CallId = 3 });
        static string? Digest(ClusterState st, string rsc, string id) =>
            st.Nodes.Single().Resources.Single(r => r.Id == rsc).Ops.Single(o => o.Id == id).Attribute("op-digest");
        Assert.Equal(DigestA, Digest(s, "d", "d_last_0"));
        Assert.Equal(DigestB, Digest(s, "d", "d_monitor_10000"));
        Assert.Null(Digest(s, "e", "e_last_0"));   // an entry without a digest has no attribute
        var snapshot = s.ToSnapshot();
        Assert.Contains($"op-digest=\"{DigestA}\"", snapshot);
        var back = ClusterState.FromSnapshot(snapshot);
        Assert.Equal(DigestA, Digest(back, "d", "d_last_0"));
        Assert.Equal(DigestB, Digest(back, "d", "d_monitor_10000"));
        Assert.Null(Digest(back, "e", "e_last_0"));
        Assert.Equal(snapshot, back.ToSnapshot());
    }

    /// <summary>The command encoding is persisted in every node's log: this golden text must not change.</summary>
    [Fact]
    public void The_digest_is_part_of_the_command_encoding_and_older_commands_still_decode()
    {
        var c = new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "start", 0, 0, 0, 0)
        { RequestId = "abc", AtUnixSeconds = 12, CallId = 3, Term = 2, OpDigest = DigestA };
        const string golden = """{"cmd":"record-op","node":"n1","resource":"d","class":"ocf","provider":"heartbeat","type":"Dummy","operation":"start","intervalMs":0,"rc":0,"opStatus":0,"targetRc":0,"callId":3,"execMs":0,"term":2,"opDigest":"0123456789abcdef0123456789abcdef","requestId":"abc","atUnixSeconds":12}""";
        Assert.Equal(golden, System.Text.Encoding.UTF8.GetString(c.ToBytes()));
        Assert.Equal(c, ClusterCommand.FromBytes(System.Text.Encoding.UTF8.GetBytes(golden)));
        var old = ClusterCommand.FromBytes(System.Text.Encoding.UTF8.GetBytes(golden.Replace($",\"opDigest\":\"{DigestA}\"", "")));
        Assert.Equal(c with { OpDigest = null }, Assert.IsType<RecordOperationCommand>(old));
    }
}
