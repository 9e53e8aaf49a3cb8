using System.Diagnostics;
using System.Globalization;

namespace Vigil.Simulation;

/// <summary>
/// dotnet run --project test/Vigil.Simulation -- --seed N [--nodes K] [--bug B]   one seed with its event trace (K overrides its node count)
/// dotnet run --project test/Vigil.Simulation -- --seeds N [--from S] [--bug B]   many seeds in parallel
/// --parameter-edits: the client also changes agent parameters (see <see cref="Scenario.ParameterEdits"/>)
/// --link-cuts: single links are cut too (see <see cref="Scenario.LinkCutRate"/>)
/// --promotable: a promotable clone is added (see <see cref="Scenario.WithPromotable"/>)
/// --witness: some seeds get a witness member (see <see cref="Scenario.WithWitness"/>)
/// --clean-stops: nodes' daemons are stopped cleanly and start again (see <see cref="Scenario.CleanStopRate"/>)
/// The last line reads "seeds=… violations=… seeds_per_s=…"; the exit code is 1 on any violation.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        long? seed = null;
        int? nodes = null;
        int seeds = 0;
        long from = 1;
        var bug = InjectedBug.None;
        bool parameterEdits = false, linkCuts = false, promotable = false, witness = false, cleanStops = false;
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            try
            {
                switch (args[i])
                {
                    case "--seed": seed = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--seeds": seeds = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--from": from = long.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--parameter-edits": parameterEdits = true; break;
                    case "--link-cuts": linkCuts = true; break;
                    case "--promotable": promotable = true; break;
                    case "--witness": witness = true; break;
                    case "--clean-stops": cleanStops = true; break;
                    case "--nodes":
                        nodes = int.Parse(Next(), CultureInfo.InvariantCulture);
                        if (nodes is < 2 or > 7) throw new ArgumentException("--nodes takes 2..7");
                        break;
                    case "--bug":
                        var b = Next();
                        if (!Enum.TryParse(b.Replace("-", "", StringComparison.Ordinal), ignoreCase: true, out bug))
                            throw new ArgumentException($"unknown bug '{b}': use one of {string.Join(", ", Enum.GetNames<InjectedBug>())}");
                        break;
                    default: throw new ArgumentException($"unknown argument '{args[i]}'");
                }
            }
            catch (Exception e) when (e is ArgumentException or FormatException or OverflowException)
            {
                Console.Error.WriteLine($"vigil-sim: {e.Message}\nusage: --seed N [--nodes 2..7] [--bug B] [--parameter-edits] [--link-cuts] [--promotable] [--witness] [--clean-stops] | --seeds N [--from S] [--bug B] [--parameter-edits] [--link-cuts] [--promotable] [--witness] [--clean-stops]");
                return 64;
            }
        }
        if (seed is null && seeds <= 0)
        {
            Console.Error.WriteLine("usage: --seed N [--nodes 2..7] [--bug B] [--parameter-edits] [--link-cuts] [--promotable] [--witness] [--clean-stops] | --seeds N [--from S] [--bug B] [--parameter-edits] [--link-cuts] [--promotable] [--witness] [--clean-stops]");
            return 64;
        }
        if (seed is { } one)
        {
            var sw = Stopwatch.StartNew();
            var scenario = Scenario.FromSeed(one, bug, nodes) with { ParameterEdits = parameterEdits };
            var r = new Simulator(scenario.With(linkCuts, promotable, witness, cleanStops), Console.Out).Run();
            foreach (var v in r.Violations) Console.WriteLine($"VIOLATION {v}");
            Console.WriteLine($"seed {one}: elections={r.Elections} fences={r.Fences} actions={r.Actions} split_brain_windows={r.SplitBrainWindows} alone_runs={r.AloneRuns} refused_alone={r.RefusedAlone} witness_leaderships={r.WitnessLeaderships}" +
                (cleanStops ? $" clean_stops={r.CleanStops} clean_exits={r.CleanExits} unacknowledged_exits={r.UnacknowledgedExits} alone_after_clean_stop={r.AloneAfterCleanStop} stuck_stops={r.StuckStops}" : "") + $" simulated_ms={r.SimulatedMs}");
            Console.WriteLine($"seeds=1 violations={r.Violations.Count} seeds_per_s={1 / sw.Elapsed.TotalSeconds:0.0}");
            return r.Ok ? 0 : 1;
        }
        var batch = SeedRunner.Run(from, seeds, bug, parameterEdits, linkCuts, promotable, witness, cleanStops);
        foreach (var f in batch.Failures.Take(20))
            Console.WriteLine($"seed {f.Seed} failed: {f.Violations[0]}  (replay: --seed {f.Seed}{(bug == InjectedBug.None ? "" : $" --bug {bug}")}{(parameterEdits ? " --parameter-edits" : "")}{(linkCuts ? " --link-cuts" : "")}{(promotable ? " --promotable" : "")}{(witness ? " --witness" : "")}{(cleanStops ? " --clean-stops" : "")})");
        Console.WriteLine(batch.Summary);
        return batch.Failures.Count == 0 ? 0 : 1;
    }
}

