using Vigil.Config.Xml;
using Vigil.Control;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Simulation;

/// <summary>
/// The shells around the real cores, as the daemon has them: the DC loop over <see cref="Controller"/>,
/// the executor with the term rule (<see cref="Controller.AdmitTerm"/>) over simulated agents, the
/// fencer over simulated fence devices, the per-node no-quorum-policy loop, and a client that edits
/// the configuration.
/// </summary>
public sealed partial class Simulator
{
    private const int ControllerTickMs = 50;
    /// <summary>NodeDaemon.FenceRetryPause: a failed fence of a node is not retried sooner.</summary>
    private const int FenceRetryPauseMs = 5000;
    private readonly Dictionary<string, HashSet<string>> _lostUnfenced = new(StringComparer.Ordinal);
    private bool _configAcked;
    private readonly List<int> _ackedEdits = [];
    /// <summary>Client rounds in which the leader's edit waited for its read barrier or its previous edit.</summary>
    private int _nextEdit;
    /// <summary>Edits that set a parameter instead of a property: edit number → primitive.</summary>
    private readonly Dictionary<int, string> _parameterEdits = [];

    private static string Base(string rsc) => rsc.Contains(':') ? rsc[..rsc.IndexOf(':')] : rsc;

    private DateTimeOffset Clock => Epoch.AddMilliseconds(Now);

    // ----- controller (DC loop) -------------------------------------------------------------------

    private void ControllerTick()
    {
        foreach (var n in _nodes)
        {
            if (!n.Up) continue;
            WatchProposals(n);
            if (!Leads(n))
            {
                if (n.LedTerm is not null) { n.Controller.Follow(); n.InFlight.Clear(); n.LedTerm = null; }
                continue;
            }
            var term = TermOf(n);
            if (n.LedTerm != term) { n.InFlight.Clear(); n.Pending.Clear(); n.LedTerm = term; }
            if (n.Controller.Lead(term, Clock)) Trace(n.Name, $"leading in term {term}{(n.Alone is not null ? " (alone)" : "")}");
            // Alone, the peer stays lost to this controller until the quorum loop ends running alone (as the daemon does).
            var alonePeer = n.Alone?.Peer;
            foreach (var change in n.Controller.ReconcileMembership(StateOf(n), term, name => name != alonePeer && Linked(n, _byName[name]), Clock,
                name => _byName[name].Up ? _byName[name].BootId : null,
                _scenario.Bug == InjectedBug.NoIndirectProbes ? null : name => Indirect(n, name, alonePeer)))
            {
                Trace(n.Name, change.Message);
                Watch(n, change.Command, ReachableLoss(n, change.Command));
            }
            RecordCompletedShutdowns(n, term);
            var replan = n.Replan;
            n.Replan = false;
            var plan = n.Controller.PlanIfDue(StateOf(n), term, n.InFlight, replan, Clock);
            if (plan is not null) Carry(n, term, plan);
        }
        At(Now + ControllerTickMs, ControllerTick);
    }

    /// <summary>Proposes and watches the entry; <paramref name="onAck"/> runs once the proposer knows it committed.</summary>
    private void Watch(SimNode n, ClusterCommand command, Action? onAck)
    {
        var e = Propose(n, command);
        if (e is not null) n.Pending.Add((e, onAck));
    }

    private void WatchProposals(SimNode n)
    {
        if (n.Pending.Count == 0) return;
        if (!Leads(n)) { n.Pending.Clear(); return; }
        var done = n.Pending.Where(p => Acknowledged(n, p.Entry)).ToList();
        foreach (var p in done)
        {
            n.Pending.Remove(p);
            p.OnAck?.Invoke();
        }
    }

