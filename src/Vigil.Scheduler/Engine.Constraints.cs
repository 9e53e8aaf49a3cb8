using System.Text.RegularExpressions;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>Constraints: unpacking colocations and orders, applying locations, stickiness and fail counts.</summary>
internal sealed partial class Engine
{
    private readonly List<(LocationConstraint Loc, Rsc Rsc)> _locations = [];
    /// <summary>Location scores that apply to the promoted role only (promotion preferences).</summary>
    private readonly Dictionary<Rsc, List<(int Node, int Score)>> _promotedLocations = [];

    private void UnpackConstraints()
    {
        foreach (var c in _config.Constraints)
        {
            switch (c)
            {
                case LocationConstraint l: UnpackLocation(l); break;
                case ColocationConstraint co: UnpackColocation(co); break;
                case OrderConstraint o: UnpackOrder(o); break;
            }
        }
        foreach (var r in _rscById.Values) { r.ColocAsDependent.Clear(); r.ColocAsPrimary.Clear(); }
        var touched = new HashSet<Rsc>(ReferenceEqualityComparer.Instance);
        foreach (var co in _colocs)
        {
            co.Dependent.ColocAsDependent.Add(co);
            co.Primary.ColocAsPrimary.Add(co);
            touched.Add(co.Dependent);
            touched.Add(co.Primary);
        }
        foreach (var r in touched)
        {
            SortColocations(r.ColocAsDependent, c => c.Primary);
            SortColocations(r.ColocAsPrimary, c => c.Dependent);
        }
    }

    private static readonly Comparer<Rsc> ColocationOrder = Comparer<Rsc>.Create(static (a, b) =>
    {
        if (a.Priority != b.Priority) return b.Priority.CompareTo(a.Priority);
        if (a.Kind != b.Kind) return b.Kind.CompareTo(a.Kind);
        if (a.Kind == RscKind.Clone && a.Promotable != b.Promotable) return a.Promotable ? -1 : 1;
        return string.CompareOrdinal(a.Id, b.Id);
    });

    /// <summary>
    /// Pacemaker 2.1.5 keeps a resource's colocations sorted by the other side: higher priority first,
    /// then clones before groups before primitives, promotable clones first, then by id; a colocation
    /// goes before the equal ones added earlier (so two with the same resource apply newest first).
    /// Done as one stable sort of the reversed list (inserting each in place was quadratic: 1.1 s of
    /// 10,000 resources' constraint unpacking).
    /// </summary>
    private static void SortColocations(List<Coloc> list, Func<Coloc, Rsc> other)
    {
        if (list.Count < 2) return;
        list.Reverse();
        var sorted = list.OrderBy(other, ColocationOrder).ToList();
        list.Clear();
        list.AddRange(sorted);
    }

    private IEnumerable<Rsc> Resolve(string? id)
    {
        if (id is null) yield break;
        if (FindRsc(id) is { } r && r.Parent is not { Kind: RscKind.Clone }) yield return r;
    }

