using System.Text;

namespace Vigil.Scheduler.Tests;

/// <summary>
/// A seeded generator of small CIBs for the differential test against Pacemaker: 2-4 nodes (online,
/// standby, cleanly offline, or lost while expected up), 1-6 primitives of ocf:heartbeat:Dummy (plain, in a
/// group, in an anonymous clone) and ocf:pacemaker:Stateful (in a promotable clone); location (including ±INFINITY and role=Promoted), colocation and order constraints without cycles,
/// stickiness and migration-threshold; a status section with resources running, promoted, stopped,
/// cleanly probed, failed to start and failed monitors with their fail counts. Only features the
/// scheduler claims (README, conformance report); the same seed always gives the same text.
/// </summary>
internal sealed class RandomCib
{
    private static readonly string[] Scores = ["-INFINITY", "-100", "-10", "10", "50", "100", "INFINITY"];
    private static readonly string[] ColocationScores = ["-INFINITY", "-100", "100", "INFINITY"];
    private static readonly string[] Stickiness = ["1", "50", "100", "INFINITY"];

    /// <summary>Seconds since the epoch of failures in the status section: well before <see cref="Corpus.Now"/>.</summary>
    private const long FailedAt = 1_790_000_000;

    private enum NodeKind { Online, Standby, Offline, Lost }

    private enum Kind { Primitive, Group, Clone, Promotable }

    private sealed record Item(string Id, Kind Kind, List<string> Members);

    private readonly Random _rng;
    private readonly StringBuilder _constraints = new();
    private readonly Dictionary<string, StringBuilder> _lrm = [];
    private readonly Dictionary<string, StringBuilder> _attrs = [];
    private int _ids;

    private RandomCib(int seed) => _rng = new Random(seed);

    public static string Generate(int seed) => new RandomCib(seed).Build();

    private T Pick<T>(IReadOnlyList<T> from) => from[_rng.Next(from.Count)];

    private bool Chance(double p) => _rng.NextDouble() < p;

    private string NextId(string prefix) => $"{prefix}{++_ids}";

    private string Nv(string name, string value) => $"""<nvpair id="{NextId("nv")}" name="{name}" value="{value}"/>""";

    private string Build()
    {
        var fencing = Chance(0.3);
        var nodeCount = _rng.Next(2, 5);
        var nodes = new List<(string Name, NodeKind Kind)>();
        for (var i = 1; i <= nodeCount; i++)
        {
            // n1 is the DC and stays up; the others are mostly online.
            var r = _rng.NextDouble();
            var kind = i == 1 ? (r < 0.15 ? NodeKind.Standby : NodeKind.Online)
                : r < 0.65 ? NodeKind.Online : r < 0.8 ? NodeKind.Standby : r < 0.9 ? NodeKind.Offline : NodeKind.Lost;
            nodes.Add(($"n{i}", kind));
            _lrm[$"n{i}"] = new StringBuilder();
            _attrs[$"n{i}"] = new StringBuilder();
        }
        var items = Resources();
        var resources = new StringBuilder();
        foreach (var item in items) resources.Append(Definition(item, nodeCount));
        // With fencing enabled and no fencing device Pacemaker starts nothing ("Resource start-up disabled
        // since no STONITH resources have been defined"); Vigil's fencing lives outside the CIB.
        if (fencing) resources.Append("""<primitive id="fencer" class="stonith" type="fence_dummy"/>""");
        foreach (var item in items) History(item, nodes);
        Constraints(items, nodes);

        var nodeXml = new StringBuilder();
        var status = new StringBuilder();
        foreach (var (name, kind) in nodes)
        {
            nodeXml.Append(kind == NodeKind.Standby
                ? $"""<node id="{name}" uname="{name}" type="member"><instance_attributes id="{name}-attrs">{Nv("standby", "on")}</instance_attributes></node>"""
                : Cibs.Node(name));
            status.Append(kind switch
            {
                NodeKind.Online or NodeKind.Standby => Cibs.OnlineState(name, _lrm[name].ToString(), _attrs[name].ToString()),
                NodeKind.Lost => Cibs.LostState(name, _lrm[name].ToString()),
                _ => $"""<node_state id="{name}" uname="{name}" in_ccm="false" crmd="offline" join="down" expected="down"><lrm id="{name}"><lrm_resources>{_lrm[name]}</lrm_resources></lrm></node_state>""",
            });
        }
        var properties = Nv("stonith-enabled", fencing ? "true" : "false");
        var defaults = Chance(0.25) ? Nv("resource-stickiness", Pick(Stickiness)) : "";
        if (Chance(0.2)) defaults += Nv("migration-threshold", _rng.Next(1, 4).ToString(System.Globalization.CultureInfo.InvariantCulture));
        // A CIB written by Pacemaker carries its feature set; without one Pacemaker reads only the fail
        // counts of 1.1.16 and older (fail-count-RSC) and ignores fail-count-RSC#OP_INTERVAL. 3.16.1, not
        // 2.1.5's own 3.16.2: with that, crm_simulate aborts simulating some transitions (pcmk_simulate.c:636).
        return Cibs.Cib(nodeXml.ToString(), resources.ToString(), _constraints.ToString(), status.ToString(), properties,
            rscDefaults: defaults, schema: "pacemaker-3.7").Replace("<cib ", """<cib crm_feature_set="3.16.1" """, StringComparison.Ordinal);
    }

