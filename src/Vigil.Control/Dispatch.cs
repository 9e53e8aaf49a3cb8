namespace Vigil.Control;

/// <summary>One executable step of a transition, as the controller hands it to a node.</summary>
public sealed record PlannedAction(int Id, string Task, string Resource, string Node, long IntervalMs)
{
    /// <summary>Identifies the same step across re-planned transitions: resource, operation, interval and node.</summary>
    public string Key => IsFence ? $"#fence|{Node}" : $"{Resource}|{Task}|{IntervalMs}|{Node}";

    /// <summary>Fencing of <see cref="Node"/> (<see cref="Task"/> is reboot or off); it blocks its successors until confirmed.</summary>
    public bool IsFence { get; init; }

    /// <summary>Which of the controller's transitions planned it (results of older ones abort the current one).</summary>
    public int Generation { get; init; }

    /// <summary>
    /// A probe the node may answer from its executor's history instead of running the agent: its results were recorded
    /// under an earlier term, and nothing this leader sent there went unanswered (<see cref="Controller.MissingProbes"/>).
    /// </summary>
    public bool FromHistory { get; init; }
}

/// <summary>
/// Chooses what to dispatch now (pure). The controller re-plans after every recorded result, so an
/// action is ready when it is not already running, was not already done in this plan, and every
/// action ordered before it is either done or not part of the plan any more. Pseudo and
/// cluster actions are treated as done once their own inputs are done.
/// </summary>
public static class Dispatch
{
    public static IReadOnlyList<PlannedAction> Ready(
        IReadOnlyList<(int Id, bool Executable, PlannedAction? Action)> actions,
        IReadOnlyList<(int Before, int After)> orderings,
        IReadOnlySet<string> inFlight)
    {
        var preds = new Dictionary<int, List<int>>();
        foreach (var (before, after) in orderings)
        {
            if (!preds.TryGetValue(after, out var list)) preds[after] = list = [];
            list.Add(before);
        }
        var byId = actions.ToDictionary(a => a.Id);
        var blockedMemo = new Dictionary<int, bool>();
        // An action blocks its successors while it, or anything it waits for, is still to be done.
        bool Pending(int id, int depth)
        {
            if (blockedMemo.TryGetValue(id, out var b)) return b;
            if (depth > 10_000) return true;
            blockedMemo[id] = true; // cycle guard: treat as pending
            var a = byId[id];
            bool pending = a.Executable || (preds.TryGetValue(id, out var ps) && ps.Any(p => Pending(p, depth + 1)));
            blockedMemo[id] = pending;
            return pending;
        }
        var ready = new List<PlannedAction>();
        foreach (var (id, executable, action) in actions)
        {
            if (!executable || action is null || inFlight.Contains(action.Key)) continue;
            if (preds.TryGetValue(id, out var ps) && ps.Any(p => Pending(p, 0))) continue;
            ready.Add(action);
        }
        return ready;
    }
}
