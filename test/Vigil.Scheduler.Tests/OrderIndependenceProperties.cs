using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using Vigil.Core.Model;

namespace Vigil.Scheduler.Tests;

/// <summary>
/// The scheduler's answer does not depend on the order in which the status section lists nodes or
/// a resource's operations (Pacemaker orders history by call id and nodes by the configuration).
/// Not permuted: histories within one node (they decide which anonymous clone instance is which,
/// in Pacemaker too), operations sharing a call id (ties are broken by position), and the nodes
/// of a CIB with anonymous clones (which stopped orphan instances remain after the transition
/// depends on the status order in Pacemaker: input 1360).
/// </summary>
public sealed class OrderIndependenceProperties
{
    private static readonly string[] Inputs = ["rec-rsc-1", "group1", "inc2", "bug-lf-2106", "promoted-ordering", "migrate-begin", "stop-failure-with-fencing", "1360"];
    private static readonly Dictionary<string, (Cib Cib, IReadOnlyList<string> Record)> Cache = [];

    private static (Cib, IReadOnlyList<string>) Baseline(string name)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(name, out var v))
            {
                var cib = Corpus.Load(name);
                Cache[name] = v = (cib, RecordWriter.Lines(Scheduler.Run(cib, Corpus.Now), withOrderings: true));
            }
            return v;
        }
    }

    private static IReadOnlyList<T> Shuffle<T>(IReadOnlyList<T> items, Random rng)
    {
        var a = items.ToArray();
        for (var i = a.Length - 1; i > 0; i--) { var j = rng.Next(i + 1); (a[i], a[j]) = (a[j], a[i]); }
        return a;
    }

    [Property(MaxTest = 40)]
    public Property Any_order_of_the_status_section_gives_the_same_transition(PositiveInt input, int seed)
    {
        var name = Inputs[input.Get % Inputs.Length];
        var (cib, expected) = Baseline(name);
        var rng = new Random(seed);
        var status = cib.Status!;
        var anonymousClones = cib.Configuration.Resources.OfType<Clone>().Any(c => !Truth.IsTrue(c.Meta("globally-unique")));
        var shuffled = cib with
        {
            Status = status with
            {
                Nodes = ShuffleUnless(anonymousClones, status.Nodes.Select(n => n with
                {
                    // Operations with the same call id keep their order: Pacemaker breaks such ties by position.
                    Resources = n.Resources.Select(r => r with
                    {
                        Ops = Shuffle(r.Ops.GroupBy(o => o.CallId).Select(g => g.ToList()).ToList(), rng).SelectMany(g => g).ToList(),
                    }).ToList(),
                }).ToList(), rng),
            },
        };
        static IReadOnlyList<T> ShuffleUnless<T>(bool keep, IReadOnlyList<T> items, Random rng) => keep ? items : Shuffle(items, rng);
        var actual = RecordWriter.Lines(Scheduler.Run(shuffled, Corpus.Now), withOrderings: true);
        return expected.SequenceEqual(actual).Label($"{name} with seed {seed}");
    }
}
