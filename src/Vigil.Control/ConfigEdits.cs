using System.Globalization;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Control;

/// <summary>
/// The configuration changes behind 'vigil resource …' (pure). Moves and bans are location
/// constraints named like crm_resource's (cli-prefer-R, cli-ban-R-on-N) so tools and habits carry
/// over; a lifetime becomes a date rule that expires by itself.
/// </summary>
public static class ConfigEdits
{
    public sealed record Result(Configuration? Configuration, string Message, string? Error = null);

    private static Resource? Find(Configuration c, string id) => c.FindResource(id);

    private static string Unknown(Configuration c, string id)
    {
        var hint = Vigil.Config.Crm.CrmParser.Suggest(id, c.AllResources().Select(r => r.Id));
        return $"there is no resource '{id}'; {hint ?? "'vigil status' lists them"}";
    }

    /// <summary>Sets meta target-role (start: Started, stop: Stopped) on the resource itself.</summary>
    public static Result SetTargetRole(Configuration c, string id, string role)
    {
        var r = Find(c, id);
        if (r is null) return new Result(null, "", Unknown(c, id));
        var updated = WithMeta(r, "target-role", role);
        return new Result(Replace(c, updated), $"{id}: target-role={role}");
    }

    /// <summary>Sets an instance attribute (an agent parameter) on the resource itself, like <c>crm_resource --set-parameter</c>.</summary>
    public static Result SetParameter(Configuration c, string id, string name, string value)
    {
        var r = Find(c, id);
        if (r is null) return new Result(null, "", Unknown(c, id));
        var updated = r with { InstanceAttributes = WithPair(r.InstanceAttributes, AttributeSetKind.Instance, $"{r.Id}-instance_attributes", name, value) };
        return new Result(Replace(c, updated), $"{id}: {name}={value}");
    }

    private static Resource WithMeta(Resource r, string name, string value) =>
        r with { MetaAttributes = WithPair(r.MetaAttributes, AttributeSetKind.Meta, $"{r.Id}-meta_attributes", name, value) };

    /// <summary>The sets with <paramref name="name"/> set in the first unconditional one (created when there is none).</summary>
    private static List<AttributeSet> WithPair(IReadOnlyList<AttributeSet> existing, AttributeSetKind kind, string newSetId, string name, string value)
    {
        var sets = existing.ToList();
        var set = sets.FirstOrDefault(s => s.Rule is null) ?? new AttributeSet(kind, newSetId);
        var pairs = set.Pairs.Where(p => p.Name != name).Append(new NvPair($"{set.Id}-{name}", name, value)).ToList();
        var i = sets.IndexOf(set);
        if (i >= 0) sets[i] = set with { Pairs = pairs }; else sets.Add(set with { Pairs = pairs });
        return sets;
    }

    private static Configuration Replace(Configuration c, Resource updated)
    {
        Resource Swap(Resource r) => r.Id == updated.Id ? updated : r switch
        {
            Group g => g with { Children = g.Children.Select(x => (Primitive)Swap(x)).ToList() },
            Clone cl => cl with { Child = Swap(cl.Child) },
            _ => r,
        };
        return c with { Resources = c.Resources.Select(Swap).ToList() };
    }

    /// <summary>Prefer <paramref name="node"/> with INFINITY (cli-prefer-R), replacing an older move of R.</summary>
    public static Result Move(Configuration c, string id, string node, TimeSpan? lifetime, DateTimeOffset now)
    {
        if (Find(c, id) is null) return new Result(null, "", Unknown(c, id));
        if (!c.Nodes.Any(n => n.Uname == node)) return new Result(null, "", $"there is no node '{node}'; 'vigil status' lists the nodes");
        var cid = $"cli-prefer-{id}";
        var constraints = c.Constraints.Where(k => k.Id != cid).ToList();
        constraints.Add(Location(cid, id, node, Score.Infinity, lifetime, now));
        var until = lifetime is { } l ? $" until {(now + l).ToUniversalTime():yyyy-MM-dd HH:mm:ss}Z" : "";
        return new Result(c with { Constraints = constraints },
            $"{id} is moving to {node}: constraint {cid} prefers {node}{until}" + (lifetime is null ? $". It stays in force until 'vigil resource clear {id}'" : ""));
    }

