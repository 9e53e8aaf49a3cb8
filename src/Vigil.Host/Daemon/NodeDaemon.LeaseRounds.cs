using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Vigil.Control;

namespace Vigil.Host.Daemon;

/// <summary>
/// Lease rounds (<see cref="LeaseRounds"/>): this node's lease requests to the other members, the receipts of theirs, and
/// the leader's question that bounds a lost node's last contact by them.
/// </summary>
public sealed partial class NodeDaemon
{
    /// <summary>The last bound lease request (see <see cref="LeaseDatagram.WriteRequest"/>) received from each member (Environment.TickCount64) and the boot id it came with.</summary>
    private readonly ConcurrentDictionary<string, (long Tick, string Boot)> _leaseReceipts = new(StringComparer.Ordinal);
    /// <summary>The highest request number received from each member, with its boot id: a replayed request is not noted again.</summary>
    private readonly Dictionary<string, (string Boot, long Seq)> _leaseSeqs = new(StringComparer.Ordinal);
    /// <summary>This daemon's secret, from which it derives the key of each member that asks it (<see cref="LeaseDatagram.PairKey"/>).</summary>
    private readonly byte[] _roundSecret = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, byte[]> _pairKeys = new(StringComparer.Ordinal);
    /// <summary>The UDP socket on the API's address and port number that lease rounds use; null in two-node clusters or when it could not be bound.</summary>
    private Socket? _roundSocket;
    /// <summary>
    /// Until when this node's lease rounds give it contact with a majority (Environment.TickCount64): the start of the last
    /// round a majority answered in time plus <see cref="LeaseRounds.AnswerWithin"/>; the daemon's start until one is.
    /// </summary>
    private long _roundContactUntil = Environment.TickCount64;
    private int _roundsLapsed;
    /// <summary>
    /// A lease round of this daemon has been counted: from then on its contact is bound by its rounds (and its requests say
    /// so); until then its executor starts nothing while rounds are on (see ExecuteAsync).
    /// </summary>
    private bool _roundCounted;
    /// <summary>This daemon sends lease rounds: set once its configuration (or a leader's request) uses lease self-fencing, and kept for the rest of its run.</summary>
    private volatile bool _roundsStarted;
    private readonly object _roundGate = new();
    private readonly RoundSlot[] _roundSlots = Enumerable.Range(0, 16).Select(_ => new RoundSlot()).ToArray();
    private Dictionary<string, RoundPeer> _roundPeers = new(StringComparer.Ordinal);

    /// <summary>One of the last rounds sent: its number, start, the peers that answered it in time (bits), and whether it counted.</summary>
    private sealed class RoundSlot { public long Seq = -1; public long Start; public long Answered; public bool Counted, Judged; }

    /// <summary>Another member as this node's lease rounds see it: where its datagrams go, the key it handed out, its last answer.</summary>
    private sealed class RoundPeer(string name, int index, IPEndPoint endpoint)
    {
        public string Name { get; } = name;
        public int Index { get; } = index;
        public SocketAddress Address { get; } = endpoint.Serialize();
        public volatile byte[]? Key;
        /// <summary>It answered 404 for its key: a version without lease rounds, counted as answering (see <see cref="FetchRoundKey"/>).</summary>
        public volatile bool NoRounds;
        public long LastAnswer = Environment.TickCount64, LastFetch = long.MinValue / 2;
        public int Fetching;
    }

    /// <summary>
    /// This node may send lease rounds: its settings ask for them (<see cref="NodeSettings.LeaseRounds"/>), in a cluster of
    /// three or more, not as a witness (it runs nothing), and with its UDP socket bound. Every member with a socket answers
    /// them and tells a leader what it received.
    /// </summary>
    private bool LeaseRoundsPossible => _settings.LeaseRounds && _settings.Members.Count >= 3 && !_settings.Self.Witness && _roundSocket is not null;

    /// <summary>
    /// This node sends lease rounds: it may (<see cref="LeaseRoundsPossible"/>), and since its configuration or a leader's
    /// request said the cluster uses lease self-fencing (only there do they shorten a recovery, and they cost each idle node
    /// about 50 wake-ups a second). Once started they go on until the daemon stops: a node whose contact was bound by them
    /// must stay bound, since receipts of its rounds may still bound its lease.
    /// </summary>
    private bool LeaseRoundsOn => _roundsStarted && LeaseRoundsPossible;

    /// <summary>This node's contact is bound by its lease rounds (<see cref="_roundCounted"/>): from its first counted round on.</summary>
    private bool RoundBound => Volatile.Read(ref _roundCounted);

    /// <summary>This node's last counted lease round still gives it contact (always true where its contact is not bound by rounds).</summary>
    private bool RoundContactFresh => !RoundBound || Environment.TickCount64 < Interlocked.Read(ref _roundContactUntil);

