using Vigil.Control;

namespace Vigil.Simulation;

/// <summary>The outcome of one seed.</summary>
public sealed record RunResult(long Seed, IReadOnlyList<string> Violations, int SplitBrainWindows, int Elections, int Fences, int Actions, long SimulatedMs, bool Converged)
{
    /// <summary>Two-node seeds: how often a member ran alone, and configuration changes refused because of it.</summary>
    public int AloneRuns { get; init; }
    public int RefusedAlone { get; init; }
    /// <summary>Fence races in which the two sides' copies disagreed on which node is favoured.</summary>
    public int FavouredDisagreements { get; init; }
    public int ReplicatedDisagreements { get; init; }
    /// <summary>Nodes that run resources, and witnesses besides them.</summary>
    public int Nodes { get; init; }
    public int Witnesses { get; init; }
    /// <summary>Elections a witness won (it then led: planned, dispatched, fenced).</summary>
    public int WitnessLeaderships { get; init; }
    /// <summary>Members recorded lost while another member the leader reached still reached them.</summary>
    public int ReachableLosses { get; init; }
    /// <summary>Clean stops asked for, daemons that left acknowledged (recorded as expected down) or not, and two-node members that ran alone after their peer left cleanly.</summary>
    public int CleanStops { get; init; }
    public int CleanExits { get; init; }
    public int UnacknowledgedExits { get; init; }
    public int AloneAfterCleanStop { get; init; }
    /// <summary>Nodes still stopping cleanly when the run ended, asked more than 15 s before (a shutdown that never completes waits for shutdown-escalation, 20 min).</summary>
    public int StuckStops { get; init; }

    public bool Ok => Violations.Count == 0;
}

/// <summary>
/// N nodes in one process on simulated time: the real controller core (<see cref="Controller"/>),
/// the real scheduler and cluster state, the executor's term rule, simulated agents, fence devices,
/// network and consensus. One seeded <see cref="Random"/> drives every choice; events at the same
/// instant run in the order they were scheduled, so a seed always replays the same run.
/// </summary>
public sealed partial class Simulator
{
    public static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly Scenario _scenario;
    private readonly Random _rng;
    private readonly Random _linkRng;
    private readonly Random _probeRng;
    private readonly Random _stopRng;
    private readonly TextWriter? _trace;
    private readonly PriorityQueue<Action, (long, long)> _events = new();
    /// <summary>Every member (consensus voters): the nodes that run resources, then the witnesses.</summary>
    private readonly List<SimNode> _nodes = [];
    /// <summary>The members that run resources (NodeSettings.ResourceNodes in the daemon): every member but the witnesses.</summary>
    private readonly List<SimNode> _hosts = [];
    private readonly Dictionary<string, SimNode> _byName = new(StringComparer.Ordinal);
    private readonly List<string> _violations = [];
    private long _seq;
    private bool _liveness;
    private int _elections, _fences, _actions, _windows;

    public long Now { get; private set; }

    public Simulator(Scenario scenario, TextWriter? trace = null)
    {
        _scenario = scenario;
        _rng = new Random(unchecked((int)scenario.Seed * 7919 + 13));
        // Link cuts draw from their own Random: the seed's other choices stay as they were without them.
        _linkRng = new Random(unchecked((int)scenario.Seed * 104729 + 3));
        // So do lost probe questions and answers: a seed's other draws stay in step with and without them.
        _probeRng = new Random(unchecked((int)scenario.Seed * 15485863 + 29));
        // So do clean stops (which node, when, how soon it boots again).
        _stopRng = new Random(unchecked((int)scenario.Seed * 32452843 + 41));
        _trace = trace;
        for (int i = 1; i <= scenario.Nodes + scenario.Witnesses; i++)
        {
            var n = i <= scenario.Nodes ? new SimNode($"n{i}") : new SimNode($"w{i - scenario.Nodes}") { Witness = true };
            _nodes.Add(n);
            _byName[n.Name] = n;
            if (!n.Witness) _hosts.Add(n);
        }
    }

    private void At(long time, Action action) => _events.Enqueue(action, (Math.Max(time, Now), _seq++));

    private void Trace(string node, string message) => _trace?.WriteLine($"{Now,7} ms {node,-4} {message}");

    private void Violation(int invariant, string message)
    {
        var text = $"invariant {invariant} at {Now} ms: {message}";
        if (_violations.Count < 20) _violations.Add(text);
        _trace?.WriteLine($"{Now,7} ms VIOLATION {text}");
    }

