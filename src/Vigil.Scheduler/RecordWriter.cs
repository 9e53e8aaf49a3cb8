using Vigil.Core;

namespace Vigil.Scheduler;

/// <summary>
/// Renders a transition as the normalised record the conformance oracle prints (N, P, T, A, M, F, C
/// and optionally O lines, sorted): the format Pacemaker's decisions are compared in.
/// </summary>
public static class RecordWriter
{
    private static readonly HashSet<string> StateOps = ["start", "stop", "promote", "demote", "migrate_to", "migrate_from", "reload", "reload-agent"];

    public static IReadOnlyList<string> Lines(Transition t, bool withOrderings)
    {
        var lines = new List<string>();
        foreach (var n in t.Nodes)
        {
            var flags = new List<string> { n.Online ? "online" : "offline" };
            if (n.Standby) flags.Add("standby");
            if (n.Maintenance) flags.Add("maintenance");
            if (n.Unclean) flags.Add("unclean");
            if (n.Shutdown) flags.Add("shutdown");
            if (n.Pending) flags.Add("pending");
            lines.Add($"N|{n.Name}|{string.Join(',', flags)}");
        }
        foreach (var p in t.Placements)
        {
            var flags = new List<string>();
            if (p.Failed) flags.Add("failed");
            if (p.Unmanaged) flags.Add("unmanaged");
            if (p.Blocked) flags.Add("blocked");
            if (p.Orphaned) flags.Add("orphaned");
            lines.Add($"P|{Name(p.Resource, p.Anonymous)}|{Roles.Name(p.Role)}|{p.Node ?? "-"}|{string.Join(',', flags)}");
        }
        foreach (var s in t.Summary)
        {
            if (s.Resource == "node" && s.Change.StartsWith("Fence", StringComparison.Ordinal) || s.Change == "shutdown")
            {
                lines.Add($"T|{s.Change}|node|{s.From}|-|-|-");
                continue;
            }
            var role = s.RoleBefore is { } rb ? Roles.Name(rb) : "-";
            var next = s.RoleAfter is { } ra ? Roles.Name(ra) : "-";
            lines.Add($"T|{s.Change}|{Name(s.Resource, s.Anonymous)}|{s.From ?? "-"}|{s.To ?? "-"}|{role}|{next}" + (s.Blocked ? "|blocked" : ""));
        }
        var labels = new string?[t.Actions.Count];
        foreach (var a in t.Actions)
        {
            string? line = a.Kind switch
            {
                ActionKind.Fence => $"F|{a.Node}|{a.Detail ?? "reboot"}",
                ActionKind.Cluster => $"C|{a.Task}|{a.Node ?? "-"}|",
                ActionKind.Resource when StateOps.Contains(a.Task) => $"A|{Name(a.Resource!, a.Anonymous)}|{a.Task}|{a.Node ?? "-"}",
                ActionKind.Resource => $"M|{Name(a.Resource!, a.Anonymous)}|{a.OpKey}|{a.Node ?? "-"}",
                _ => null,
            };
            labels[a.Id] = line;
            if (line is not null) lines.Add(line);
        }
        if (withOrderings) lines.AddRange(OrderingLines(t, labels));
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    private static string Name(string id, bool anonymous)
    {
        if (!anonymous) return id;
        var colon = id.LastIndexOf(':');
        return colon > 0 && int.TryParse(id.AsSpan(colon + 1), out _) ? id[..colon] : id;
    }

    /// <summary>Transitive reduction of the precedence among real (non-pseudo) actions.</summary>
    private static IEnumerable<string> OrderingLines(Transition t, string?[] labels)
    {
        var n = t.Actions.Count;
        var succ = new List<int>[n];
        for (var i = 0; i < n; i++) succ[i] = [];
        foreach (var o in t.Orderings) succ[o.Before].Add(o.After);
        var reach = new HashSet<int>?[n];
        HashSet<int> Reach(int a)
        {
            if (reach[a] is { } r) return r;
            var set = new HashSet<int>();
            reach[a] = set;
            foreach (var b in succ[a])
            {
                if (labels[b] is not null) set.Add(b);
                set.UnionWith(Reach(b));
            }
            return set;
        }
        var result = new List<string>();
        for (var a = 0; a < n; a++)
        {
            if (labels[a] is null) continue;
            var d = Reach(a);
            var covered = new HashSet<int>();
            foreach (var x in d) covered.UnionWith(Reach(x));
            foreach (var x in d)
                if (!covered.Contains(x)) result.Add($"O|{labels[a]} < {labels[x]}");
        }
        return result;
    }
}