    /// <summary>Starts this node's lease rounds (once, where they are possible), saying why.</summary>
    private void StartLeaseRounds(string why)
    {
        if (_roundsStarted || !LeaseRoundsPossible) return;
        lock (_roundGate)
        {
            if (_roundsStarted) return;
            _roundsStarted = true;
        }
        Log($"lease rounds: started ({why}); they go on until this daemon stops");
    }

    /// <summary>Starts the lease rounds when this node's copy of the configuration uses lease self-fencing.</summary>
    private void StartLeaseRoundsIfConfigured()
    {
        if (_roundsStarted || !LeaseRoundsPossible) return;
        if (FencePlanner.SelfFencingLease(_consensus.State.Configuration) is { } lease)
            StartLeaseRounds($"the configuration uses lease self-fencing: stonith-watchdog-timeout={lease.TotalSeconds:0.###}s");
    }

    /// <summary>
    /// Binds the lease rounds' UDP socket (clusters of three or more): the API's address and port number. When that fails,
    /// this node neither sends nor answers rounds, and says why: the others then count it as a member without them.
    /// </summary>
    private void BindRoundSocket()
    {
        if (_settings.Members.Count < 3) return;
        var endpoint = IPEndPoint.Parse(_settings.Self.Api);
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(endpoint);
            _roundSocket = socket;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            Log($"lease rounds: cannot bind UDP {endpoint} ({e.Message}): this node neither sends nor answers them, so the others " +
                "fall back to the slower bounds on its lease; free that UDP port (the API's port number) and restart the daemon");
            return;
        }
        _roundPeers = _settings.Members.Keys.Where(m => m != _settings.Name).Order(StringComparer.Ordinal)
            .Select((m, i) => new RoundPeer(m, i, IPEndPoint.Parse(_settings.Members[m].Api)))
            .ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    /// <summary>
    /// Lease rounds on a thread of their own (a thread-pool wake per datagram cost 2-3 % of a core at 50 datagrams a
    /// second): once they are on (<see cref="LeaseRoundsOn"/>; looked for every 250 ms until then), every
    /// <see cref="LeaseRounds.Every"/> a lease datagram to every other member, and in between the datagrams
    /// received — requests answered at once (noted first), answers counted (<see cref="LeaseAnswered"/>). A majority (this
    /// node included) answering within <see cref="LeaseRounds.AnswerWithin"/> extends this node's contact to the round's
    /// start plus that; a round that falls short wakes the quorum check, which asks the peers itself and stops what runs
    /// here if no majority answers. A peer whose key this node lacks, or that stopped answering, is asked for it over
    /// mutual TLS (at most once a second). A node that sends no rounds (a witness, or its settings say so) still answers.
    /// </summary>
    private Task LeaseRoundLoopAsync(CancellationToken ct) =>
        _roundSocket is { } socket
            ? Task.Factory.StartNew(() => LeaseRoundThread(socket, ct), ct, TaskCreationOptions.LongRunning, TaskScheduler.Default)
            : Task.Delay(Timeout.Infinite, ct);

    private void LeaseRoundThread(Socket socket, CancellationToken ct)
    {
        var every = (long)LeaseRounds.Every.TotalMilliseconds;
        var within = (long)LeaseRounds.AnswerWithin.TotalMilliseconds;
        var received = new byte[LeaseDatagram.MaxLength + 1];
        var outgoing = new byte[LeaseDatagram.MaxLength];
        var remote = new SocketAddress(socket.AddressFamily);
        var next = Environment.TickCount64;
        var lookedAt = long.MinValue / 2;
        long seq = 0;
        while (!ct.IsCancellationRequested)
        {
            var now = Environment.TickCount64;
            var sends = LeaseRoundsOn;
            if (!sends && now - lookedAt >= 250)
            {
                lookedAt = now;
                StartLeaseRoundsIfConfigured();
                if (sends = LeaseRoundsOn) next = now;
            }
            if (sends && now >= next)
            {
                next = Math.Max(next + every, now + every / 2);
                SendRound(socket, ++seq, now, outgoing, every);
                JudgeRounds(now, within);
                continue;
            }
            int length;
            try
            {
                if (!socket.Poll(TimeSpan.FromMilliseconds(sends ? next - now : Math.Max(1, lookedAt + 250 - now)), SelectMode.SelectRead)) continue;
                length = socket.ReceiveFrom(received, SocketFlags.None, remote);
            }
            catch (SocketException)
            {
                Thread.Sleep(10);
                continue;
            }
            catch (ObjectDisposedException) { return; }
            OnLeaseDatagram(socket, received.AsSpan(0, length), remote, outgoing);
        }
    }

