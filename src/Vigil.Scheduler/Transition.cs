using Vigil.Core;

namespace Vigil.Scheduler;

/// <summary>The state of one node once the transition has run (fenced nodes end offline).</summary>
public sealed record NodeOutcome(string Name, bool Online, bool Standby, bool Maintenance, bool Unclean, bool Shutdown, bool Pending);

/// <summary>Where one resource instance ends up. <see cref="Node"/> is null when it ends stopped.</summary>
public sealed record Placement(string Resource, Role Role, string? Node)
{
    public bool Failed { get; init; }
    public bool Unmanaged { get; init; }
    public bool Blocked { get; init; }
    public bool Orphaned { get; init; }
    /// <summary>True for an instance of an anonymous clone: its instance number means nothing.</summary>
    public bool Anonymous { get; init; }
}

/// <summary>One line of the transition summary (start, stop, move, migrate, recover, restart, promote, demote, reload, fence).</summary>
public sealed record SummaryItem(string Change, string Resource, string? From, string? To)
{
    public Role? RoleBefore { get; init; }
    public Role? RoleAfter { get; init; }
    public bool Blocked { get; init; }
    public bool Anonymous { get; init; }
}

/// <summary>Kinds of graph actions, as the controller dispatches them.</summary>
public enum ActionKind
{
    /// <summary>A resource operation (start, stop, promote, demote, monitor, notify, migrate_to …).</summary>
    Resource,
    /// <summary>Fencing of a node.</summary>
    Fence,
    /// <summary>A cluster-level action (do_shutdown, clear_failcount, lrm_delete).</summary>
    Cluster,
    /// <summary>A synchronisation point with nothing to execute (group/clone start/running …).</summary>
    Pseudo,
}

/// <summary>One action of the transition graph. <see cref="Id"/> is the index in <see cref="Transition.Actions"/>.</summary>
public sealed record GraphAction(int Id, ActionKind Kind, string Task, string? Resource, string? Node)
{
    /// <summary>Recurring operation interval in milliseconds (0 for one-shot operations and probes).</summary>
    public long IntervalMs { get; init; }
    /// <summary>Fence action (reboot, off) or the cluster action's detail.</summary>
    public string? Detail { get; init; }
    public bool Anonymous { get; init; }

    /// <summary>The operation key suffix the records use: start, monitor_0, monitor_10000, …</summary>
    public string OpKey => OpKeyHasInterval ? $"{Task}_{IntervalMs}" : Task;

    /// <summary>Whether <see cref="OpKey"/> is the task followed by _ and the interval (monitors, probes, notifies …).</summary>
    public bool OpKeyHasInterval => Task is not ("start" or "stop" or "promote" or "demote" or "migrate_to" or "migrate_from" or "reload" or "reload-agent");
}

/// <summary>An ordering edge: <see cref="Before"/> must complete before <see cref="After"/> starts.</summary>
public readonly record struct Ordering(int Before, int After);

/// <summary>The scheduler's whole answer: final node states, placements, the summary and the action graph.</summary>
public sealed record Transition
{
    public IReadOnlyList<NodeOutcome> Nodes { get; init; } = [];
    public IReadOnlyList<Placement> Placements { get; init; } = [];
    public IReadOnlyList<SummaryItem> Summary { get; init; } = [];
    public IReadOnlyList<GraphAction> Actions { get; init; } = [];
    public IReadOnlyList<Ordering> Orderings { get; init; } = [];
    /// <summary>Per-resource score tables, filled when explanation was asked for.</summary>
    public IReadOnlyList<string> Explanation { get; init; } = [];
}