    private List<Item> Resources()
    {
        var items = new List<Item>();
        var budget = _rng.Next(1, 7);
        var primitive = 0;
        string Next() => $"r{++primitive}";
        // Bounded: every round takes at least one primitive from the budget.
        while (budget > 0)
        {
            var r = _rng.NextDouble();
            var kind = r < 0.45 ? Kind.Primitive : r < 0.6 ? (budget >= 2 ? Kind.Group : Kind.Primitive) : r < 0.8 ? Kind.Clone : Kind.Promotable;
            if (items.Any(i => i.Kind == kind && kind != Kind.Primitive)) kind = Kind.Primitive;
            var size = kind == Kind.Group ? Math.Min(budget, _rng.Next(2, 4)) : 1;
            var members = Enumerable.Range(0, size).Select(_ => Next()).ToList();
            budget -= size;
            var id = kind switch { Kind.Group => "g1", Kind.Clone => "c1", Kind.Promotable => "ms1", _ => members[0] };
            items.Add(new Item(id, kind, members));
        }
        return items;
    }

    private string Meta()
    {
        var meta = "";
        if (Chance(0.3)) meta += Nv("resource-stickiness", Pick(Stickiness));
        if (Chance(0.3)) meta += Nv("migration-threshold", _rng.Next(1, 4).ToString(System.Globalization.CultureInfo.InvariantCulture));
        return meta;
    }

    private static string MetaSet(string id, string meta) => meta.Length > 0 ? $"""<meta_attributes id="{id}-meta">{meta}</meta_attributes>""" : "";

    private string Primitive(string id, bool stateful, string meta)
    {
        var ops = stateful
            ? $"""<op id="{id}-mon-u" name="monitor" interval="10s" role="Unpromoted"/><op id="{id}-mon-p" name="monitor" interval="11s" role="Promoted"/>"""
            : $"""<op id="{id}-mon" name="monitor" interval="10s"/>""";
        var (provider, type) = stateful ? ("pacemaker", "Stateful") : ("heartbeat", "Dummy");
        return $"""<primitive id="{id}" class="ocf" provider="{provider}" type="{type}">{MetaSet(id, meta)}<operations>{ops}</operations></primitive>""";
    }