    private void SendRound(Socket socket, long seq, long start, byte[] buffer, long every)
    {
        lock (_roundGate)
        {
            var slot = _roundSlots[seq % _roundSlots.Length];
            slot.Seq = seq;
            slot.Start = start;
            slot.Answered = 0;
            slot.Counted = slot.Judged = false;
            foreach (var p in _roundPeers.Values) if (p.NoRounds) slot.Answered |= 1L << p.Index;
            CountIfMajority(slot);
        }
        foreach (var peer in _roundPeers.Values)
        {
            if (peer.Key is { } key && !peer.NoRounds)
            {
                var n = LeaseDatagram.WriteRequest(buffer, key, seq, _settings.Name, Boot, RoundBound);
                try { socket.SendTo(buffer.AsSpan(0, n), SocketFlags.None, peer.Address); }
                catch (SocketException) { }
            }
            if (peer.Key is null || start - Interlocked.Read(ref peer.LastAnswer) > 3 * every) FetchRoundKey(peer);
        }
    }

    /// <summary>A round whose answer window has closed without a majority: the quorum check is woken (and it is said once).</summary>
    private void JudgeRounds(long now, long within)
    {
        var lapsed = false;
        lock (_roundGate)
            foreach (var slot in _roundSlots)
                if (slot.Seq >= 0 && !slot.Judged && now - slot.Start >= within)
                {
                    slot.Judged = true;
                    lapsed |= !slot.Counted;
                }
        if (!lapsed) return;
        _quorumWake.Set();
        // Not said before the first counted round: at the start the keys are still being fetched.
        if (Volatile.Read(ref _roundCounted) && Interlocked.Exchange(ref _roundsLapsed, 1) == 0)
        {
            var quiet = _roundPeers.Values.Where(p => now - Interlocked.Read(ref p.LastAnswer) > within).Select(p => p.Name).ToList();
            Log($"lease rounds: no majority answered within {within} ms (not answering: {string.Join(", ", quiet.DefaultIfEmpty("none"))})");
        }
    }

    /// <summary>Counts <paramref name="slot"/> once a majority (this node included) answered it in time. Under <see cref="_roundGate"/>.</summary>
    private void CountIfMajority(RoundSlot slot)
    {
        if (slot.Counted || (1 + long.PopCount(slot.Answered)) * 2 <= _settings.Members.Count) return;
        slot.Counted = true;
        var until = slot.Start + (long)LeaseRounds.AnswerWithin.TotalMilliseconds;
        long seen;
        while ((seen = Interlocked.Read(ref _roundContactUntil)) < until && Interlocked.CompareExchange(ref _roundContactUntil, until, seen) != seen) { }
        Volatile.Write(ref _roundCounted, true);
        if (Interlocked.Exchange(ref _roundsLapsed, 0) != 0) Log("lease rounds: a majority answers again");
    }

    /// <summary>An authentic answer of <paramref name="peer"/> to round <paramref name="seq"/>: counted only within the answer window.</summary>
    private void LeaseAnswered(RoundPeer peer, long seq)
    {
        var now = Environment.TickCount64;
        Interlocked.Exchange(ref peer.LastAnswer, now);
        lock (_roundGate)
        {
            var slot = _roundSlots[seq % _roundSlots.Length];
            if (slot.Seq != seq || now - slot.Start > (long)LeaseRounds.AnswerWithin.TotalMilliseconds) return;
            slot.Answered |= 1L << peer.Index;
            CountIfMajority(slot);
        }
    }

    /// <summary>
    /// Asks <paramref name="peer"/> for the key of this node's lease datagrams to it (in the background, at most once a
    /// second). A member that answers 404 has no lease rounds (an older version, or its socket could not be bound): it
    /// counts as answering every round, which is sound because it cannot answer a leader's question about receipts either,
    /// so no bound rests on it.
    /// </summary>
    private void FetchRoundKey(RoundPeer peer)
    {
        var now = Environment.TickCount64;
        if (now - Interlocked.Read(ref peer.LastFetch) < 1000 || Interlocked.CompareExchange(ref peer.Fetching, 1, 0) != 0) return;
        Interlocked.Exchange(ref peer.LastFetch, now);
        _ = Task.Run(async () =>
        {
            try
            {
                using var cts = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                cts.CancelAfter(TimeSpan.FromSeconds(1));
                using var r = await _http.GetAsync(_settings.Url(_settings.Members[peer.Name], $"/v1/node/round-key/{Uri.EscapeDataString(_settings.Name)}"), cts.Token).ConfigureAwait(false);
                if (r.StatusCode == HttpStatusCode.NotFound)
                {
                    if (!peer.NoRounds) Log($"lease rounds: {peer.Name} has none (it answered 404 for its key): counted as answering, and no lease bound rests on it");
                    peer.NoRounds = true;
                    return;
                }
                if (!r.IsSuccessStatusCode) return;
                var body = await r.Content.ReadFromJsonAsync<RoundKeyResponse>(WireJson.Web, cts.Token).ConfigureAwait(false);
                var key = body is { Key: { } text } && body.Member == peer.Name ? Convert.FromBase64String(text) : null;
                if (key is not { Length: 32 }) return;
                peer.NoRounds = false;
                peer.Key = key;
            }
            catch (Exception e) when (e is HttpRequestException or OperationCanceledException or System.Text.Json.JsonException or FormatException) { }
            finally { Volatile.Write(ref peer.Fetching, 0); }
        });
    }