    private void Carry(SimNode l, long term, ControllerPlan plan)
    {
        foreach (var a in plan.Actions)
        {
            if (!l.InFlight.Add(a.Action.Key)) continue;
            _actions++;
            var target = _byName[a.Action.Node];
            CheckNotWitness(l, target, $"{a.Action.Task} {a.Action.Resource}");
            Trace(l.Name, $"dispatch {a.Action.Task}{(a.Action.IntervalMs > 0 ? $"/{a.Action.IntervalMs}ms" : "")} {a.Action.Resource} on {target.Name} (term {term})");
            var key = a.Action.Key;
            var generation = _seq++;
            l.Generation[key] = generation;
            Send(l, target, () => Execute(target, a, l, generation));
            // No answer (lost message, dead node, hung agent past its timeout): give up and plan again.
            At(Now + a.TimeoutMs + 1000, () =>
            {
                if (l.LedTerm == term && l.Generation.GetValueOrDefault(key) == generation && l.InFlight.Remove(key))
                {
                    Trace(l.Name, $"{a.Action.Task} {a.Action.Resource} on {a.Action.Node}: no answer");
                    l.Controller.Unanswered(a.Action);
                    l.Replan = true;
                }
            });
        }
        foreach (var f in plan.Fencing)
        {
            // As the daemon's StartFencing: not again within 5 s of a failed attempt (a later plan tries again).
            if (l.FenceFailedAt.TryGetValue(f.Target, out var failedAt) && Now - failedAt < FenceRetryPauseMs) continue;
            if (!l.InFlight.Add(f.Key)) continue;
            CheckNotWitness(l, _byName[f.Target], "fencing");
            Fence(l, f);
        }
    }

    private void OnResult(SimNode l, ActionRequest a, int rc, int opStatus, int callId, long dispatch, string? digest, string boot)
    {
        if (!Leads(l) || l.LedTerm != a.Term) return; // the leadership this was for is over
        var act = a.Action;
        Trace(l.Name, $"{act.Task} {act.Resource} on {act.Node}: rc {rc}{(opStatus != 0 ? $" (status {opStatus})" : "")} (call {callId})");
        var cmd = new RecordOperationCommand(act.Node, act.Resource, a.Class, a.Provider, a.Type, act.Task, act.IntervalMs, rc, opStatus, a.TargetRc ?? 0)
        {
            RequestId = $"op:{act.Node}:{act.Resource}:{act.Task}:{act.IntervalMs}:{callId}:{a.Term}:{dispatch}",
            CallId = callId,
            Term = a.Term,
            OpDigest = digest,
            Boot = boot,
        };
        // As the daemon does: the action stays in flight until its result is committed.
        var e = Propose(l, cmd);
        if (e is null) { l.InFlight.Remove(act.Key); return; }
        bool expected = rc == (a.TargetRc ?? 0) && opStatus == 0;
        l.Pending.Add((e, () => { l.InFlight.Remove(act.Key); l.Controller.Recorded(act, expected); l.Replan = true; }));
    }

    private void OnRefused(SimNode l, ActionRequest a)
    {
        if (l.LedTerm != a.Term) return;
        Trace(l.Name, $"{a.Action.Node} refused {a.Action.Task} {a.Action.Resource}: {(_byName[a.Action.Node].Witness ? "it is a witness" : $"term {a.Term} is old")}");
        l.InFlight.Remove(a.Action.Key);
        l.Replan = true;
    }

    private void OnReport(SimNode l, RecordOperationCommand report, Action? acknowledged = null)
    {
        if (!Leads(l)) return;
        Watch(l, report with { Term = TermOf(l) }, () => { l.Replan = true; acknowledged?.Invoke(); });
    }

    /// <summary>A node's report goes to the leader it knows and is sent again until that leader acknowledges it.</summary>
    private void SendReport(SimNode t, string key, RecordOperationCommand report)
    {
        if (!t.Up || !t.Reports.TryGetValue(key, out var current) || !ReferenceEquals(current, report)) return;
        if (LeaderOf(t) is { } name)
        {
            var l = _byName[name];
            Send(t, l, () => OnReport(l, report, () => Send(l, t, () =>
            {
                if (t.Reports.TryGetValue(key, out var c) && ReferenceEquals(c, report)) t.Reports.Remove(key);
            })));
        }
        int incarnation = t.Incarnation;
        At(Now + 500, () => { if (t.Incarnation == incarnation) SendReport(t, key, report); });
    }

