using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Control;

/// <summary>Where resources are active right now, read from the recorded operation history (pure).</summary>
public static class Activity
{
    /// <summary>
    /// resource id → (node, role) for every online node whose last recorded operation left it active;
    /// with <paramref name="includeUnclean"/>, also lost nodes not yet fenced (what they ran may still run).
    /// </summary>
    public static Dictionary<string, List<(string Node, Role Role)>> Active(ClusterState state, bool includeUnclean = false)
    {
        var result = new Dictionary<string, List<(string, Role)>>(StringComparer.Ordinal);
        foreach (var n in state.Nodes)
        {
            if (n.Crmd != "online" && !(includeUnclean && IsUnclean(n))) continue;
            foreach (var r in n.Resources)
            {
                var last = r.Ops.Where(o => o.Id.EndsWith("_last_0", StringComparison.Ordinal)).OrderByDescending(o => o.CallId).FirstOrDefault();
                if (last is null) continue;
                var role = RoleAfter(last);
                // A failed recurring monitor that reported "not running" overrides an older start.
                var monitor = r.Ops.Where(o => o.Operation == "monitor" && o.IntervalMs > 0).OrderByDescending(o => o.CallId).FirstOrDefault();
                if (monitor is not null && monitor.CallId > last.CallId && monitor.Rc == 7) role = Role.Stopped;
                if (role is Role.Started or Role.Promoted or Role.Unpromoted)
                {
                    var id = r.Id.Contains(':') ? r.Id[..r.Id.IndexOf(':')] : r.Id;
                    if (!result.TryGetValue(id, out var list)) result[id] = list = [];
                    list.Add((n.Uname ?? n.Id, role));
                }
            }
        }
        return result;
    }

    /// <summary>
    /// Online nodes where a resource's newest recorded result is a failure that <see cref="Active"/> does not count as
    /// running (a probe that failed or timed out, a recurring monitor that found it not running): the scheduler still
    /// treats it as active there and stops it, and once the node is gone it would fence the node for it.
    /// </summary>
    public static HashSet<string> Unsettled(ClusterState state)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in state.Nodes)
        {
            if (n.Crmd != "online") continue;
            foreach (var r in n.Resources)
            {
                var failure = r.Ops.FirstOrDefault(o => o.Id.EndsWith("_last_failure_0", StringComparison.Ordinal));
                // A probe that found the agent not installed (rc 5) leaves it stopped there for the scheduler too.
                if (failure is null || (failure.Operation == "monitor" && failure.IntervalMs == 0 && failure.Rc == 5)) continue;
                if (r.Ops.All(o => o == failure || o.CallId <= failure.CallId)) result.Add(n.Uname ?? n.Id);
            }
        }
        return result;
    }

    /// <summary>Lost without a clean shutdown and not fenced yet (Pacemaker's UNCLEAN).</summary>
    public static bool IsUnclean(NodeState n) => n.Crmd != "online" && n.InCcm == "false" && n.Expected == "member";

    private static Role RoleAfter(LrmOp op)
    {
        bool ok = op.OpStatus == 0;
        return (op.Operation, op.Rc) switch
        {
            ("stop", 0) when ok => Role.Stopped,
            ("stop", _) => Role.Started,        // a failed stop leaves it active (unclean)
            ("start" or "migrate_from", 0) when ok => Role.Started,
            ("start", _) => Role.Started,       // a failed start may have left something running
            ("promote", 0) when ok => Role.Promoted,
            ("demote", 0) when ok => Role.Unpromoted,
            ("monitor", 0) => Role.Started,
            ("monitor", 8) => Role.Promoted,
            ("monitor", 7) => Role.Stopped,
            ("migrate_to", 0) => Role.Stopped,
            _ => Role.Unknown,
        };
    }
}