    private void UnpackLocation(LocationConstraint l)
    {
        var targets = new List<Rsc>();
        if (l.Resource is not null) targets.AddRange(Resolve(l.Resource));
        else if (l.ResourcePattern is not null)
        {
            Regex re;
            try { re = new Regex(l.ResourcePattern, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)); }
            catch (ArgumentException) { return; }
            targets.AddRange(_top.Where(r => re.IsMatch(r.Id)));
        }
        foreach (var s in l.Sets)
            foreach (var id in s.Resources) targets.AddRange(Resolve(id));
        foreach (var t in targets) _locations.Add((l, t));
    }

    private static Role ParseRole(string? s) => s is not null && Roles.TryParse(s, out var r) ? r : Role.Unknown;

    private void UnpackColocation(ColocationConstraint c)
    {
        var influence = c.Influence is null || Truth.IsTrue(c.Influence);
        if (c.Sets.Count == 0)
        {
            var dep = Resolve(c.Resource).FirstOrDefault();
            var pri = Resolve(c.WithResource).FirstOrDefault();
            if (dep is null || pri is null || c.Score is null) return;
            AddColoc(c.Id, dep, pri, c.Score.Value.Value, ParseRole(c.ResourceRole), ParseRole(c.WithResourceRole), c.NodeAttribute, influence);
            return;
        }
        var score = c.Score?.Value ?? 0;
        // Inside a sequential set each member is placed with the one before it.
        foreach (var set in c.Sets)
        {
            var s = set.Score?.Value ?? score;
            var role = ParseRole(set.Role);
            if (s < 0)
            {
                // A negative set keeps every member away from every other one.
                var members = set.Resources.SelectMany(Resolve).ToList();
                for (var j = 1; j < members.Count; j++)
                    for (var i = 0; i < j; i++)
                        AddColoc(c.Id, members[j], members[i], s, role, role, c.NodeAttribute, influence);
                continue;
            }
            if (set.Sequential == false) continue;
            Rsc? prev = null;
            foreach (var id in set.Resources)
            {
                var r = Resolve(id).FirstOrDefault();
                if (r is null) continue;
                if (prev is not null) AddColoc(c.Id, r, prev, s, role, role, c.NodeAttribute, influence);
                prev = r;
            }
        }
        // Between sets: a set is placed with the set after it.
        for (var i = 0; i + 1 < c.Sets.Count; i++)
        {
            var s1 = c.Sets[i];
            var s2 = c.Sets[i + 1];
            var r1 = s1.Resources.SelectMany(Resolve).ToList();
            var r2 = s2.Resources.SelectMany(Resolve).ToList();
            if (r1.Count == 0 || r2.Count == 0) continue;
            var deps = s1.Sequential != false ? [r1[0]] : r1;
            var pris = s2.Sequential != false ? [r2[^1]] : r2;
            foreach (var d in deps)
                foreach (var p in pris)
                    AddColoc(c.Id, d, p, score, ParseRole(s1.Role), ParseRole(s2.Role), c.NodeAttribute, influence);
        }
    }

    private void AddColoc(string id, Rsc dep, Rsc pri, int score, Role depRole, Role priRole, string? attr, bool influence)
    {
        if (score == 0 || dep == pri) return;
        if (Truth.IsFalse(dep.MetaValue("critical"))) influence = false;
        _colocs.Add(new Coloc(id, dep, pri, score)
        {
            DependentRole = depRole == Role.Started ? Role.Unknown : depRole,
            PrimaryRole = priRole == Role.Started ? Role.Unknown : priRole,
            NodeAttribute = attr ?? "#uname",
            Influence = influence,
        });
    }

    private void UnpackOrder(OrderConstraint o)
    {
        var kind = OrderKind.Mandatory;
        if (o.Kind is { } k)
            kind = k.ToLowerInvariant() switch { "optional" => OrderKind.Optional, "serialize" => OrderKind.Serialize, _ => OrderKind.Mandatory };
        else if (o.Score is { } sc && sc.Value == 0) kind = OrderKind.Optional;
        var symmetrical = o.Symmetrical ?? kind != OrderKind.Serialize;
        if (o.Sets.Count == 0)
        {
            var first = Resolve(o.First).FirstOrDefault();
            var then = Resolve(o.Then).FirstOrDefault();
            if (first is null || then is null) return;
            _orders.Add(new OrderSpec(o.Id, first, o.FirstAction ?? "start", then, o.ThenAction ?? o.FirstAction ?? "start", kind)
            {
                Symmetrical = symmetrical,
                // require-all=false: "then" may start once any instance of a cloned "first" can run
                OneOrMore = o.RequireAll == false && first.Kind == RscKind.Clone,
            });
            return;
        }
        var chains = new List<(List<Rsc> All, bool Seq, string Action, bool RequireAll)>();
        foreach (var set in o.Sets)
        {
            var members = set.Resources.SelectMany(Resolve).ToList();
            if (members.Count == 0) continue;
            var setKind = kind;
            if (set.Kind is { } sk) setKind = sk.ToLowerInvariant() switch { "optional" => OrderKind.Optional, "serialize" => OrderKind.Serialize, _ => OrderKind.Mandatory };
            var action = set.Action ?? "start";
            if (set.Sequential != false)
                for (var i = 0; i + 1 < members.Count; i++)
                    _orders.Add(new OrderSpec(o.Id, members[i], action, members[i + 1], action, setKind) { Symmetrical = symmetrical });
            chains.Add((members, set.Sequential != false, action, set.RequireAll != false));
        }
        for (var i = 0; i + 1 < chains.Count; i++)
        {
            var a = chains[i];
            var b = chains[i + 1];
            var firsts = a.Seq ? [a.All[^1]] : a.All;
            var thens = b.Seq ? [b.All[0]] : b.All;
            foreach (var f in firsts)
                foreach (var t in thens)
                    _orders.Add(new OrderSpec(o.Id, f, a.Action, t, b.Action, kind) { Symmetrical = symmetrical, OneOrMore = !a.RequireAll });
        }
    }

    // ---------------------------------------------------------------- locations

    private void ApplyLocations()
    {
        foreach (var r in _rscById.Values)
        {
            r.Allowed = new int[NodeCount];
            Array.Fill(r.Allowed, _symmetric && !r.Orphan ? 0 : Rsc.Absent);
        }
        foreach (var (l, rsc) in _locations)
        {
            var role = ParseRole(l.Role);
            if (l.Rules.Count == 0)
            {
                if (l.Node is null || l.Score is null || !_nodeByName.TryGetValue(l.Node, out var node)) continue;
                AddLocation(rsc, node.Index, l.Score.Value.Value, role);
                continue;
            }
            foreach (var rule in l.Rules)
            {
                var rrole = ParseRole(rule.Role);
                if (rrole == Role.Unknown) rrole = role;
                foreach (var node in _nodes)
                {
                    Func<string, string?> attr = node.Attribute;
                    if (!Rules.Matches(rule, attr, _now, _rulesById)) continue;
                    AddLocation(rsc, node.Index, Rules.RuleScore(rule, attr).Value, rrole);
                }
            }
        }
        foreach (var (rsc, node) in _historyBans) SetLocation(rsc, node.Index, Score.MinusInfinity.Value);
        foreach (var rsc in _banEverywhere)
            foreach (var x in SelfAndDescendants(rsc))
                for (var i = 0; i < NodeCount; i++) x.Allowed[i] = -Score.InfinityValue;
    }

    private void AddLocation(Rsc rsc, int node, int score, Role role)
    {
        if (role == Role.Promoted)
        {
            if (!_promotedLocations.TryGetValue(rsc, out var list)) _promotedLocations[rsc] = list = [];
            list.Add((node, score));
            return;
        }
        AddLocationTo(rsc, node, score);
    }

    /// <summary>
    /// A location applies to a resource and everything in it, except that in a colocated group only the
    /// first member takes the score: the others get the node at 0, the first member's placement
    /// already carries them (Pacemaker 2.1.5).
    /// </summary>
    private static void AddLocationTo(Rsc x, int node, int score)
    {
        SetLocation(x, node, score);
        for (var i = 0; i < x.Children.Count; i++)
            AddLocationTo(x.Children[i], node, x.Kind == RscKind.Group && x.Colocated && i > 0 ? 0 : score);
    }

    private static void SetLocation(Rsc x, int node, int score)
    {
        var cur = x.Allowed[node];
        x.Allowed[node] = cur == Rsc.Absent ? score : (new Score(cur) + new Score(score)).Value;
    }

    private void ApplyStickinessAndThresholds()
    {
        foreach (var rsc in _primitives)
        {
            if (rsc.Managed && rsc.Stickiness >= 1 && rsc.RunningOn.Count == 1)
            {
                var n = rsc.RunningOn[0].Index;
                if (_symmetric || rsc.Allowed[n] != Rsc.Absent)
                    SetLocation(rsc, n, rsc.Stickiness);
            }
            foreach (var node in _nodes)
            {
                if (rsc.MigrationThreshold <= 0 || rsc.FailureIgnored) continue;
                var fc = FailCount(rsc, node);
                if (fc <= 0) continue;
                if (rsc.MigrationThreshold - fc <= 0)
                {
                    var failed = rsc;
                    if (!rsc.Unique || rsc.CloneParent is { GloballyUnique: false }) failed = rsc.Top;
                    foreach (var x in SelfAndDescendants(failed)) SetLocation(x, node.Index, -Score.InfinityValue);
                }
            }
        }
    }
}