    // ----- executor and agents --------------------------------------------------------------------

    private void Execute(SimNode t, ActionRequest a, SimNode leader, long dispatch)
    {
        var exec = t.Exec;
        // The transport delivers a request at most once (HTTP over TCP): a duplicate is dropped.
        if (!exec.Dispatches.Add(dispatch)) return;
        // The consensus term as the daemon's executor sees it (alone: the term it leads in).
        bool admit = Controller.AdmitTerm(exec.SeenTerm, TermOf(t), a.Term, out var seen);
        exec.SeenTerm = seen;
        if (_scenario.Bug == InjectedBug.IgnoreTerm) admit = true;
        // A witness's executor refuses every action after the term rule, as the daemon's ExecuteAsync does (409).
        if (!admit || t.Witness)
        {
            Send(t, leader, () => OnRefused(leader, a));
            return;
        }
        // Invariant 3, checked apart from the rule itself: terms an executor acts on never go back.
        if (a.Term < exec.MaxExecutedTerm) Violation(3, $"{t.Name} executed {a.Action.Task} {a.Action.Resource} of term {a.Term} after one of term {exec.MaxExecutedTerm}");
        exec.MaxExecutedTerm = Math.Max(exec.MaxExecutedTerm, a.Term);
        var act = a.Action;
        var rsc = Base(act.Resource);
        int callId = ++exec.CallId;
        int incarnation = t.Incarnation;
        bool faulty = !_liveness;
        bool hang = faulty && act.Task is "start" or "monitor" && _rng.NextDouble() < _scenario.Hang;
        bool fail = faulty && act.Task == "start" && _rng.NextDouble() < _scenario.StartFailure;
        if (act.Task == "start")
        {
            CheckStart(t, rsc);
            t.Truth[rsc] = Role.Started;
            t.StartedWith[rsc] = a.OpDigest;
        }
        long took = hang ? a.TimeoutMs : 5 + _rng.Next(45);
        At(Now + took, () =>
        {
            if (!t.Up || t.Incarnation != incarnation) return;
            int rc = 0, status = 0;
            switch (act.Task)
            {
                case "start":
                    if (hang) { rc = 1; status = 2; }
                    else if (fail) { rc = 1; t.Truth.Remove(rsc); }
                    break;
                case "stop":
                    t.Truth.Remove(rsc);
                    CancelRecurring(t, rsc);
                    break;
                case "monitor":
                    if (hang) { rc = 1; status = 2; }
                    else rc = MonitorRc(t, rsc);
                    break;
                case "promote":
                    if (t.Truth.ContainsKey(rsc)) { CheckPromote(t, rsc); t.Truth[rsc] = Role.Promoted; }
                    else rc = 7;
                    break;
                case "demote":
                    if (t.Truth.ContainsKey(rsc)) t.Truth[rsc] = Role.Started;
                    else rc = 7;
                    break;
                default:
                    rc = 3; // unimplemented: nothing configured here asks for it
                    break;
            }
            TrackLocal(t, a, rc, status);
            if (act.Task == "monitor" && act.IntervalMs > 0 && status == 0)
            {
                exec.LastRc[$"{rsc}|{act.IntervalMs}"] = rc;
                var gen = ++exec.CallId;
                exec.Recurring[$"{rsc}|{act.IntervalMs}"] = gen;
                At(Now + act.IntervalMs, () => Recur(t, a, incarnation, gen));
            }
            // As the daemon's executor: a probe that finds the resource running names the parameters it was started with.
            var digest = act.Task == "monitor" && act.IntervalMs == 0 && status == 0 && rc == 0 ? t.StartedWith.GetValueOrDefault(rsc) ?? a.OpDigest : a.OpDigest;
            var boot = t.BootId;
            Send(t, leader, () => OnResult(leader, a, rc, status, callId, dispatch, digest, boot));
        });
    }

