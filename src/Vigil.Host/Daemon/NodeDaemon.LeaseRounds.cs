using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Http;
using Vigil.Control;

namespace Vigil.Host.Daemon;

/// <summary>
/// Lease rounds (<see cref="LeaseRounds"/>): this node's lease requests to the other members, the receipts of theirs, and
/// the leader's question that bounds a lost node's last contact by them.
/// </summary>
public sealed partial class NodeDaemon
{
    /// <summary>The last lease request received from each member (Environment.TickCount64) and the boot id it came with.</summary>
    private readonly ConcurrentDictionary<string, (long Tick, string Boot)> _leaseReceipts = new(StringComparer.Ordinal);
    /// <summary>
    /// Until when this node's lease rounds give it contact with a majority (Environment.TickCount64): the start of the last
    /// round a majority answered in time plus <see cref="LeaseRounds.AnswerWithin"/>; the daemon's start until one is.
    /// </summary>
    private long _roundContactUntil = Environment.TickCount64;
    private int _roundsLapsed;
    /// <summary>A lease round of this daemon has been counted (until then its executor starts nothing, see ExecuteAsync).</summary>
    private bool _roundCounted;

    /// <summary>
    /// This node sends lease rounds: when its settings ask for them (<see cref="NodeSettings.LeaseRounds"/>), in a cluster of three
    /// or more, and not as a witness (it runs nothing). Every member answers them and tells a leader what it received.
    /// </summary>
    private bool LeaseRoundsOn => _settings.LeaseRounds && _settings.Members.Count >= 3 && !_settings.Self.Witness;

    /// <summary>This node's last counted lease round still gives it contact (always true where there are no rounds).</summary>
    private bool RoundContactFresh => !LeaseRoundsOn || Environment.TickCount64 < Interlocked.Read(ref _roundContactUntil);

    /// <summary>
    /// Every <see cref="LeaseRounds.Every"/>: a lease request to every other member. A majority (this node included) answering
    /// within <see cref="LeaseRounds.AnswerWithin"/> extends this node's contact to the round's start plus that; a round
    /// that falls short wakes the quorum check, which asks the peers itself and stops what runs here if no majority answers.
    /// </summary>
    private async Task LeaseRoundLoopAsync(CancellationToken ct)
    {
        if (!LeaseRoundsOn)
        {
            await Task.Delay(Timeout.Infinite, ct).ConfigureAwait(false);
            return;
        }
        var peers = _settings.Members.Keys.Where(m => m != _settings.Name).ToList();
        var every = (long)LeaseRounds.Every.TotalMilliseconds;
        var within = (long)LeaseRounds.AnswerWithin.TotalMilliseconds;
        var next = Environment.TickCount64;
        while (!ct.IsCancellationRequested)
        {
            var wait = next - Environment.TickCount64;
            if (wait > 0) await Task.Delay(TimeSpan.FromMilliseconds(wait), ct).ConfigureAwait(false);
            var start = Environment.TickCount64;
            next = start + every;
            using var round = CancellationTokenSource.CreateLinkedTokenSource(ct);
            round.CancelAfter(LeaseRounds.AnswerWithin);
            var answers = await Task.WhenAll(peers.Select(p => LeaseRequestAsync(p, start, within, round.Token))).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if ((1 + answers.Count(a => a)) * 2 > _settings.Members.Count)
            {
                var until = start + within;
                long seen;
                while ((seen = Interlocked.Read(ref _roundContactUntil)) < until && Interlocked.CompareExchange(ref _roundContactUntil, until, seen) != seen) { }
                Volatile.Write(ref _roundCounted, true);
                if (Interlocked.Exchange(ref _roundsLapsed, 0) != 0) Log("lease rounds: a majority answers again");
            }
            else
            {
                _quorumWake.Set();
                if (Interlocked.Exchange(ref _roundsLapsed, 1) == 0)
                    Log($"lease rounds: no majority answered within {within} ms (answered: {string.Join(", ", peers.Where((_, i) => answers[i]).DefaultIfEmpty("none"))})");
            }
        }
    }