/// <summary>Runs a range of seeds on every core.</summary>
public static class SeedRunner
{
    public sealed record Batch(int Seeds, IReadOnlyList<RunResult> Failures, int Windows, TimeSpan Elapsed)
    {
        /// <summary>Seeds of two nodes, and how many of them had a member run alone at least once.</summary>
        public int TwoNodeSeeds { get; init; }
        public int AloneSeeds { get; init; }
        /// <summary>Fence races whose two sides disagreed on the favoured node: judged from their local copies, and from their replicated states.</summary>
        public int FavouredDisagreements { get; init; }
        public int ReplicatedDisagreements { get; init; }
        /// <summary>Seeds with a witness, and how many of them had a witness lead at least once.</summary>
        public int WitnessSeeds { get; init; }
        public int WitnessLedSeeds { get; init; }
        /// <summary>Members recorded lost while another member the leader reached still reached them (<see cref="RunResult.ReachableLosses"/>).</summary>
        public int ReachableLosses { get; init; }
        /// <summary>Clean stops asked for, daemons that left acknowledged or not, two-node members that ran alone after their peer left cleanly (<see cref="RunResult.CleanStops"/>).</summary>
        public int CleanStops { get; init; }
        public int CleanExits { get; init; }
        public int UnacknowledgedExits { get; init; }
        public int AloneAfterCleanStop { get; init; }
        public int StuckStops { get; init; }
        public double SeedsPerSecond => Seeds / Elapsed.TotalSeconds;
        public string Summary => $"seeds={Seeds} violations={Failures.Sum(f => f.Violations.Count)} split_brain_windows={Windows} two_node_seeds={TwoNodeSeeds} alone_seeds={AloneSeeds} favoured_disagreements_copy={FavouredDisagreements} favoured_disagreements_replicated={ReplicatedDisagreements}" +
            (WitnessSeeds > 0 ? $" witness_seeds={WitnessSeeds} witness_led_seeds={WitnessLedSeeds}" : "") +
            (CleanStops > 0 ? $" clean_stops={CleanStops} clean_exits={CleanExits} unacknowledged_exits={UnacknowledgedExits} alone_after_clean_stop={AloneAfterCleanStop} stuck_stops={StuckStops}" : "") + $" reachable_losses={ReachableLosses} seeds_per_s={SeedsPerSecond:0.0}";
    }

    /// <summary>Runs seeds in parallel rounds until one fails (or <paramref name="max"/> ran): how soon a bug is caught.</summary>
    public static (RunResult? Failure, int Ran) FirstFailure(long from, int max, InjectedBug bug, bool witness = false, bool cleanStops = false)
    {
        const int Round = 16;
        for (int ran = 0; ran < max; ran += Round)
        {
            var batch = Run(from + ran, Math.Min(Round, max - ran), bug, witness: witness, cleanStops: cleanStops);
            if (batch.Failures.Count > 0) return (batch.Failures.MinBy(f => f.Seed), ran + Round);
        }
        return (null, max);
    }

    public static Batch Run(long from, int count, InjectedBug bug = InjectedBug.None, bool parameterEdits = false, bool linkCuts = false, bool promotable = false, bool witness = false, bool cleanStops = false)
    {
        var sw = Stopwatch.StartNew();
        var results = new RunResult[count];
        Parallel.For(0, count, i =>
        {
            var scenario = Scenario.FromSeed(from + i, bug) with { ParameterEdits = parameterEdits };
            results[i] = new Simulator(scenario.With(linkCuts, promotable, witness, cleanStops)).Run();
        });
        return new Batch(count, results.Where(r => !r.Ok).ToList(), results.Sum(r => r.SplitBrainWindows), sw.Elapsed)
        {
            // Two-node seeds without a witness (with one, a member never runs alone: it has a majority with the witness).
            TwoNodeSeeds = results.Count(r => r.Nodes == 2 && r.Witnesses == 0),
            AloneSeeds = results.Count(r => r.AloneRuns > 0),
            FavouredDisagreements = results.Sum(r => r.FavouredDisagreements),
            ReplicatedDisagreements = results.Sum(r => r.ReplicatedDisagreements),
            WitnessSeeds = results.Count(r => r.Witnesses > 0),
            WitnessLedSeeds = results.Count(r => r.WitnessLeaderships > 0),
            ReachableLosses = results.Sum(r => r.ReachableLosses),
            CleanStops = results.Sum(r => r.CleanStops),
            CleanExits = results.Sum(r => r.CleanExits),
            UnacknowledgedExits = results.Sum(r => r.UnacknowledgedExits),
            AloneAfterCleanStop = results.Sum(r => r.AloneAfterCleanStop),
            StuckStops = results.Sum(r => r.StuckStops),
        };
    }
}