    private static void CancelRecurring(SimNode t, string rsc)
    {
        foreach (var k in t.Exec.Recurring.Keys.Where(k => k.StartsWith(rsc + "|", StringComparison.Ordinal)).ToList()) t.Exec.Recurring.Remove(k);
    }

    /// <summary>A recurring monitor: when its result changes, the node reports to the leader it knows.</summary>
    private void Recur(SimNode t, ActionRequest a, int incarnation, int gen)
    {
        var act = a.Action;
        var rsc = Base(act.Resource);
        var key = $"{rsc}|{act.IntervalMs}";
        if (!t.Up || t.Incarnation != incarnation || t.Exec.Recurring.GetValueOrDefault(key) != gen) return;
        int rc = MonitorRc(t, rsc);
        if (t.Exec.LastRc.GetValueOrDefault(key) != rc)
        {
            t.Exec.LastRc[key] = rc;
            TrackLocal(t, a, rc, 0);
            var report = new RecordOperationCommand(t.Name, act.Resource, a.Class, a.Provider, a.Type, "monitor", act.IntervalMs, rc, 0, 0)
            {
                RequestId = $"{t.Name}:{t.Incarnation}:{act.Resource}:monitor:{act.IntervalMs}:{++t.Exec.CallId}",
                CallId = t.Exec.CallId,
                OpDigest = a.OpDigest,
                Boot = t.BootId,
            };
            Trace(t.Name, $"monitor of {rsc} now says rc {rc}; reporting to {LeaderOf(t) ?? "no leader"}");
            t.Reports[key] = report;
            SendReport(t, key, report);
        }
        At(Now + act.IntervalMs, () => Recur(t, a, incarnation, gen));
    }

    /// <summary>What a monitor says: 7 not running, 8 running promoted (OCF), else 0.</summary>
    private static int MonitorRc(SimNode t, string rsc) =>
        !t.Truth.TryGetValue(rsc, out var role) ? 7 : role == Role.Promoted ? 8 : 0;

    /// <summary>Invariant 1 for promotable clones: never more promoted instances at once than promoted-max.</summary>
    private void CheckPromote(SimNode b, string rsc)
    {
        if (!_scenario.PromotedMax.TryGetValue(rsc, out var max)) return;
        var promoted = _nodes.Where(n => n != b && n.Truth.TryGetValue(rsc, out var r) && r == Role.Promoted).Select(n => n.Name).ToList();
        if (promoted.Count < max) return;
        if (_scenario.WindowsAllowed)
        {
            _windows++;
            Trace("check", $"split-brain window: {rsc} promoted on {b.Name} while promoted on {string.Join(",", promoted)} (fencing is off)");
        }
        else Violation(1, $"{rsc} promoted on {b.Name} while promoted on {string.Join(",", promoted)} (promoted-max {max})");
    }

    private static void TrackLocal(SimNode t, ActionRequest a, int rc, int status)
    {
        if (status != 0) return;
        var rsc = Base(a.Action.Resource);
        switch (a.Action.Task, rc)
        {
            case ("start", 0) or ("monitor", 0 or 8): t.LocalActive[rsc] = a; break;
            case ("stop", 0) or ("monitor", 7): t.LocalActive.Remove(rsc); break;
        }
    }

    // ----- fencer ---------------------------------------------------------------------------------

