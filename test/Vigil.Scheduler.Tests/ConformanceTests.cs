using System.Globalization;
using System.Text;
using Xunit.Abstractions;

namespace Vigil.Scheduler.Tests;

/// <summary>
/// Runs the scheduler over the whole dev corpus and compares with Pacemaker's records: the share of
/// inputs whose P, T and F lines match exactly, and the share whose A lines match as well. Writes the
/// per-input differences to <c>conformance/</c> and fails when the share drops below the baseline.
/// </summary>
public sealed class ConformanceTests(ITestOutputHelper output)
{
    private static bool Tier(string line, string kinds) => line.Length > 1 && line[1] == '|' && kinds.Contains(line[0]);

    internal sealed record Outcome(string Name, bool Ptf, bool WithA, string Category, IReadOnlyList<string> Diff)
    {
        /// <summary>Whether the housekeeping actions (probes, monitors: M lines) match too; informational.</summary>
        public bool MatchesM { get; init; }
    }

    internal static Outcome Compare(string name)
    {
        string[] expected = Corpus.Expected(name);
        IReadOnlyList<string> actual;
        try
        {
            var cib = Corpus.Load(name);
            actual = RecordWriter.Lines(Scheduler.Run(cib, Corpus.Now), withOrderings: false);
        }
        catch (Exception e)
        {
            return new Outcome(name, false, false, "error", [$"{e.GetType().Name}: {e.Message}"]);
        }
        var diff = new List<string>();
        string? category = null;
        foreach (var kinds in new[] { "N", "P", "T", "F", "A" })
        {
            var e = expected.Where(l => Tier(l, kinds)).Order(StringComparer.Ordinal).ToList();
            var a = actual.Where(l => Tier(l, kinds)).Order(StringComparer.Ordinal).ToList();
            var missing = Multiset(e, a);
            var extra = Multiset(a, e);
            if (missing.Count == 0 && extra.Count == 0) continue;
            if (kinds != "N" && kinds != "A") category ??= Categorise(kinds, missing, extra);
            diff.AddRange(missing.Select(l => "- " + l));
            diff.AddRange(extra.Select(l => "+ " + l));
        }
        var ptf = category is null;
        var withA = ptf && !diff.Any(d => d.Length > 2 && d[2] == 'A');
        var m = expected.Where(l => Tier(l, "M")).Order(StringComparer.Ordinal).SequenceEqual(actual.Where(l => Tier(l, "M")).Order(StringComparer.Ordinal));
        return new Outcome(name, ptf, withA, category ?? (withA ? "ok" : "A:actions"), diff) { MatchesM = m };
    }

    internal static List<string> Multiset(List<string> from, List<string> minus)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var l in minus) counts[l] = counts.GetValueOrDefault(l) + 1;
        var result = new List<string>();
        foreach (var l in from)
        {
            if (counts.TryGetValue(l, out var c) && c > 0) counts[l] = c - 1;
            else result.Add(l);
        }
        return result;
    }

    internal static string Categorise(string kinds, List<string> missing, List<string> extra)
    {
        var all = missing.Concat(extra).ToList();
        string Kind(string l) => l.Split('|') is { Length: > 2 } p ? p[kinds == "T" ? 1 : kinds == "F" ? 2 : 2] : "?";
        return kinds switch
        {
            "F" => "F:fencing",
            "T" when all.Any(l => l.Contains("|migrate|")) => "T:migrate",
            "T" => "T:" + Kind(all[0]),
            "P" when all.Any(l => l.Contains("Promoted") || l.Contains("Unpromoted")) => "P:promotion",
            "P" when all.Any(l => l.Contains("orphaned")) => "P:orphan",
            "P" when all.Any(l => l.Contains("failed") || l.Contains("unmanaged") || l.Contains("blocked")) => "P:flags",
            _ => "P:placement",
        };
    }

    [Fact]
    public void Corpus_conformance_does_not_drop_below_the_committed_baseline()
    {
        var outcomes = Corpus.Names().AsParallel().AsOrdered().Select(Compare).ToList();
        var total = outcomes.Count;
        var ptf = outcomes.Count(o => o.Ptf);
        var withA = outcomes.Count(o => o.WithA);
        var dir = Path.Combine(Corpus.RepoRoot, "test", "Vigil.Scheduler.Tests", "conformance");
        Directory.CreateDirectory(dir);
        var summary = new StringBuilder();
        summary.AppendLine(CultureInfo.InvariantCulture, $"inputs {total}");
        summary.AppendLine(CultureInfo.InvariantCulture, $"ptf {ptf} ({100.0 * ptf / total:F1}%)");
        summary.AppendLine(CultureInfo.InvariantCulture, $"with-a {withA} ({100.0 * withA / total:F1}%)");
        summary.AppendLine(CultureInfo.InvariantCulture, $"m-lines-match {outcomes.Count(o => o.MatchesM)} (informational: probes and monitors)");
        foreach (var g in outcomes.Where(o => !o.WithA).GroupBy(o => o.Category).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal))
            summary.AppendLine(CultureInfo.InvariantCulture, $"category {g.Key} {g.Count()}");
        File.WriteAllText(Path.Combine(dir, "summary.txt"), summary.ToString());
        var failing = new StringBuilder();
        failing.AppendLine("# input\tcategory\tdifferences (- Pacemaker only, + Vigil only; first 6)");
        foreach (var o in outcomes.Where(o => !o.WithA))
            failing.AppendLine(CultureInfo.InvariantCulture, $"{o.Name}\t{o.Category}\t{string.Join(" ; ", o.Diff.Take(6))}");
        File.WriteAllText(Path.Combine(dir, "failing.tsv"), failing.ToString());
        output.WriteLine(summary.ToString());

        var baseline = File.ReadAllLines(Path.Combine(dir, "baseline.txt"))
            .Where(l => !l.StartsWith('#') && l.Contains('='))
            .ToDictionary(l => l.Split('=')[0].Trim(), l => int.Parse(l.Split('=')[1].Trim(), CultureInfo.InvariantCulture));
        Assert.True(ptf >= baseline["ptf"], $"P+T+F conformance dropped: {ptf} < baseline {baseline["ptf"]} of {total}");
        Assert.True(withA >= baseline["with-a"], $"P+T+F+A conformance dropped: {withA} < baseline {baseline["with-a"]} of {total}");
    }
}
