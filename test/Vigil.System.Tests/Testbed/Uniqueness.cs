using System.Globalization;

namespace Vigil.SystemTests.Testbed;

/// <summary>One line of the side channel: "EPOCH_SECONDS NODE start|stop|poweroff RESOURCE".</summary>
public sealed record SideEvent(double Time, string Node, string Kind, string Resource);

/// <summary>A resource that was possibly active on two nodes at once, from <see cref="From"/> to <see cref="To"/> (epoch seconds).</summary>
public sealed record DoubleActivity(string Resource, string NodeA, string NodeB, double From, double To)
{
    public override string ToString() =>
        $"{Resource} active on {NodeA} and {NodeB} at once for {(double.IsPositiveInfinity(To) ? "ever (both still active)" : $"{To - From:0.000} s")} from {From:0.000}";
}

/// <summary>
/// The independent uniqueness check. The testbed's wrapper agents append a "start" line before they start a
/// resource and a "stop" line after a successful stop; the testbed appends "poweroff" when it kills a node
/// (everything on it dies with it). So a resource counts as possibly active on a node from its start line to
/// its next stop or poweroff, conservatively; two such intervals of one resource on two nodes that overlap are
/// double activity, whatever the cluster itself reports. Pure: it reads lines, the caller reads the file.
/// </summary>
public static class UniquenessChecker
{
    /// <summary>Fenced: the testbed's power switch confirmed the node off for the cluster (it ends activity like a power-off).</summary>
    public const string Start = "start", Stop = "stop", PowerOff = "poweroff", Fenced = "fenced";

    public static List<SideEvent> Parse(IEnumerable<string> lines, string source)
    {
        var events = new List<SideEvent>();
        int n = 0;
        foreach (var line in lines)
        {
            n++;
            if (line.Length == 0) continue;
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length != 4 || !double.TryParse(f[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var t) || f[2] is not (Start or Stop or PowerOff or Fenced))
                throw new FormatException($"{source}:{n}: expected 'EPOCH_SECONDS NODE start|stop|poweroff|fenced RESOURCE', found '{line}'");
            events.Add(new SideEvent(t, f[1], f[2], f[3]));
        }
        return events;
    }

    /// <summary>Every pair of overlapping activity intervals of one resource on two different nodes.</summary>
    public static List<DoubleActivity> Check(IEnumerable<SideEvent> events)
    {
        var intervals = new List<(string Resource, string Node, double From, double To)>();
        var open = new Dictionary<(string Resource, string Node), double>();
        foreach (var e in events.OrderBy(e => e.Time))
        {
            switch (e.Kind)
            {
                case Start:
                    open.TryAdd((e.Resource, e.Node), e.Time);
                    break;
                case Stop:
                    if (open.Remove((e.Resource, e.Node), out var from)) intervals.Add((e.Resource, e.Node, from, e.Time));
                    break;
                case PowerOff or Fenced:
                    foreach (var key in open.Keys.Where(k => k.Node == e.Node).ToList())
                    {
                        intervals.Add((key.Resource, key.Node, open[key], e.Time));
                        open.Remove(key);
                    }
                    break;
            }
        }
        intervals.AddRange(open.Select(o => (o.Key.Resource, o.Key.Node, o.Value, double.PositiveInfinity)));
        var found = new List<DoubleActivity>();
        foreach (var group in intervals.GroupBy(i => i.Resource))
        {
            var list = group.OrderBy(i => i.From).ToList();
            for (int a = 0; a < list.Count; a++)
                for (int b = a + 1; b < list.Count && list[b].From < list[a].To; b++)
                    if (list[a].Node != list[b].Node)
                        found.Add(new DoubleActivity(group.Key, list[a].Node, list[b].Node, list[b].From, Math.Min(list[a].To, list[b].To)));
        }
        return found;
    }
}