    private void Fence(SimNode l, FenceRequest f)
    {
        var target = _byName[f.Target];
        CheckNotLeftCleanly(l, target);
        _fences++;
        Trace(l.Name, $"fencing {f.Target} ({f.Action}) in term {f.Term}");
        void Confirm()
        {
            if (!l.Up || !Leads(l) || l.LedTerm != f.Term) return;
            Trace(l.Name, $"fencing of {f.Target} confirmed");
            var e = Propose(l, new FenceResultCommand(f.Target, f.Action, true, l.Name, "controller") { RequestId = $"fenced:{f.Target}:{f.Term}:{_seq}" });
            if (e is null) return;
            l.Pending.Add((e, () => { l.InFlight.Remove(f.Key); l.Replan = true; }));
        }
        void Failed(string why)
        {
            if (l.LedTerm != f.Term) return;
            Trace(l.Name, $"fencing of {f.Target} failed: {why}");
            l.FenceFailedAt[f.Target] = Now;
            l.InFlight.Remove(f.Key);
            l.Replan = true;
        }
        void Device()
        {
            double r = _liveness ? 1 : _rng.NextDouble();
            if (r < _scenario.FenceHang) { At(Now + 5000, () => Failed("device timed out")); return; }
            if (r < _scenario.FenceHang + _scenario.FenceFailure) { At(Now + 100 + _rng.Next(400), () => Failed("device error")); return; }
            At(Now + 100 + _rng.Next(400), () =>
            {
                // The device acts out of band: the target is powered off whatever the network does.
                if (target.Up)
                {
                    CheckFenceRace(l, target);
                    Crash(target, $"fenced ({f.Action}) for {l.Name}");
                    target.PoweredOffBy = l.Name;
                }
                _lostUnfenced.Remove(target.Name);
                _lostBy.Remove(target.Name);
                if (f.Action != "off") At(Now + 1000 + _rng.Next(3000), () => { if (!target.Up) Boot(target); });
                Confirm();
            });
        }
        if (_scenario.Bug == InjectedBug.SkipFencing) { At(Now + 10, Confirm); return; }
        if (l.Alone is { } alone && alone.Peer == f.Target)
        {
            if (_scenario.Bug == InjectedBug.AloneWithoutFencing) { At(Now + 10, Confirm); return; }
            // The fence race of two nodes that both run alone: the side that would shoot the favoured node waits.
            var wait = _scenario.Bug switch
            {
                InjectedBug.NoDeathMatchDelay => TimeSpan.Zero,
                InjectedBug.DeathMatchFavouredOnly => FencePlanner.DeathMatchDelay(alone.State, l.Name, f.Target),
                _ => TwoNode.DeathMatchWait(alone.State, l.Name, f.Target, TimeSpan.FromMilliseconds(Now - alone.LostAtMs)),
            };
            // Both sides must agree on who is favoured (diagnostic, counted per run): from their copies, and from their replicated states.
            if (_byName[f.Target].Alone is { } other)
            {
                var peerNode = _byName[f.Target];
                if (FencePlanner.Favoured(alone.State, l.Name, f.Target) != FencePlanner.Favoured(other.State, l.Name, f.Target))
                {
                    _favouredDisagreements++;
                    Trace("check", $"fence race: the local copies of {l.Name} and {f.Target} disagree on which of them is favoured");
                }
                if (FencePlanner.Favoured(l.Raft.State, l.Name, f.Target) != FencePlanner.Favoured(peerNode.Raft.State, l.Name, f.Target))
                {
                    _replicatedDisagreements++;
                    Trace("check", $"fence race: the replicated states of {l.Name} and {f.Target} disagree on which of them is favoured");
                }
            }
            if (wait > TimeSpan.Zero)
            {
                Trace(l.Name, $"two-node fence race: waits {wait.TotalMilliseconds:0} ms before fencing {f.Target} (priority-fencing-delay)");
                int incarnation = l.Incarnation, session = alone.Session;
                At(Now + (long)wait.TotalMilliseconds, () =>
                {
                    // Abandoned when this node stopped running alone (its leadership ended) or lost power meanwhile.
                    if (l.Up && l.Incarnation == incarnation && l.Alone?.Session == session) Device();
                });
                return;
            }
        }
        Device();
    }

    // ----- no-quorum-policy on every node ---------------------------------------------------------

