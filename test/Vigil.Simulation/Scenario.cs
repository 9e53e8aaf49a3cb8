using System.Globalization;
using System.Text;
using Vigil.Config;
using Vigil.Config.Xml;

namespace Vigil.Simulation;

/// <summary>Deliberate bugs the checkers must catch (the simulator's own test of itself).</summary>
public enum InjectedBug
{
    None,
    /// <summary>The fencer confirms fencing without powering the node off: recovery no longer waits for a real fence.</summary>
    SkipFencing,
    /// <summary>Executors ignore the term (fencing token) of the actions they receive.</summary>
    IgnoreTerm,
    /// <summary>Elections ignore how up to date a candidate's log is (committed entries can be lost).</summary>
    AnyLogWins,
    /// <summary>A two-node member runs alone with fencing on but records its peer as fenced without powering it off.</summary>
    AloneWithoutFencing,
    /// <summary>Two-node members running alone fence each other at once (no death-match delay): the race can leave no node running.</summary>
    NoDeathMatchDelay,
    /// <summary>
    /// The death-match delay by the favoured node alone (FencePlanner.DeathMatchDelay, as the daemon calls it today):
    /// sides whose copies disagree on who is favoured shoot at once (seed 1705).
    /// </summary>
    DeathMatchFavouredOnly,
    /// <summary>The leader judges members by its own reachability alone (no indirect probes through other members).</summary>
    NoIndirectProbes,
    /// <summary>
    /// The controller counts witnesses among the nodes that run resources (as the daemon would with every member
    /// in its node list instead of <c>NodeSettings.ResourceNodes</c>): they get membership records, so the scheduler
    /// places resources there.
    /// </summary>
    WitnessAsNode,
    /// <summary>
    /// An indirect probe that no helper answered counts as "nobody reaches it" (the daemon before 666e7b3): a leader
    /// whose questions or the helpers' answers are lost judges a member lost that the others still reach.
    /// </summary>
    UnansweredProbeCountsAsUnreached,
    /// <summary>
    /// A stopping daemon leaves, as cleanly stopped, as soon as it sees its shutdown request recorded: it does not wait
    /// for the cluster to move or stop what runs there and record it as expected down.
    /// </summary>
    ExitOnRequest,
    /// <summary>
    /// ShutdownAsync as the daemon has it since 9259559: a record of expected down counts whatever boot it was made for, so
    /// a daemon started again before the leader recorded its new boot, and asked to stop, leaves at once (unacknowledged).
    /// </summary>
    ExitOnStaleRecord,
    /// <summary>
    /// ShutdownAsync as the daemon has it since 9259559: a stopping leader leaves as soon as its record is committed, before
    /// the others learn that it is (two nodes: the peer, without the record, fences it).
    /// </summary>
    LeaderLeavesAtOnce,
}

/// <summary>What one seed simulates: cluster, configuration and fault mix. Everything derives from the seed.</summary>
public sealed record Scenario
{
    public required long Seed { get; init; }
    public required int Nodes { get; init; }
    public required bool Fencing { get; init; }
    public required string NoQuorumPolicy { get; init; }
    public required string ConfigText { get; init; }
    public required string ConfigXml { get; init; }
    /// <summary>Unique primitives (not clone instances): never active on two nodes at once.</summary>
    public required IReadOnlySet<string> Unique { get; init; }
    // fault mix (probabilities per opportunity, 0 when that fault is off for this seed)
    public double Loss { get; init; }
    public double Duplication { get; init; }
    public int MaxDelayMs { get; init; }
    /// <summary>Share of messages held up for 0.5–3 s (retransmissions, a paused process): old ones arrive after new ones.</summary>
    public double Stall { get; init; }
    public double PartitionRate { get; init; }
    public double AsymmetricShare { get; init; }
    public double CrashRate { get; init; }
    public double StartFailure { get; init; }
    public double Hang { get; init; }
    public double DeathRate { get; init; }
    public double FenceFailure { get; init; }
    public double FenceHang { get; init; }
    public int SafetyMs { get; init; } = 15_000;
    public int LivenessBoundMs { get; init; } = 40_000;
    public InjectedBug Bug { get; init; }
    /// <summary>
    /// The client also changes agent parameters (every third edit, a new parameter on one primitive
    /// after another): running resources must restart with them. Off for the CI seeds, whose runs are
    /// fixed by the seed (regression seeds replay them).
    /// </summary>
    public bool ParameterEdits { get; init; }

    /// <summary>
    /// Cuts of single links (both directions between two nodes, each still linked to the rest) per second:
    /// a leader cut from a member that the others still reach. 0 unless a run asks for them (<see cref="WithLinkCuts"/>,
    /// <c>--link-cuts</c>), so that the CI seeds and the regression seeds keep their runs.
    /// </summary>
    public double LinkCutRate { get; init; }

    /// <summary>
    /// Witness members (named w1, …) besides the <see cref="Nodes"/> that run resources: they vote in consensus and may
    /// lead, but the controller never counts them as nodes (no membership record, so the scheduler never sees them),
    /// and their executors refuse every action, as the daemon's do. 0 unless a run asks for them (<see cref="WithWitness"/>,
    /// <c>--witness</c>).
    /// </summary>
    public int Witnesses { get; init; }

