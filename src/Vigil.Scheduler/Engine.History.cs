using System.Globalization;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>What a failure asks for, in Pacemaker's order of severity (a later failure only escalates).</summary>
internal enum OnFail { Ignore, Demote, Recover, Migrate, Block, Stop, Standby, Fence }

/// <summary>The outcome of replaying one resource's operation history on one node.</summary>
internal sealed class NodeHistory
{
    public Role Role = Role.Unknown;
    public OnFail OnFail = OnFail.Ignore;
    public bool StopFailed;
    public bool Banned;
    public bool BanEverywhere;
    public Role NextRole = Role.Unknown;
    public bool Failed;
    public bool StartPending;
    /// <summary>A failure was ignored (on-fail=ignore): the migration threshold is ignored too.</summary>
    public bool FailureIgnored;
    public bool Active => Role is not Role.Unknown and not Role.Stopped;
}

/// <summary>Replaying the operation history (lrm_rsc_op records) into a current role per node.</summary>
internal sealed partial class Engine
{
    private NodeHistory Replay(NodeInfo node, LrmResource lrm, Rsc? rsc)
    {
        var h = new NodeHistory();
        foreach (var op in SortedOps(lrm)) ReplayOp(node, rsc, op, h);
        return h;
    }

    private static int TargetRc(LrmOp op)
    {
        var key = op.TransitionKey;
        if (key is null)
        {
            var magic = op.TransitionMagic;
            if (magic is not null && magic.IndexOf(';') is var semi and >= 0) key = magic[(semi + 1)..];
        }
        if (key is null) return -1;
        var parts = key.Split(':');
        return parts.Length >= 4 && int.TryParse(parts[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var t) ? t : -1;
    }

    private void ReplayOp(NodeInfo node, Rsc? rsc, LrmOp op, NodeHistory h)
    {
        var task = op.Operation;
        if (task is "notify" or "meta-data" or "cancel" or "") return;
        var rc = op.Rc;
        var status = op.OpStatus;
        var interval = op.IntervalMs;
        var isProbe = task == "monitor" && interval == 0;
        var target = TargetRc(op);

        if (status == -1 || op.CallId == -1 && status == 0 && rc == 14)
        {
            // pending operation
            if (task == "start") { h.StartPending = true; if (h.Role < Role.Started) h.Role = Role.Started; }
            else if (task == "promote") h.Role = Role.Promoted;
            else if (task == "migrate_to" || task == "migrate_from") { }
            return;
        }
        if (status == 1) return; // cancelled
        if (status == 3 && interval > 0) return; // not supported recurring op

        // Expired failures no longer count (failure-timeout).
        var failed = status != 0 || (target >= 0 && rc != target);
        // (A recurring monitor blocked by on-fail=block keeps its failure: the monitor reports only changes.)
        if (failed && rsc is not null && rsc.FailureTimeoutS > 0 && op.LastRcChange > 0 &&
            !(interval > 0 && ConfiguredOnFail(rsc, task, interval) == OnFail.Block) &&
            _now.ToUnixTimeSeconds() > op.LastRcChange + rsc.FailureTimeoutS && !(isProbe && rc is 0 or 7 or 8))
        {
            var fc = FailCount(rsc, node);
            if (fc == 0) return;
        }

        switch (rc)
        {
            case 0:
                if (isProbe && target == 7) failed = status != 0;
                break;
            case 7:
                if (isProbe || target == 7)
                {
                    failed = status != 0 && status != 4;
                    if (!failed) { h.Role = Role.Stopped; h.OnFail = OnFail.Ignore; h.NextRole = Role.Unknown; h.Failed = false; return; }
                }
                else if (task != "stop") failed = true;
                break;
            case 8:
                if (isProbe) failed = false;
                else if (target == 8) failed = status != 0;
                else failed = true;
                if (status == 0 || status == 4) h.Role = Role.Promoted;
                break;
            case 9:
                h.Role = Role.Promoted;
                failed = true;
                break;
            default:
                if (status == 0 && rc != target) failed = true;
                break;
        }

        if (!failed)
        {
            var clear = false;
            switch (task)
            {
                case "monitor":
                    clear = true;
                    if (rc == 8) h.Role = Role.Promoted;
                    else if (h.Role < Role.Started) h.Role = Role.Started;
                    break;
                case "start": h.Role = Role.Started; clear = true; break;
                case "stop": h.Role = Role.Stopped; clear = true; break;
                case "promote": h.Role = Role.Promoted; clear = true; break;
                case "demote":
                    h.Role = Role.Unpromoted;
                    if (h.OnFail == OnFail.Demote) clear = true;
                    break;
                case "migrate_from": h.Role = Role.Started; clear = true; break;
                case "migrate_to": h.Role = Role.Started; break;
                default:
                    if (h.Role < Role.Started) h.Role = Role.Started;
                    break;
            }
            if (clear && h.OnFail is OnFail.Block or OnFail.Ignore or OnFail.Demote or OnFail.Recover)
            {
                h.OnFail = OnFail.Ignore;
                h.NextRole = Role.Unknown;
                h.Failed = false;
            }
            return;
        }

        // A failure.
        var onFail = ConfiguredOnFail(rsc, task, interval);
        if (onFail == OnFail.Ignore) h.FailureIgnored = true;
        if (onFail > h.OnFail) h.OnFail = onFail;
        h.Failed = true;
        if (task == "stop") { h.StopFailed = true; h.Banned = true; }
        else if (task == "promote") h.Role = Role.Promoted;
        else if (task == "demote")
        {
            // A blocked demote stays promoted (and must stop); otherwise recovery stops and restarts it unpromoted.
            if (onFail == OnFail.Block) { h.Role = Role.Promoted; h.NextRole = Role.Stopped; }
            else if (rc == 7) h.Role = Role.Stopped;
            else h.Role = Role.Unpromoted;
        }
        if (isProbe && rc == 5) { h.Role = Role.Stopped; }
        else if (h.Role < Role.Started) h.Role = Role.Started;
        // Hard errors (invalid arguments, unimplemented, insufficient privileges, not installed) ban the node.
        if (rc is 2 or 4 or 5 || rc == 3 && interval == 0) h.Banned = true;
        if (rc == 6) h.BanEverywhere = true;
        if (onFail == OnFail.Stop) { h.NextRole = Role.Stopped; h.BanEverywhere = true; }
    }

    private OnFail ConfiguredOnFail(Rsc? rsc, string task, long intervalMs)
    {
        string? value = null;
        if (rsc?.Prim is { } p)
        {
            foreach (var o in p.Operations)
            {
                if (o.Name != task) continue;
                var ims = (long)o.IntervalValue.TotalMilliseconds;
                if (ims != intervalMs && !(task == "monitor" && intervalMs == 0 && ims == 0)) continue;
                value = o.OnFail;
                break;
            }
        }
        value ??= _opDefaults.TryGetValue("on-fail", out var d) ? d : null;
        switch (value?.ToLowerInvariant())
        {
            case "ignore": return OnFail.Ignore;
            case "block": return OnFail.Block;
            case "stop": return OnFail.Stop;
            case "standby": return OnFail.Standby;
            case "fence": return _stonithEnabled ? OnFail.Fence : OnFail.Block;
            case "demote": return OnFail.Demote;
            case "restart": return OnFail.Recover;
        }
        if (task == "stop") return _stonithEnabled && _haveFencingDevice ? OnFail.Fence : OnFail.Block;
        return OnFail.Recover;
    }

    /// <summary>Applies one node's replayed history to the resource instance (Pacemaker's process_rsc_state).</summary>
    private void Apply(Rsc rsc, NodeInfo node, NodeHistory h)
    {
        if (h.Banned) BanFromHistory(rsc, node);
        if (h.StopFailed) rsc.StopFailedOn.Add(node.Index);
        if (h.StartPending) rsc.StartPending = true;
        if (h.FailureIgnored) rsc.FailureIgnored = true;
        if (h.NextRole != Role.Unknown && (rsc.NextRole == Role.Unknown || h.NextRole < rsc.NextRole)) rsc.NextRole = h.NextRole;
        if (h.BanEverywhere)
        {
            var target = rsc;
            if (rsc.CloneParent is { GloballyUnique: false } cp) target = cp;
            _banEverywhere.Add(target);
        }
        if (!h.Active) return;
        // A managed resource active on a node that is down means the node must be fenced.
        if (!node.Online && !node.Maintenance && rsc.Managed) node.Unclean = true;
        rsc.RunningOn.Add(node);
        rsc.RoleOn[node.Index] = h.Role;
        if (h.Role > rsc.Role) rsc.Role = h.Role;
        if (h.OnFail != OnFail.Ignore) rsc.FailedOn.Add(node.Index);
        switch (h.OnFail)
        {
            case OnFail.Ignore:
                break;
            case OnFail.Demote:
                rsc.Failed = true;
                break;
            case OnFail.Recover:
                rsc.Failed = true;
                rsc.RecoverOn.Add(node.Index);
                break;
            case OnFail.Fence:
                rsc.Failed = true;
                if (CanFence(node)) node.Unclean = true;
                else { rsc.Managed = false; rsc.Blocked = true; }
                break;
            case OnFail.Standby:
                rsc.Failed = true;
                node.Standby = true;
                rsc.RecoverOn.Add(node.Index);
                break;
            case OnFail.Block:
                rsc.Failed = true;
                rsc.Managed = false;
                rsc.Blocked = true;
                break;
            case OnFail.Migrate:
                rsc.Failed = true;
                BanFromHistory(rsc, node);
                rsc.RecoverOn.Add(node.Index);
                break;
            case OnFail.Stop:
                rsc.Failed = true;
                rsc.NextRole = Role.Stopped;
                rsc.RecoverOn.Add(node.Index);
                break;
        }
    }

    private readonly List<(Rsc, NodeInfo)> _historyBans = [];
    private readonly HashSet<Rsc> _banEverywhere = [];

    private void BanFromHistory(Rsc rsc, NodeInfo node) => _historyBans.Add((rsc, node));

    /// <summary>The effective fail count of a resource on a node (all operations, expired ones ignored).</summary>
    private int FailCount(Rsc rsc, NodeInfo node)
    {
        var name = rsc.CloneParent is { GloballyUnique: false } ? rsc.Prim?.Id ?? rsc.Id : rsc.Id;
        if (!FailIndex(node).TryGetValue(name, out var entry)) return 0;
        var (total, lastFailure) = entry;
        if (total > 0 && rsc.FailureTimeoutS > 0 && lastFailure > 0 && _now.ToUnixTimeSeconds() >= lastFailure + rsc.FailureTimeoutS)
            return 0;
        return total;
    }

    private readonly Dictionary<NodeInfo, Dictionary<string, (int Total, long LastFailure)>> _failIndex = [];

    /// <summary>fail-count-RSC[#op_interval] and last-failure-RSC[#…] of one node, summed per resource (built once).</summary>
    private Dictionary<string, (int Total, long LastFailure)> FailIndex(NodeInfo node)
    {
        if (_failIndex.TryGetValue(node, out var index)) return index;
        index = new Dictionary<string, (int, long)>(StringComparer.Ordinal);
        foreach (var kv in node.Attributes)
        {
            bool count = kv.Key.StartsWith("fail-count-", StringComparison.Ordinal);
            bool last = !count && kv.Key.StartsWith("last-failure-", StringComparison.Ordinal);
            if (!count && !last) continue;
            var rest = kv.Key[(count ? "fail-count-".Length : "last-failure-".Length)..];
            var hash = rest.IndexOf('#');
            var name = hash >= 0 ? rest[..hash] : rest;
            index.TryGetValue(name, out var e);
            if (count) e.Item1 = (new Score(e.Item1) + (Score.TryParse(kv.Value, out var sc) ? sc : Score.Zero)).Value;
            else e.Item2 = Math.Max(e.Item2, long.TryParse(kv.Value, out var lf) ? lf : 0);
            index[name] = e;
        }
        _failIndex[node] = index;
        return index;
    }
}