    /// <summary>One datagram received on the lease-round socket (from <paramref name="from"/>): refused (said at most once a second), counted or answered.</summary>
    private void OnLeaseDatagram(Socket socket, ReadOnlySpan<byte> d, SocketAddress from, byte[] answer)
    {
        if (LeaseDatagram.Parse(d) is not { } p)
        {
            Refused($"a datagram from {new IPEndPoint(IPAddress.Any, 0).Create(from)} on the lease-round port is not a lease datagram ({d.Length} bytes)");
            return;
        }
        if (!p.IsRequest)
        {
            if (!_roundPeers.TryGetValue(p.From, out var peer) || peer.Key is not { } peerKey || !LeaseDatagram.Authentic(d, p, peerKey, Boot))
                Refused($"a lease answer from {new IPEndPoint(IPAddress.Any, 0).Create(from)} claiming to be {p.From} is not authentic");
            else LeaseAnswered(peer, p.Seq);
            return;
        }
        if (p.From == _settings.Name || !_settings.Members.ContainsKey(p.From))
        {
            Refused($"a lease request from {new IPEndPoint(IPAddress.Any, 0).Create(from)} names '{p.From}', not another member");
            return;
        }
        var key = _pairKeys.GetOrAdd(p.From, f => LeaseDatagram.PairKey(_roundSecret, f));
        if (!LeaseDatagram.Authentic(d, p, key, null))
        {
            Refused($"a lease request from {new IPEndPoint(IPAddress.Any, 0).Create(from)} claiming to be {p.From} is not authentic (it may hold the key of this daemon's previous start: it asks again)");
            return;
        }
        if (_leaseSeqs.TryGetValue(p.From, out var last) && last.Boot == p.Boot && p.Seq <= last.Seq) return;
        _leaseSeqs[p.From] = (p.Boot!, p.Seq);
        // Only a request sent while its sender's contact was bound by its rounds may bound its lease (LeaseRounds.CountFrom).
        if (p.Bound) _leaseReceipts[p.From] = (Environment.TickCount64, p.Boot!);
        var n = LeaseDatagram.WriteAnswer(answer, key, p.Seq, _settings.Name, p.Boot!);
        try { socket.SendTo(answer.AsSpan(0, n), SocketFlags.None, from); }
        catch (SocketException) { }
    }

    /// <summary>GET /v1/node/round-key/{asker}: the asker's key for lease datagrams to this member, over its own client certificate only.</summary>
    private IResult RoundKeyEndpoint(HttpContext ctx)
    {
        var from = ctx.Request.RouteValues["from"] as string ?? "";
        if (NotAnotherMember(from) is { } refused) return refused;
        if (_credentials is not null && ctx.Connection.ClientCertificate?.GetNameInfo(X509NameType.SimpleName, false) != from)
            return Results.Json(new ErrorResponse($"a lease-round key is handed only to the member it is for, over that member's own client certificate (asked for '{from}')"),
                statusCode: StatusCodes.Status403Forbidden);
        if (_roundSocket is null)
            return Results.NotFound(new ErrorResponse($"{_settings.Name} has no lease-round socket (a two-node cluster, or its UDP port could not be bound: see its log)"));
        return Results.Json(new RoundKeyResponse(_settings.Name, Boot, Convert.ToBase64String(_pairKeys.GetOrAdd(from, f => LeaseDatagram.PairKey(_roundSecret, f)))));
    }

    /// <summary>GET /v1/node/lease-receipt/{node}: when this member last received a lease request from that node.</summary>
    private IResult LeaseReceiptEndpoint(string node)
    {
        if (_roundSocket is null)
            return Results.Json(new ErrorResponse($"{_settings.Name} has no lease-round socket: it cannot say what it received"), statusCode: StatusCodes.Status503ServiceUnavailable);
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
        // Without its own socket this node received nothing, which must not read as "never heard from it".
        if (_roundSocket is not null) receipts.Add(_leaseReceipts.TryGetValue(target, out var own)
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