    public RunResult Run()
    {
        _trace?.WriteLine(_scenario.Describe());
        _trace?.Write(_scenario.ConfigText);
        foreach (var n in _nodes) Boot(n);
        At(0, ConsensusTick);
        At(ConsensusTickMs / 2, ControllerTick);
        At(100, QuorumTick);
        At(200, ClientTick);
        At(1000, FaultTick);
        RunUntil(_scenario.SafetyMs);
        Heal();
        bool converged = false;
        long deadline = _scenario.SafetyMs + _scenario.LivenessBoundMs;
        // Every resource that can run must reach its target within the bound, and stay there.
        for (long t = Now + 2000; t <= deadline; t += 1000)
        {
            RunUntil(t);
            if (Converged(out _)) { converged = true; break; }
        }
        if (!converged)
        {
            Converged(out var why);
            if (_trace is not null && _nodes.FirstOrDefault(n => n.Up && n.Raft.IsLeader) is { } l)
            {
                _trace.WriteLine(l.Raft.State.ToSnapshot());
            }
            Violation(4, $"not converged {_scenario.LivenessBoundMs} ms after the faults healed: {why}");
        }
        else CheckAcknowledged();
        return new RunResult(_scenario.Seed, _violations, _windows, _elections, _fences, _actions, Now, converged)
        {
            AloneRuns = _aloneRuns,
            RefusedAlone = _refusedAlone,
            Nodes = _scenario.Nodes,
            Witnesses = _scenario.Witnesses,
            WitnessLeaderships = _witnessLeaderships,
            ReachableLosses = _reachableLosses,
            CleanStops = _cleanStops,
            CleanExits = _cleanExits,
            UnacknowledgedExits = _unacknowledgedExits,
            AloneAfterCleanStop = _aloneAfterCleanStop,
            StuckStops = _nodes.Count(n => n.Up && n.Stopping is { } s && Now - s.SinceMs > 15_000),
            FavouredDisagreements = _favouredDisagreements,
            ReplicatedDisagreements = _replicatedDisagreements,
        };
    }

    private void RunUntil(long time)
    {
        while (_events.TryPeek(out _, out var when) && when.Item1 <= time && _violations.Count < 20)
        {
            var action = _events.Dequeue();
            Now = when.Item1;
            action();
        }
        Now = time;
    }

    // ----- network --------------------------------------------------------------------------------

    /// <summary>Directed links that are cut (a→b): symmetric partitions cut both, asymmetric ones one.</summary>
    private readonly HashSet<(string, string)> _cut = [];

    /// <summary>Single links cut both ways (<see cref="Scenario.LinkCutRate"/>), apart from the partitions.</summary>
    private readonly HashSet<(string, string)> _linkCut = [];

    private bool Reaches(string from, string to) => from == to || (!_cut.Contains((from, to)) && !_linkCut.Contains((from, to)));

    /// <summary>Sends a message: dropped when the link is cut or lost, else delivered after a delay, maybe twice.</summary>
    private void Send(SimNode from, SimNode to, Action deliver)
    {
        if (!from.Up || !Reaches(from.Name, to.Name)) return;
        if (!_liveness && _rng.NextDouble() < _scenario.Loss) return;
        int incarnation = to.Incarnation;
        void Deliver()
        {
            if (to.Up && to.Incarnation == incarnation && Reaches(from.Name, to.Name)) deliver();
        }
        bool stall = !_liveness && _rng.NextDouble() < _scenario.Stall;
        At(Now + 1 + (stall ? 500 + _rng.Next(2500) : _rng.Next(_scenario.MaxDelayMs)), Deliver);
        if (!_liveness && _rng.NextDouble() < _scenario.Duplication) At(Now + 1 + _rng.Next(_scenario.MaxDelayMs * 3), Deliver);
    }

    // ----- faults ---------------------------------------------------------------------------------