    private void QuorumTick()
    {
        foreach (var n in _nodes)
        {
            if (!n.Up) continue;
            var peer = TwoNodePeer(n);
            if (n.Alone is { } alone)
            {
                // Alone, this node is its own quorum until its peer answers again (a ping needs both directions).
                if (Linked(n, _byName[alone.Peer])) LeaveAlone(n, alone);
                continue;
            }
            bool inContact = n.Raft.Leader is not null && (n.Raft.IsLeader || Now - n.Raft.LastHeardMs < ElectionLowMs);
            int reachable = _nodes.Count(p => Linked(n, p));
            if (peer is not null && (inContact || reachable == _nodes.Count)) n.SawPeer = true;
            bool quorate = inContact || reachable * 2 > _nodes.Count;
            if (quorate)
            {
                n.QuorumLostAt = null;
                if (n.QuorumActed) { n.QuorumActed = false; ReportLocalStops(n); }
                continue;
            }
            n.QuorumLostAt ??= Now;
            if (Now - n.QuorumLostAt < 1000 || n.QuorumActed) continue;
            if (peer is not null)
            {
                // The same decision the daemon makes (NodeDaemon.Quorum.cs, AloneReason), from the replicated state it has.
                var config = n.Raft.State.Configuration;
                var decision = TwoNode.Decide(config, peer.Name, n.SawPeer, TwoNode.CanFence(config, peer.Name), TwoNode.LeftCleanly(n.Raft.State, peer.Name));
                if (decision.MayRunAlone) { EnterAlone(n, peer, decision); continue; }
                Trace(n.Name, $"does not run alone: {decision.Reason}");
            }
            n.QuorumActed = true;
            var policy = n.Raft.State.Configuration.Property("no-quorum-policy") ?? "stop";
            Trace(n.Name, $"quorum lost; no-quorum-policy={policy}");
            if (policy is "ignore" or "freeze") continue;
            foreach (var (rsc, req) in n.LocalActive.ToList())
            {
                int incarnation = n.Incarnation;
                At(Now + 5 + _rng.Next(20), () =>
                {
                    if (!n.Up || n.Incarnation != incarnation) return;
                    n.Truth.Remove(rsc);
                    CancelRecurring(n, rsc);
                    n.LocalActive.Remove(rsc);
                    Trace(n.Name, $"stopped {rsc} (no quorum)");
                    n.Unreported.Add(new RecordOperationCommand(n.Name, req.Action.Resource, req.Class, req.Provider, req.Type, "stop", 0, 0, 0, 0)
                    {
                        RequestId = $"{n.Name}:{n.Incarnation}:{req.Action.Resource}:stop:0:{++n.Exec.CallId}",
                        CallId = n.Exec.CallId,
                        Boot = n.BootId,
                    });
                });
            }
        }
        At(Now + 200, QuorumTick);
    }

    private void ReportLocalStops(SimNode n)
    {
        foreach (var r in n.Unreported)
        {
            var key = $"{r.Resource}|stop";
            n.Reports[key] = r;
            SendReport(n, key, r);
        }
        n.Unreported.Clear();
    }

    // ----- a client editing the configuration -----------------------------------------------------