    private string Definition(Item item, int nodeCount)
    {
        switch (item.Kind)
        {
            case Kind.Primitive:
                return Primitive(item.Id, stateful: false, Meta());
            case Kind.Group:
                var members = string.Concat(item.Members.Select(m => Primitive(m, stateful: false, Chance(0.2) ? Meta() : "")));
                return $"""<group id="{item.Id}">{MetaSet(item.Id, Meta())}{members}</group>""";
            default:
                var promotable = item.Kind == Kind.Promotable;
                var meta = Meta();
                if (promotable) meta += Nv("promotable", "true") + Nv("promoted-max", "1");
                if (Chance(0.3)) meta += Nv("clone-max", _rng.Next(1, nodeCount + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
                return $"""<clone id="{item.Id}">{MetaSet(item.Id, meta)}{Primitive(item.Members[0], promotable, "")}</clone>""";
        }
    }

    private void History(Item item, List<(string Name, NodeKind Kind)> nodes)
    {
        foreach (var rsc in item.Members)
        {
            var stateful = item.Kind == Kind.Promotable;
            if (item.Kind is Kind.Clone or Kind.Promotable)
            {
                var promoted = false;
                foreach (var (node, _) in nodes)
                {
                    if (Chance(0.5)) AddHistory(node, rsc, stateful, Chance(0.85) ? 0 : _rng.Next(1, 5), ref promoted);
                    if (stateful && Chance(0.6)) _attrs[node].Append(Nv($"master-{rsc}", Pick(new[] { "5", "10", "100" })));
                }
                continue;
            }
            var once = false;
            if (Chance(0.6)) AddHistory(Pick(nodes).Name, rsc, false, Chance(0.7) ? 0 : _rng.Next(1, 5), ref once);
        }
    }

    /// <summary>
    /// One resource's history on one node. <paramref name="story"/>: 0 running (promoted for a Stateful
    /// instance once in a while), 1 stopped cleanly, 2 probed and not running, 3 failed start, 4 failed monitor.
    /// </summary>
    private void AddHistory(string node, string rsc, bool stateful, int story, ref bool promoted)
    {
        var (provider, type) = stateful ? ("pacemaker", "Stateful") : ("heartbeat", "Dummy");
        var ops = new StringBuilder();
        var call = 1;
        // The transition key carries the expected rc: Pacemaker counts any other rc as a failure, so
        // a Promoted monitor expects 8 and a probe that found nothing 7, and failures expect 0.
        void Op(string suffix, string op, int intervalMs, int rc, bool digest = true, int expected = -1) =>
            ops.Append($"""<lrm_rsc_op id="{rsc}_{suffix}" operation_key="{rsc}_{op}_{intervalMs}" operation="{op}" transition-key="{call}:1:{(expected < 0 ? rc : expected)}:vigil-diff" transition-magic="0:{rc};{call}:1:{(expected < 0 ? rc : expected)}:vigil-diff" call-id="{call++}" rc-code="{rc}" op-status="0" interval="{intervalMs}" last-rc-change="{FailedAt}" exec-time="10" queue-time="0" on_node="{node}"{(digest ? $" op-digest=\"{Cibs.NoParametersDigest}\"" : "")}/>""");
        switch (story)
        {
            case 0 when stateful && !promoted && Chance(0.5):
                promoted = true;
                Op("last_0", "promote", 0, 0);
                Op("monitor_11000", "monitor", 11000, 8, digest: false);
                break;
            case 0:
                Op("last_0", "start", 0, 0);
                Op("monitor_10000", "monitor", 10000, 0, digest: false);
                break;
            case 1:
                Op("last_0", "stop", 0, 0);
                break;
            case 2:
                Op("last_0", "monitor", 0, 7);
                break;
            case 3:
                Op("last_0", "start", 0, 1, expected: 0);
                Op("last_failure_0", "start", 0, 1, expected: 0);
                _attrs[node].Append(Nv($"fail-count-{rsc}#start_0", "INFINITY")).Append(Nv($"last-failure-{rsc}#start_0", $"{FailedAt}"));
                break;
            default:
                Op("last_0", "start", 0, 0);
                Op("last_failure_0", "monitor", 10000, 7, digest: false, expected: 0);
                _attrs[node].Append(Nv($"fail-count-{rsc}#monitor_10000", $"{_rng.Next(1, 4)}")).Append(Nv($"last-failure-{rsc}#monitor_10000", $"{FailedAt}"));
                break;
        }
        _lrm[node].Append($"""<lrm_resource id="{rsc}" class="ocf" provider="{provider}" type="{type}">{ops}</lrm_resource>""");
    }

    private void Constraints(List<Item> items, List<(string Name, NodeKind Kind)> nodes)
    {
        for (var i = _rng.Next(0, 4); i > 0; i--)
        {
            var item = Pick(items);
            var role = item.Kind == Kind.Promotable && Chance(0.5) ? """ role="Promoted" """ : " ";
            _constraints.Append($"""<rsc_location id="{NextId("loc")}" rsc="{item.Id}"{role}node="{Pick(nodes).Name}" score="{Pick(Scores)}"/>""");
        }
        if (items.Count < 2) return;
        // Dependents come later in the item list than what they depend on: no colocation or order cycles.
        for (var i = _rng.Next(0, 3); i > 0; i--)
        {
            var a = _rng.Next(1, items.Count);
            var b = _rng.Next(0, a);
            var withRole = items[b].Kind == Kind.Promotable && Chance(0.5) ? """ with-rsc-role="Promoted" """ : " ";
            _constraints.Append($"""<rsc_colocation id="{NextId("col")}" rsc="{items[a].Id}" with-rsc="{items[b].Id}"{withRole}score="{Pick(ColocationScores)}"/>""");
        }
        for (var i = _rng.Next(0, 3); i > 0; i--)
        {
            var a = _rng.Next(1, items.Count);
            var b = _rng.Next(0, a);
            var kind = Chance(0.7) ? "Mandatory" : "Optional";
            _constraints.Append($"""<rsc_order id="{NextId("ord")}" first="{items[b].Id}" then="{items[a].Id}" kind="{kind}"/>""");
        }
    }
}
