using System.Collections.Immutable;
using System.Text.Json;

namespace Vigil.Control;

public sealed partial record ClusterState
{
    /// <summary>How many fencing events are kept (oldest dropped first).</summary>
    public const int RememberedFenceEvents = 200;

    /// <summary>The snapshot keeps the fencing history in this attribute of the &lt;cib&gt; element (JSON).</summary>
    private const string FencingHeader = "vigil-fencing";

    /// <summary>Fencing attempts and operator acknowledgements, oldest first.</summary>
    public ImmutableList<FenceEvent> FencingHistory { get; init; } = [];

    /// <summary>The newest fencing event for <paramref name="node"/>, if any.</summary>
    public FenceEvent? LastFence(string node) => FencingHistory.LastOrDefault(e => e.Target == node);

    private ClusterState Fenced(FenceResultCommand f)
    {
        var history = FencingHistory.Add(new FenceEvent(f.Target, f.Action, f.Succeeded, f.By, f.Origin, f.AtUnixSeconds) { Devices = f.Devices, Reason = f.Reason });
        if (history.Count > RememberedFenceEvents) history = history.RemoveRange(0, history.Count - RememberedFenceEvents);
        var next = this with { FencingHistory = history };
        if (!f.Succeeded || !Nodes.Any(n => n.Uname == f.Target || n.Id == f.Target)) return next;
        // Fenced (or confirmed down by an operator): cleanly down, nothing running there any more,
        // as Pacemaker records it after a successful fencing. A later join starts from scratch.
        var node = NodeOrNew(f.Target) with
        {
            InCcm = "false", Crmd = "offline", Join = "down", Expected = "down",
            Resources = [], TransientAttributes = [],
        };
        return next.WithNode(node);
    }

    private string FencingHistoryJson() => JsonSerializer.Serialize(FencingHistory, ClusterCommand.Json);

    private static ImmutableList<FenceEvent> ReadFencingHistory(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try { return (JsonSerializer.Deserialize<List<FenceEvent>>(json, ClusterCommand.Json) ?? []).ToImmutableList(); }
        catch (JsonException) { return []; }
    }
}