    private void ClientTick()
    {
        var leader = _nodes.FirstOrDefault(n => n.Up && Leads(n) && _rng.NextDouble() < 0.9);
        if (leader?.Alone is { } alone)
        {
            // The daemon refuses changes while it runs alone (they would be lost on reunion): the client gets a refusal.
            _refusedAlone++;
            Trace(leader.Name, $"configuration change refused: runs alone since {alone.SinceMs} ms ({alone.Peer} is lost)");
        }
        else if (leader is not null)
        {
            if (!_configAcked)
                Watch(leader, new ConfigureCommand(_scenario.ConfigXml) { RequestId = "initial-configuration", By = "sim" }, () => _configAcked = true);
            // As the daemon's operate path: edits wait for the leader's read barrier (everything committed applied, which
            // needs an entry of its own term committed) and for its previous edit (one at a time). Built without them, a
            // whole-configuration edit undid an acknowledged one (seed 5335 of --clean-stops --witness --link-cuts --promotable).
            else if (!_liveness && leader.Raft.CommittedInTermMs >= 0 && leader.Raft.Applied >= leader.Raft.Commit
                     && !leader.Pending.Any(p => p.Entry.Command is ConfigureCommand { RequestId: var id } && id.StartsWith("edit-", StringComparison.Ordinal)))
            {
                int k = _nextEdit++;
                var state = leader.Raft.State;
                // Chosen by the edit's number, not by the Random: the run stays what the seed makes it.
                var primitives = state.Configuration.AllResources().OfType<Primitive>().Where(p => !p.IsFencingDevice).Select(p => p.Id).ToList();
                if (_scenario.ParameterEdits && k % 3 == 1 && primitives.Count > 0) _parameterEdits[k] = primitives[k / 3 % primitives.Count];
                var edit = _parameterEdits.TryGetValue(k, out var target)
                    ? ConfigEdits.SetParameter(state.Configuration, target, $"sim-edit-{k}", "1")
                    : ConfigEdits.SetProperty(state.Configuration, $"sim-edit-{k}", "1");
                var xml = CibXmlWriter.Write(state.Cib with { Configuration = edit.Configuration! }, includeStatus: false);
                Watch(leader, new ConfigureCommand(xml) { RequestId = $"edit-{k}", By = "sim" }, () =>
                {
                    _ackedEdits.Add(k);
                    if (target is not null) Trace("sim", $"parameter sim-edit-{k} of {target} acknowledged");
                });
            }
        }
        At(Now + (_configAcked ? 700 : 100), ClientTick);
    }

    // ----- invariants -----------------------------------------------------------------------------

    /// <summary>Invariants 1 and 2, checked when a start begins (the moment a second copy could appear).</summary>
    private void CheckStart(SimNode b, string rsc)
    {
        if (!_scenario.Unique.Contains(rsc)) return;
        foreach (var a in _nodes)
        {
            if (a == b || !a.Truth.ContainsKey(rsc)) continue;
            if (_scenario.WindowsAllowed)
            {
                _windows++;
                Trace("check", $"split-brain window: {rsc} starts on {b.Name} while active on {a.Name} (fencing is off)");
            }
            else Violation(1, $"{rsc} starts on {b.Name} while active on {a.Name}");
        }
        if (!_scenario.Fencing) return;
        foreach (var (lost, ran) in _lostUnfenced)
            if (lost != b.Name && ran.Contains(rsc))
                Violation(2, $"{rsc} starts on {b.Name} before lost node {lost}, which ran it, was fenced");
    }

    private void OnCommitted(ClusterCommand c)
    {
        if (c is not NodeMembershipCommand m || !_scenario.Fencing) return;
        _lostBy.Remove(m.Node);
        if (m.Online) _lostUnfenced.Remove(m.Node);
        else _lostUnfenced[m.Node] = [.. _byName[m.Node].Truth.Keys];
    }

    /// <summary>Invariant 5: every acknowledged configuration change is in the state every node converged to.</summary>
    private void CheckAcknowledged()
    {
        foreach (var n in _nodes.Where(n => n.Up))
        {
            var config = n.Raft.State.Configuration;
            if (config.Resources.Count == 0) { Violation(5, $"{n.Name} lost the acknowledged initial configuration"); return; }
            foreach (var k in _ackedEdits)
            {
                var value = _parameterEdits.TryGetValue(k, out var target)
                    ? config.FindResource(target)?.InstanceAttributes.Get($"sim-edit-{k}")
                    : config.Property($"sim-edit-{k}");
                if (value is null) { Violation(5, $"{n.Name} lost acknowledged edit sim-edit-{k}"); return; }
            }
        }
    }