    private void FaultTick()
    {
        if (_liveness) return;
        if (_rng.NextDouble() < _scenario.PartitionRate * 0.5)
        {
            _cut.Clear();
            if (_rng.NextDouble() < 0.7)
            {
                var side = _nodes.Where(_ => _rng.NextDouble() < 0.5).Select(n => n.Name).ToHashSet();
                bool asym = _rng.NextDouble() < _scenario.AsymmetricShare;
                foreach (var a in _nodes) foreach (var b in _nodes)
                    if (side.Contains(a.Name) && !side.Contains(b.Name))
                    {
                        _cut.Add((a.Name, b.Name));
                        if (!asym) _cut.Add((b.Name, a.Name));
                    }
                Trace("net", $"partition {{{string.Join(",", side.Order())}}} | rest{(asym ? " (one way)" : "")}");
            }
            else Trace("net", "partition healed");
        }
        if (_rng.NextDouble() < _scenario.CrashRate * 0.5)
        {
            var n = _nodes[_rng.Next(_nodes.Count)];
            if (n.Up)
            {
                Crash(n, "crash");
                var back = Now + 1000 + _rng.Next(4000);
                At(back, () => { if (!_liveness && !n.Up) Boot(n); });
            }
        }
        if (_rng.NextDouble() < _scenario.DeathRate * 0.5)
        {
            // Among the nodes that run resources (a witness runs none): without witnesses, the same draw as ever.
            var n = _hosts[_rng.Next(_hosts.Count)];
            // Only resources with a recurring monitor: a death nothing watches cannot be noticed (the fence device has none).
            var running = n.Truth.Keys.Where(r => r != "fencedev").ToList();
            if (n.Up && running.Count > 0)
            {
                var rsc = running[_rng.Next(running.Count)];
                n.Truth.Remove(rsc);
                Trace(n.Name, $"{rsc} died on its own");
            }
        }
        if (_scenario.LinkCutRate > 0) LinkFault();
        if (_scenario.CleanStopRate > 0) CleanStopFault();
        At(Now + 500, FaultTick);
    }

    private void LinkFault()
    {
        if (_nodes.Count < 3 || _linkRng.NextDouble() >= _scenario.LinkCutRate * 0.5) return;
        _linkCut.Clear();
        if (_linkRng.NextDouble() < 0.7)
        {
            var a = _nodes[_linkRng.Next(_nodes.Count)];
            var others = _nodes.Where(n => n != a).ToList();
            var b = others[_linkRng.Next(others.Count)];
            _linkCut.Add((a.Name, b.Name));
            _linkCut.Add((b.Name, a.Name));
            Trace("net", $"link {a.Name}-{b.Name} cut (both still reach the others)");
        }
        else Trace("net", "link cut healed");
    }

    private void Heal()
    {
        _liveness = true;
        _cut.Clear();
        _linkCut.Clear();
        Trace("sim", "liveness phase: faults healed, every node up");
        foreach (var n in _nodes) if (!n.Up) Boot(n);
    }

    private void Crash(SimNode n, string why)
    {
        EndAlone(n);
        n.Stopping = null;
        n.Up = false;
        n.Truth.Clear();
        n.Raft.IsLeader = false;
        n.Raft.Leader = null;
        Trace(n.Name, $"down ({why}); everything it ran is gone");
    }

    private void Boot(SimNode n)
    {
        n.Up = true;
        n.Incarnation++;
        n.Truth.Clear();
        n.Exec = new ExecutorState();
        // As the daemon: witnesses vote but are never cluster nodes (no membership records, so no resources).
        var members = _scenario.Bug == InjectedBug.WitnessAsNode ? _nodes : _hosts;
        n.Controller = new Controller(members.Select(x => x.Name).ToList(), n.Name, TimeSpan.FromMilliseconds(400));
        n.InFlight.Clear();
        n.Pending.Clear();
        n.LocalActive.Clear();
        n.Unreported.Clear();
        n.Reports.Clear();
        n.QuorumLostAt = null;
        n.QuorumActed = false;
        n.Alone = null;
        n.SawPeer = false;
        n.AloneEpoch = 0;
        n.PoweredOffBy = null;
        n.Stopping = null;
        n.LeftCleanly = false;
        n.FenceFailedAt.Clear();
        n.Indirect.Clear();
        n.Vouching.Clear();
        n.Raft.Applied = 0;
        n.Raft.State = ClusterState.Empty;
        n.Raft.IsLeader = false;
        n.Raft.Leader = null;
        n.Raft.LastHeardMs = Now;
        n.Raft.ElectionDeadlineMs = Now + _rng.Next(ElectionLowMs, ElectionHighMs);
        Trace(n.Name, $"up (incarnation {n.Incarnation})");
    }
}