    /// <summary>
    /// Clean stops of a node's daemon per second (<see cref="Simulator"/>'s CleanStops.cs): the node asks to shut down,
    /// leaves once recorded as expected down and boots again later. 0 unless a run asks for them (<see cref="WithCleanStops"/>,
    /// <c>--clean-stops</c>), so that the CI seeds and the regression seeds keep their runs.
    /// </summary>
    public double CleanStopRate { get; init; }

    /// <summary>Promotable clones and their promoted-max (invariant 1 counts promoted instances against it).</summary>
    public IReadOnlyDictionary<string, int> PromotedMax { get; init; } = new Dictionary<string, int>();

    /// <summary>
    /// This scenario with a promotable clone of a Stateful-like agent added (promoted-max 1, monitors per role,
    /// maybe colocated with the first primitive), so promotion and demotion meet the same faults. Off unless a
    /// run asks for it (<c>--promotable</c>), so that the CI seeds and the regression seeds keep their runs.
    /// </summary>
    public Scenario WithPromotable()
    {
        var rng = new Random(unchecked((int)(Seed ^ (Seed >> 32)) * 41 + 11));
        var text = new StringBuilder(ConfigText);
        text.AppendLine("primitive s1 ocf:pacemaker:Stateful op monitor interval=1s timeout=1s role=Promoted op monitor interval=2s timeout=1s role=Unpromoted " +
                        "op start timeout=2s interval=0 op stop timeout=2s interval=0 op promote timeout=2s interval=0 op demote timeout=2s interval=0");
        text.AppendLine("clone ms s1 meta promotable=true promoted-max=1");
        if (rng.NextDouble() < 0.5) text.AppendLine(CultureInfo.InvariantCulture, $"location prefer-promoted ms rule role=Promoted 20: #uname eq n{rng.Next(1, Nodes + 1)}");
        if (rng.NextDouble() < 0.4) text.AppendLine("colocation p1-with-promoted inf: p1 ms:Promoted");
        var loaded = ConfigLoader.Load(text.ToString(), $"seed {Seed} (promotable)", ConfigFormat.Crm);
        if (loaded.Value is null)
            throw new InvalidOperationException($"seed {Seed}: the promotable configuration does not load: {string.Join("; ", loaded.Diagnostics)}\n{text}");
        return this with
        {
            ConfigText = text.ToString(),
            ConfigXml = CibXmlWriter.Write(loaded.Value, includeStatus: false),
            PromotedMax = new Dictionary<string, int> { ["s1"] = 1 },
        };
    }

    /// <summary>This scenario with the opt-in variants a run asks for.</summary>
    public Scenario With(bool linkCuts, bool promotable, bool witness = false, bool cleanStops = false)
    {
        var s = linkCuts ? WithLinkCuts() : this;
        s = cleanStops ? s.WithCleanStops() : s;
        s = witness ? s.WithWitness() : s;
        return promotable ? s.WithPromotable() : s;
    }

    /// <summary>
    /// This scenario, maybe with a witness, chosen apart from the seed's other draws (so the rest of the scenario,
    /// configuration and fault mix, stays the seed's): every two-node seed gets one (the third vote, the setup
    /// 'vigil init --witness' is for), a larger cluster gets one more voter that runs nothing in about a third of the seeds.
    /// </summary>
    public Scenario WithWitness()
    {
        var rng = new Random(unchecked((int)(Seed ^ (Seed >> 32)) * 53 + 19));
        bool witness = rng.NextDouble() < (Nodes == 2 ? 1.0 : 0.35);
        return witness ? this with { Witnesses = 1 } : this;
    }

    /// <summary>This scenario with single-link cuts, their rate (0.2–0.8/s) drawn apart from the seed's other draws.</summary>
    public Scenario WithLinkCuts() => this with { LinkCutRate = 0.2 + new Random(unchecked((int)(Seed ^ (Seed >> 32)) * 23 + 5)).NextDouble() * 0.6 };

    /// <summary>This scenario with clean stops, their rate (0.1–0.4/s) drawn apart from the seed's other draws.</summary>
    public Scenario WithCleanStops() => this with { CleanStopRate = 0.1 + new Random(unchecked((int)(Seed ^ (Seed >> 32)) * 61 + 17)).NextDouble() * 0.3 };

    /// <summary>The split-brain windows this configuration permits (fencing off): counted and reported, not violations.</summary>
    public bool WindowsAllowed => !Fencing;