    /// <summary>
    /// One lease request. Counted only when its answer is back within <paramref name="within"/> of the round's start, so
    /// the receipt lies within that of it. A member of an older version without lease rounds answers 404: it counts as
    /// answering (it cannot answer the leader's question either, so no bound rests on it).
    /// </summary>
    private async Task<bool> LeaseRequestAsync(string peer, long start, long within, CancellationToken ct)
    {
        var status = await PostToMemberAsync(peer, $"/v1/node/lease/{Uri.EscapeDataString(_settings.Name)}/{Uri.EscapeDataString(Boot)}", LeaseRounds.AnswerWithin, ct).ConfigureAwait(false);
        return status is (>= HttpStatusCode.OK and < HttpStatusCode.MultipleChoices) or HttpStatusCode.NotFound && Environment.TickCount64 - start <= within;
    }

    /// <summary>POST /v1/node/lease/{from}/{boot}: notes a member's lease request (before answering it).</summary>
    private IResult LeaseRequestEndpoint(HttpContext ctx)
    {
        var from = ctx.Request.RouteValues["from"] as string ?? "";
        var boot = ctx.Request.RouteValues["boot"] as string ?? "";
        if (NotAnotherMember(from) is { } refused) return refused;
        if (boot.Length is 0 or > 100)
            return Results.BadRequest(new ErrorResponse("a lease request names the sender's boot id (1-100 characters)"));
        _leaseReceipts[from] = (Environment.TickCount64, boot);
        return Results.Ok();
    }

    /// <summary>GET /v1/node/lease-receipt/{node}: when this member last received a lease request from that node.</summary>
    private IResult LeaseReceiptEndpoint(string node)
    {
        if (!_settings.Members.ContainsKey(node))
            return Results.NotFound(new ErrorResponse($"'{node}' is not a member of this cluster"));
        return Results.Json(_leaseReceipts.TryGetValue(node, out var r)
            ? new LeaseReceiptResponse(_settings.Name, node, Environment.TickCount64 - r.Tick, r.Boot)
            : new LeaseReceiptResponse(_settings.Name, node, null, null));
    }

    /// <summary>
    /// What this leader and the other members it asks (all but <paramref name="target"/>) say of the target's lease requests,
    /// each as a moment on this leader's clock no earlier than the receipt (the answer's arrival minus its age). Members
    /// that do not answer within 300 ms are left out.
    /// </summary>
    private async Task<List<LeaseReceipt>> AskLeaseReceiptsAsync(string target, CancellationToken ct)
    {
        var receipts = new List<LeaseReceipt>();
        receipts.Add(_leaseReceipts.TryGetValue(target, out var own)
            ? new LeaseReceipt(_settings.Name, DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(Environment.TickCount64 - own.Tick), own.Boot)
            : new LeaseReceipt(_settings.Name, null, null));
        var others = _settings.Members.Keys.Where(m => m != _settings.Name && m != target).ToList();
        var answers = await Task.WhenAll(others.Select(async m =>
        {
            var (_, a) = await AskJsonAsync<LeaseReceiptResponse>(m, $"/v1/node/lease-receipt/{Uri.EscapeDataString(target)}", TimeSpan.FromMilliseconds(300)).ConfigureAwait(false);
            if (a is null || a.Member != m || a.Node != target || a.AgeMs < 0) return null;
            return new LeaseReceipt(m, a.AgeMs is { } age ? DateTimeOffset.UtcNow - TimeSpan.FromMilliseconds(age) : null, a.Boot);
        })).ConfigureAwait(false);
        ct.ThrowIfCancellationRequested();
        receipts.AddRange(answers.OfType<LeaseReceipt>());
        return receipts;
    }
}