/// <summary>One simulated host.</summary>
public sealed partial class Simulator
{
    private sealed class SimNode(string name)
    {
        public string Name { get; } = name;
        /// <summary>A witness: votes in consensus and may lead, runs no resources (its executor refuses every action).</summary>
        public bool Witness { get; init; }
        public bool Up;
        public int Incarnation;
        public readonly Raft Raft = new();
        public Controller Controller = null!;
        public ExecutorState Exec = new();
        /// <summary>Ground truth: resources (base ids) really active here, with their role.</summary>
        public readonly SortedDictionary<string, Vigil.Core.Role> Truth = new(StringComparer.Ordinal);
        /// <summary>The digest of the parameters each resource's last start here ran with (what it runs with while in <see cref="Truth"/>).</summary>
        public readonly Dictionary<string, string?> StartedWith = new(StringComparer.Ordinal);
        public readonly HashSet<string> InFlight = new(StringComparer.Ordinal);
        public long? LedTerm;
        public bool Replan;
        /// <summary>Proposals this node made as leader, watched until acknowledged.</summary>
        public readonly List<(Entry Entry, Action? OnAck)> Pending = [];
        /// <summary>Which dispatch of an in-flight key is current (a late timeout of an older one is ignored).</summary>
        public readonly Dictionary<string, long> Generation = new(StringComparer.Ordinal);
        /// <summary>What the executor started here (to stop it without the cluster when quorum is lost).</summary>
        public readonly SortedDictionary<string, ActionRequest> LocalActive = new(StringComparer.Ordinal);
        public readonly List<RecordOperationCommand> Unreported = [];
        /// <summary>Reports to the leader not yet acknowledged (resent until they are): key resource|interval.</summary>
        public readonly SortedDictionary<string, RecordOperationCommand> Reports = new(StringComparer.Ordinal);
        public long? QuorumLostAt;
        public bool QuorumActed;
        /// <summary>Two-node clusters: running alone (null otherwise), the peer seen since boot (wait for all), how often it ran alone since boot.</summary>
        public AloneMode? Alone;
        public bool SawPeer;
        public int AloneEpoch;
        /// <summary>The node whose fence powered this one off (cleared at boot).</summary>
        public string? PoweredOffBy;
        /// <summary>Its daemon is stopping cleanly (ShutdownAsync runs), or null.</summary>
        public CleanStop? Stopping;
        /// <summary>Down since its daemon left as cleanly stopped (the state it saw recorded it as expected down); cleared at boot.</summary>
        public bool LeftCleanly;
        /// <summary>When this node's fencer last failed to fence a node (reset at boot, as the daemon's memory).</summary>
        public readonly Dictionary<string, long> FenceFailedAt = new(StringComparer.Ordinal);
        /// <summary>What indirect probes said of each member (the daemon's _indirect: kept for the daemon's life) and the members a probe runs for.</summary>
        public readonly Dictionary<string, IndirectContact> Indirect = new(StringComparer.Ordinal);
        public readonly HashSet<string> Vouching = new(StringComparer.Ordinal);
        /// <summary>The boot id the leader sees: the incarnation, with ".N" after the Nth time it ran alone (same boot, probed again).</summary>
        public string BootId => AloneEpoch == 0 ? Incarnation.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{Incarnation}.{AloneEpoch}";
    }

    /// <summary>A two-node member running alone: it leads in <see cref="Term"/> on a local copy of the last replicated state.</summary>
    private sealed class AloneMode(string peer, AloneDecision decision, long term, ClusterState state, long sinceMs, long lostAtMs, int session)
    {
        /// <summary>When this node's quorum loop first missed the peer (the death-match wait counts from here).</summary>
        public long LostAtMs { get; } = lostAtMs;
        public string Peer { get; } = peer;
        public AloneDecision Decision { get; } = decision;
        public long Term { get; } = term;
        public long SinceMs { get; } = sinceMs;
        public int Session { get; } = session;
        public ClusterState State = state;
        public int Changes;
        /// <summary>Whether this copy recorded the peer as lost (invariant 2 then watches what the peer ran).</summary>
        public bool MarkedPeerLost;
    }

    private sealed class ExecutorState
    {
        public long SeenTerm;
        public long MaxExecutedTerm;
        public int CallId;
        public readonly HashSet<long> Dispatches = [];
        /// <summary>Recurring monitors: key resource|interval → generation (a newer one cancels the older).</summary>
        public readonly Dictionary<string, int> Recurring = new(StringComparer.Ordinal);
        public readonly Dictionary<string, int> LastRc = new(StringComparer.Ordinal);
    }
}