    /// <param name="nodes">
    /// Overrides the node count the seed chooses (everything else stays the seed's): a regression seed found
    /// before seeds chose 7 nodes replays its original scenario this way.
    /// </param>
    public static Scenario FromSeed(long seed, InjectedBug bug = InjectedBug.None, int? nodes = null)
    {
        var rng = new Random(unchecked((int)(seed ^ (seed >> 32)) * 31 + 7));
        // 2..7 nodes. The first draw stays 2..6 so that every later draw, and so every seed but the ones
        // turned into 7-node seeds, keeps its scenario: half of the 6-node seeds (decided apart from this
        // Random, which then stays in step) become 7-node seeds.
        int chosen = rng.Next(2, 7);
        if (chosen == 6 && new Random(unchecked((int)(seed ^ (seed >> 32)) * 17 + 3)).Next(2) == 1) chosen = 7;
        nodes ??= chosen;
        bool fencing = rng.NextDouble() < 0.6;
        var policy = fencing ? (rng.NextDouble() < 0.8 ? "stop" : "freeze") : new[] { "stop", "ignore", "freeze" }[rng.Next(3)];
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"property stonith-enabled={(fencing ? "true" : "false")} no-quorum-policy={policy}");
        text.AppendLine(CultureInfo.InvariantCulture, $"rsc_defaults resource-stickiness={(rng.NextDouble() < 0.5 ? 0 : 100)} migration-threshold={(rng.NextDouble() < 0.5 ? 3 : 1000000)}");
        text.AppendLine("op_defaults timeout=2s");
        if (fencing) text.AppendLine("primitive fencedev stonith:fence_sim");
        const string Ops = "op monitor interval=1s timeout=1s op start timeout=2s interval=0 op stop timeout=2s interval=0";
        var unique = new HashSet<string>(StringComparer.Ordinal);
        int primitives = rng.Next(1, 4);
        for (int i = 1; i <= primitives; i++)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"primitive p{i} ocf:heartbeat:Dummy {Ops}");
            unique.Add($"p{i}");
        }
        bool group = rng.NextDouble() < 0.6;
        if (group)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"primitive g1 ocf:heartbeat:Dummy {Ops}");
            text.AppendLine(CultureInfo.InvariantCulture, $"primitive g2 ocf:heartbeat:Dummy {Ops}");
            text.AppendLine("group g g1 g2");
            unique.Add("g1");
            unique.Add("g2");
        }
        bool clone = rng.NextDouble() < 0.4;
        if (clone)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"primitive c1 ocf:heartbeat:Dummy {Ops}");
            text.AppendLine("clone c c1");
        }
        if (rng.NextDouble() < 0.5) text.AppendLine(CultureInfo.InvariantCulture, $"location prefer-p1 p1 50: n{rng.Next(1, nodes.Value + 1)}");
        if (group && rng.NextDouble() < 0.5) text.AppendLine("colocation p1-with-g inf: p1 g");
        if (group && rng.NextDouble() < 0.5) text.AppendLine("order g-then-p1 Mandatory: g p1");
        if (clone && rng.NextDouble() < 0.5) text.AppendLine("order c-then-p1 Mandatory: c p1");
        var loaded = ConfigLoader.Load(text.ToString(), $"seed {seed}", ConfigFormat.Crm);
        if (loaded.Value is null)
            throw new InvalidOperationException($"seed {seed}: the generated configuration does not load: {string.Join("; ", loaded.Diagnostics)}\n{text}");
        double P(double on, double max) => rng.NextDouble() < on ? rng.NextDouble() * max : 0;
        return new Scenario
        {
            Seed = seed,
            Nodes = nodes.Value,
            Fencing = fencing,
            NoQuorumPolicy = policy,
            Bug = bug,
            ConfigText = text.ToString(),
            ConfigXml = CibXmlWriter.Write(loaded.Value, includeStatus: false),
            Unique = unique,
            Loss = P(0.5, 0.2),
            Duplication = P(0.5, 0.1),
            MaxDelayMs = rng.NextDouble() < 0.3 ? 300 : 30,
            Stall = P(0.5, 0.05),
            PartitionRate = P(0.8, 0.5),
            AsymmetricShare = rng.NextDouble() < 0.3 ? 0.5 : 0,
            CrashRate = P(0.6, 0.3),
            StartFailure = P(0.4, 0.2),
            Hang = P(0.3, 0.1),
            DeathRate = P(0.5, 0.3),
            FenceFailure = P(0.4, 0.5),
            FenceHang = P(0.2, 0.3),
        };
    }

    public string Describe() =>
        $"seed {Seed}: {Nodes} nodes{(Witnesses > 0 ? $" + {Witnesses} witness" : "")}, fencing {(Fencing ? "on" : "off")}, no-quorum-policy={NoQuorumPolicy}; faults: loss {Loss:0.00}, dup {Duplication:0.00}, delay ≤{MaxDelayMs} ms, stalls {Stall:0.00}, " +
        $"partitions {PartitionRate:0.00}/s (asym {AsymmetricShare:0.0}), crashes {CrashRate:0.00}/s, start failures {StartFailure:0.00}, hangs {Hang:0.00}, " +
        $"deaths {DeathRate:0.00}/s, fence failures {FenceFailure:0.00}, fence hangs {FenceHang:0.00}" + (LinkCutRate > 0 ? $", link cuts {LinkCutRate:0.00}/s" : "") + (CleanStopRate > 0 ? $", clean stops {CleanStopRate:0.00}/s" : "") + (Bug == InjectedBug.None ? "" : $"; injected bug {Bug}");
}
