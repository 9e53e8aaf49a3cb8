using System.Globalization;
using Vigil.Core.Model;

namespace Vigil.Host.Agents;

/// <summary>
/// Operation records in the shape of the CIB status section (lrm_resource / lrm_rsc_op), which is what
/// the scheduler reads: per resource the last one-shot operation (<c>RSC_last_0</c>), the last failure
/// (<c>RSC_last_failure_0</c>) and each active recurring operation (<c>RSC_monitor_INTERVAL</c>). Pure.
/// </summary>
public static class OperationHistory
{
    public static LrmResource ToLrmResource(string resourceId, IReadOnlyList<OperationRecord> records, OperationRecord? lastFailure,
        IEnumerable<AgentAction> activeRecurring, string nodeName)
    {
        var ops = new List<LrmOp>();
        var agent = records.Concat(lastFailure is null ? [] : [lastFailure]).Select(r => r.Agent).FirstOrDefault();
        var last = records.Where(r => r.IntervalMs == 0).MaxBy(r => r.CallId);
        if (last is not null) ops.Add(ToLrmOp(last, $"{resourceId}_last_0", nodeName));
        if (lastFailure is not null) ops.Add(ToLrmOp(lastFailure, $"{resourceId}_last_failure_0", nodeName));
        var active = activeRecurring.Where(a => a.ResourceId == resourceId).Select(a => a.OperationKey).ToHashSet(StringComparer.Ordinal);
        foreach (var r in records.Where(r => r.IntervalMs > 0 && active.Contains(r.OperationKey)).OrderBy(r => r.CallId))
            ops.Add(ToLrmOp(r, r.OperationKey, nodeName));
        return new LrmResource(resourceId)
        {
            Class = agent is null ? null : AgentId.ClassName(agent.Class),
            Provider = agent?.Provider,
            Type = agent?.Type,
            Ops = ops,
        };
    }

    public static LrmOp ToLrmOp(OperationRecord r, string id, string nodeName)
    {
        static string I(long v) => v.ToString(CultureInfo.InvariantCulture);
        var attrs = new List<KeyValuePair<string, string>>
        {
            new("id", id),
            new("operation_key", r.OperationKey),
            new("operation", r.Action),
            new("crm-debug-origin", "vigil-executor"),
            new("crm_feature_set", OcfEnvironment.FeatureSet),
        };
        if (r.TransitionKey is not null)
        {
            attrs.Add(new("transition-key", r.TransitionKey));
            attrs.Add(new("transition-magic", $"{(int)r.Status}:{r.Rc};{r.TransitionKey}"));
        }
        attrs.Add(new("exit-reason", r.ExitReason ?? ""));
        attrs.Add(new("on_node", nodeName));
        attrs.Add(new("call-id", I(r.CallId)));
        attrs.Add(new("rc-code", I(r.Rc)));
        attrs.Add(new("op-status", I((int)r.Status)));
        attrs.Add(new("interval", I(r.IntervalMs)));
        attrs.Add(new("last-rc-change", I(r.LastRcChange.ToUnixTimeSeconds())));
        if (r.IntervalMs == 0) attrs.Add(new("last-run", I(r.LastRun.ToUnixTimeSeconds())));
        attrs.Add(new("exec-time", I((long)r.ExecTime.TotalMilliseconds)));
        attrs.Add(new("queue-time", I((long)r.QueueTime.TotalMilliseconds)));
        if (r.OpDigest is not null) attrs.Add(new("op-digest", r.OpDigest));
        return new LrmOp(id) { Attributes = attrs };
    }
}