    /// <summary>Forbid <paramref name="node"/> with -INFINITY (cli-ban-R-on-N).</summary>
    public static Result Ban(Configuration c, string id, string node, TimeSpan? lifetime, DateTimeOffset now)
    {
        if (Find(c, id) is null) return new Result(null, "", Unknown(c, id));
        if (!c.Nodes.Any(n => n.Uname == node)) return new Result(null, "", $"there is no node '{node}'; 'vigil status' lists the nodes");
        var cid = $"cli-ban-{id}-on-{node}";
        var constraints = c.Constraints.Where(k => k.Id != cid).ToList();
        constraints.Add(Location(cid, id, node, Score.MinusInfinity, lifetime, now));
        return new Result(c with { Constraints = constraints },
            $"{id} may not run on {node} (constraint {cid}){(lifetime is null ? $" until 'vigil resource clear {id}'" : $" for {lifetime}")}");
    }

    private static LocationConstraint Location(string cid, string rsc, string node, Score score, TimeSpan? lifetime, DateTimeOffset now)
    {
        if (lifetime is null) return new LocationConstraint(cid) { Resource = rsc, Role = "Started", Score = score, Node = node };
        var end = (now + lifetime.Value).ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);
        return new LocationConstraint(cid)
        {
            Resource = rsc, Role = "Started",
            Rules = [new Rule($"{cid}-rule") { Score = score, BooleanOp = null, Expressions =
            [
                new AttributeExpression($"{cid}-expr", "#uname", "eq") { Value = node },
                new DateExpression($"{cid}-lifetime", "lt") { End = end },
            ] }],
        };
    }

    /// <summary>Sets (or with null, removes) a cluster property in the first unconditional property set.</summary>
    public static Result SetProperty(Configuration c, string name, string? value)
    {
        var sets = c.Properties.ToList();
        var set = sets.FirstOrDefault(s => s.Rule is null) ?? new AttributeSet(AttributeSetKind.ClusterProperties, "cib-bootstrap-options");
        var pairs = set.Pairs.Where(p => p.Name != name).ToList();
        if (value is not null) pairs.Add(new NvPair($"{set.Id}-{name}", name, value));
        var i = sets.IndexOf(set);
        if (i >= 0) sets[i] = set with { Pairs = pairs }; else sets.Insert(0, set with { Pairs = pairs });
        return new Result(c with { Properties = sets }, value is null ? $"property {name} removed (default applies)" : $"property {name}={value}");
    }

    /// <summary>Removes every move and ban of the resource (or of all resources when null).</summary>
    public static Result Clear(Configuration c, string? id)
    {
        if (id is not null && Find(c, id) is null) return new Result(null, "", Unknown(c, id));
        var removed = c.Constraints.Where(k => IsCli(k) && (id is null || CliResource(k) == id)).Select(k => k.Id).ToList();
        return new Result(c with { Constraints = c.Constraints.Where(k => !removed.Contains(k.Id)).ToList() },
            removed.Count == 0 ? $"no move or ban constraints{(id is null ? "" : $" for {id}")}" : $"removed {string.Join(", ", removed)}");
    }

    public static bool IsCli(Constraint k) => k is LocationConstraint && (k.Id.StartsWith("cli-prefer-", StringComparison.Ordinal) || k.Id.StartsWith("cli-ban-", StringComparison.Ordinal));

    public static string? CliResource(Constraint k) => (k as LocationConstraint)?.Resource;

    /// <summary>Human lines for status: every move/ban still in force (the most forgotten thing in Pacemaker clusters).</summary>
    public static IEnumerable<string> DescribeCli(Configuration c) => c.Constraints.Where(IsCli).OfType<LocationConstraint>().Select(l =>
    {
        var node = l.Node ?? l.Rules.SelectMany(r => r.Expressions).OfType<AttributeExpression>().FirstOrDefault(e => e.Attribute == "#uname")?.Value;
        var end = l.Rules.SelectMany(r => r.Expressions).OfType<DateExpression>().FirstOrDefault()?.End;
        var what = l.Id.StartsWith("cli-ban-", StringComparison.Ordinal) ? $"banned from {node}" : $"moved to {node}";
        return $"{l.Resource} {what} ({l.Id}{(end is null ? ", until cleared" : $", until {end}")}); 'vigil resource clear {l.Resource}' removes it";
    });
}