    /// <summary>Invariant 4: one leader, nothing left to do, and what runs is what is recorded and placed.</summary>
    private bool Converged(out string why)
    {
        if (_nodes.FirstOrDefault(n => n.Up && n.Alone is not null) is { } alone) { why = $"{alone.Name} still runs alone"; return false; }
        var leaders = _nodes.Where(n => n.Up && n.Raft.IsLeader).ToList();
        if (leaders.Count != 1) { why = $"{leaders.Count} leaders"; return false; }
        var l = leaders[0];
        if (_nodes.Any(n => n.Up && n.Raft.Commit != l.Raft.Commit)) { why = "followers behind"; return false; }
        var state = l.Raft.State;
        if (!_configAcked || state.Configuration.Resources.Count == 0) { why = "configuration not loaded"; return false; }
        if (l.InFlight.Count > 0) { why = $"in flight: {string.Join(", ", l.InFlight)}"; return false; }
        if (_hosts.Any(n => n.Up && state.Nodes.FirstOrDefault(x => x.Uname == n.Name)?.Crmd != "online")) { why = "membership not current"; return false; }
        var plan = Controller.Plan(state, l.Raft.Term, new HashSet<string>(), Clock);
        if (plan.Actions.Count > 0 || plan.Fencing.Count > 0)
        {
            why = "still to do: " + string.Join(", ", plan.Actions.Select(a => $"{a.Action.Task} {a.Action.Resource} on {a.Action.Node}").Concat(plan.Fencing.Select(f => $"fence {f.Target}")));
            return false;
        }
        var transition = Vigil.Scheduler.Scheduler.Run(state.Cib, Clock);
        var recorded = Activity.Active(state);
        var digests = Vigil.Scheduler.OperationDigest.For(state.Cib, Clock);
        // Fence devices are left out: where one "runs" only says which node watches it (probes skip them too).
        foreach (var p in state.Configuration.AllResources().OfType<Primitive>().Where(p => !p.IsFencingDevice))
        {
            var truth = _nodes.Where(n => n.Up && n.Truth.ContainsKey(p.Id)).Select(n => n.Name).Order(StringComparer.Ordinal).ToList();
            var placed = transition.Placements.Where(x => x.Node is not null && Base(x.Resource) == p.Id).Select(x => x.Node!).Order(StringComparer.Ordinal).ToList();
            var rec = (recorded.TryGetValue(p.Id, out var list) ? list.Select(x => x.Node) : []).Order(StringComparer.Ordinal).ToList();
            if (!truth.SequenceEqual(placed) || !truth.SequenceEqual(rec))
            {
                why = $"{p.Id} runs on [{string.Join(",", truth)}], recorded [{string.Join(",", rec)}], placed [{string.Join(",", placed)}]";
                return false;
            }
            if (_scenario.PromotedMax.ContainsKey(p.Id))
            {
                var promotedTruth = _nodes.Where(n => n.Up && n.Truth.TryGetValue(p.Id, out var r) && r == Role.Promoted).Select(n => n.Name).Order(StringComparer.Ordinal).ToList();
                var promotedPlaced = transition.Placements.Where(x => x.Node is not null && x.Role == Role.Promoted && Base(x.Resource) == p.Id).Select(x => x.Node!).Order(StringComparer.Ordinal).ToList();
                if (!promotedTruth.SequenceEqual(promotedPlaced))
                {
                    why = $"{p.Id} promoted on [{string.Join(",", promotedTruth)}], placed promoted [{string.Join(",", promotedPlaced)}]";
                    return false;
                }
            }
            // It runs with the configured parameters: a changed parameter was applied by a restart.
            foreach (var node in truth)
            {
                var configured = digests.ForResource(p.Id, node, "start", 0)?.Digest;
                var ranWith = _byName[node].StartedWith.GetValueOrDefault(p.Id);
                if (ranWith != configured)
                {
                    why = $"{p.Id} runs on {node} with parameters {ranWith ?? "(none)"}, configured {configured ?? "(none)"}";
                    return false;
                }
            }
        }
        why = "";
        return true;
    }
}
