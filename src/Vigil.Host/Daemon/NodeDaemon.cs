using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Vigil.Config;
using Vigil.Control;
using Vigil.Core;
using Vigil.Core.Model;
using Vigil.Host.Agents;
using Vigil.Host.Consensus;

namespace Vigil.Host.Daemon;

/// <summary>
/// One node of the cluster: Raft consensus, the local executor, the HTTP API, and — while this node
/// leads — the controller that runs the scheduler and dispatches actions, and the membership tracker.
/// </summary>
public sealed partial class NodeDaemon : IAsyncDisposable
{
    private readonly NodeSettings _settings;
    private readonly TwoNodeConsensus _consensus;
    private readonly Executor _executor;
    private readonly ProcessAgentRunner _agentRunner;
    private readonly HttpClient _http;
    private readonly Security.ClusterCredentials? _credentials;
    private readonly Wakeup _signal = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, byte> _inFlight = new(StringComparer.Ordinal);
    private readonly TextWriter _log;
    private WebApplication? _api;
    private long _highestTerm;
    /// <summary>New at every start: tells the leader whether a rejoining node restarted or was only cut off.</summary>
    private readonly string _bootId = Guid.NewGuid().ToString("N");
    /// <summary>How often this node ran alone (two-node clusters) since it started.</summary>
    private int _aloneEpoch;
    /// <summary>
    /// The boot id the leader sees. After running alone it changes (same boot, next epoch): the leader then
    /// forgets this node's recorded history and probes what it runs, which may differ from the replicated state.
    /// </summary>
    private string Boot => _aloneEpoch == 0 ? _bootId : $"{_bootId}.{_aloneEpoch}";
    private Task? _loops;

    public NodeDaemon(NodeSettings settings, TextWriter? log = null)
    {
        _settings = settings;
        _log = log ?? Console.Out;
        var members = settings.Members.ToDictionary(kv => kv.Key, kv => IPEndPoint.Parse(kv.Value.Raft));
        _credentials = settings.LoadCredentials();
        _http = _credentials is null ? new HttpClient() : new HttpClient(_credentials.HttpHandler(Refused));
        _http.Timeout = TimeSpan.FromSeconds(130);
        _consensus = new TwoNodeConsensus(new RaftConsensus(new RaftOptions(settings.Name, members[settings.Name], members, Path.Combine(settings.DataDirectory, "raft"))
        {
            LowerElectionTimeoutMs = settings.LowerElectionTimeoutMs,
            UpperElectionTimeoutMs = settings.UpperElectionTimeoutMs,
            Ssl = _credentials is null ? null : new DotNext.Net.Security.SslOptions
            {
                ServerOptions = _credentials.ServerOptions(Refused),
                ClientOptions = _credentials.ClientOptions(Refused),
            },
        }));
        // What agents keep about running resources must vanish with a reboot (as /run does) and survive a
        // restart of the daemon alone (the resources still run then): so it lives under the runtime directory.
        var runtime = settings.RuntimeDirectoryOrDefault;
        var paths = new ExecutorPaths
        {
            NativeStateDir = Path.Combine(runtime, "agents"),
            ResourceTmpDir = Path.Combine(runtime, "rsctmp"),
            FenceAgentDir = settings.FenceAgentDirectory ?? "/usr/sbin",
        };
        _agentRunner = new ProcessAgentRunner(paths);
        _executor = new Executor(_agentRunner);
        _executor.Completed += OnOperationCompleted;
        _consensus.Changed += Signal;
        _consensus.Changed += _leaseWake.Set;
        _consensus.Changed += _quorumWake.Set;
    }

    public IConsensus Consensus => _consensus;

    private void Signal() => _signal.Set();

    private DateTimeOffset _lastRefusalLog;

    /// <summary>A peer without this cluster's credentials was refused; logged at most once a second.</summary>
    private void Refused(string why)
    {
        var now = DateTimeOffset.UtcNow;
        if (now - _lastRefusalLog < TimeSpan.FromSeconds(1)) return;
        _lastRefusalLog = now;
        Log($"refused a connection: {why}");
    }

    private void Log(string message) => _log.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {_settings.Name}: {message}");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(_settings.DataDirectory);
        if (_settings.WatchdogDevice is { } device)
        {
            // First: a node that was asked to run under a watchdog does not run without one.
            _watchdog = Watchdog.Open(device, _settings.WatchdogTimeoutSeconds);
            Log(_watchdog.TimeoutSeconds is { } t
                ? $"watchdog {device} armed with a {t} s timeout: fed while this node may keep its resources"
                : $"watchdog {device} opened, but it is not a watchdog device (it refused the timeout): fed as one, it resets nothing");
        }
        await _consensus.StartAsync(cancellationToken).ConfigureAwait(false);
        _api = BuildApi();
        await _api.StartAsync(cancellationToken).ConfigureAwait(false);
        SecureLocalSocket();
        BindRoundSocket();
        _loops = Task.WhenAll(Supervise("DC", ControllerLoopAsync), Supervise("quorum", QuorumLoopAsync), Supervise("lease", LeaseLoopAsync),
            Supervise("lease round", LeaseRoundLoopAsync));
        // Written only just before a self-fence exit: read once, at start.
        _selfFenced = ReadSelfFence();
        if (_selfFenced is { } fenced) Log($"this node self-fenced at {fenced.At:u}: {fenced.Reason}");
        Log($"started: raft {_settings.Self.Raft}, api {_settings.Url(_settings.Self, "")}{(_credentials is null ? " (no TLS: node traffic is not authenticated)" : " (mutual TLS)")}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_loops is not null) { try { await _loops.ConfigureAwait(false); } catch (OperationCanceledException) { } }
        if (_api is not null) await _api.DisposeAsync().ConfigureAwait(false);
        _roundSocket?.Dispose();
        await _executor.DisposeAsync().ConfigureAwait(false);
        await _consensus.DisposeAsync().ConfigureAwait(false);
        _http.Dispose();
        _credentials?.Dispose();
        // A clean stop (ShutdownAsync) leaves nothing running here. After a forced stop, an escalated one or none (the
        // daemon used as a library), the others count this node as lost while something may still run here: the
        // device then stays armed, so the host is reset in its timeout.
        if (_watchdog is not null)
        {
            if (!RunsResources) _watchdog.Disarm();
            else
            {
                Log($"stopping{Running()}: the watchdog {_watchdog.Path} stays armed and resets this host");
                _watchdog.Dispose();
            }
        }
    }

    // ----- HTTP API ------------------------------------------------------------------------------

    private WebApplication BuildApi()
    {
        // No configuration files are read, so none is watched: by default the host watches its content root
        // (the working directory) recursively for appsettings changes. Started from /tmp that was 2,700
        // inotify watches and a thread busy with every file written there; from / it would be the whole tree.
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        var endpoint = IPEndPoint.Parse(_settings.Self.Api);
        builder.WebHost.ConfigureKestrel(k => k.Listen(endpoint, l =>
        {
            if (_credentials is null) return;
            l.UseHttps(https =>
            {
                https.ServerCertificate = _credentials.Node;
                // Allowed, not required, at the TLS level: a joining node has no certificate yet. Every path
                // except /v1/join then requires one (the middleware below); a wrong one fails the handshake.
                https.ClientCertificateMode = Microsoft.AspNetCore.Server.Kestrel.Https.ClientCertificateMode.AllowCertificate;
                https.ClientCertificateValidation = (cert, _, _) =>
                {
                    var why = _credentials.Reject(cert);
                    if (why is not null) Refused(why);
                    return why is null;
                };
            });
        }));
        if (_settings.LocalSocketOrDefault is { } socketPath)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(socketPath)!);
            RemoveStaleSocket(socketPath);
            builder.WebHost.ConfigureKestrel(k => k.ListenUnixSocket(socketPath));
        }
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.SerializerOptions.TypeInfoResolverChain.Insert(0, WireJson.Contracts);
        });
        var app = builder.Build();
        app.Use(async (ctx, next) =>
        {
            if (LocalSocketRefusal(ctx) is { } refusal)
            {
                ctx.Response.StatusCode = StatusCodes.Status403Forbidden;
                await ctx.Response.WriteAsJsonAsync(refusal).ConfigureAwait(false);
                return;
            }
            await next(ctx).ConfigureAwait(false);
        });
        if (_credentials is not null)
        {
            app.Use(async (ctx, next) =>
            {
                if (ctx.Connection.ClientCertificate is null && !IsLocalSocket(ctx) && !ctx.Request.Path.StartsWithSegments("/v1/join") && !RemoteUserAllowed(ctx))
                {
                    Refused($"{ctx.Connection.RemoteIpAddress} called {ctx.Request.Path} without a client certificate");
                    ctx.Response.StatusCode = StatusCodes.Status401Unauthorized;
                    await ctx.Response.WriteAsJsonAsync(new ErrorResponse("this API needs the cluster's client certificate",
                        "run vigil as root on a cluster node (it uses that node's credentials), or join the node first: 'vigil join --token …'")).ConfigureAwait(false);
                    return;
                }
                await next(ctx).ConfigureAwait(false);
            });
            app.MapGet("/v1/join/ca", Answer(() => Results.Text(_credentials.Ca.ExportCertificatePem(), "application/x-pem-file")));
            app.MapPost("/v1/join", Answer(JoinAsync));
        }
        app.MapGet("/v1/status", Answer(() => Results.Json(BuildStatus())));
        app.MapGet("/v1/ping", Answer(() => Results.Text(_settings.Name)));
        app.MapGet("/v1/node/hello", Answer(() => Results.Json(new HelloResponse(_settings.Name, Boot) { Version = _consensus.State.Version })));
        app.MapGet("/v1/node/reach/{node}", Answer(ctx => ReachEndpointAsync(ctx.Request.RouteValues["node"] as string ?? "")));
        app.MapGet("/v1/node/round-key/{from}", Answer(ctx => Task.FromResult(RoundKeyEndpoint(ctx))));
        app.MapPost("/v1/node/boot-changed/{from}", Answer(ctx => Task.FromResult(BootChangedEndpoint(ctx.Request.RouteValues["from"] as string ?? ""))));
        app.MapGet("/v1/node/lease-receipt/{node}", Answer(ctx => Task.FromResult(LeaseReceiptEndpoint(ctx.Request.RouteValues["node"] as string ?? ""))));
        app.MapGet("/v1/cib", Answer(() => Results.Text(_consensus.State.ToSnapshot(), "application/xml")));
        app.MapPost("/v1/node/execute", Answer(ExecuteAsync));
        app.MapPost("/v1/leader/report", Answer(ReportAsync));
        app.MapPost("/v1/configure", Answer(ConfigureAsync));
        app.MapPost("/v1/operate", Answer(OperateAsync));
        app.MapPost("/v1/node/fence", Answer(NodeFenceEndpointAsync));
        app.MapGet("/v1/fence/history", Answer(() => Results.Json(_consensus.State.FencingHistory)));
        app.MapGet("/v1/api-tokens", Answer(() => Results.Json(KnownApiTokens())));
        return app;
    }

    // Endpoints are plain request delegates: the API binds its own parameters (ReadJson), so ASP.NET Core need not
    // generate binding code at run time from the handlers' signatures, which a natively compiled vigil cannot do.
    private static RequestDelegate Answer(Func<IResult> handle) => ctx => handle().ExecuteAsync(ctx);

    private static RequestDelegate Answer(Func<HttpContext, Task<IResult>> handle) =>
        async ctx => await (await handle(ctx).ConfigureAwait(false)).ExecuteAsync(ctx).ConfigureAwait(false);

    /// <summary>
    /// A planned member fetches its credentials with its one-time token (the token's hash is in this
    /// node's TLS folder, where 'vigil init' ran). A wrong or used token changes nothing.
    /// </summary>
    private Task<IResult> JoinAsync(HttpContext ctx) => ReadJson<JoinRequest>(ctx, req =>
    {
        var tls = _settings.TlsDirectory!;
        if (string.IsNullOrEmpty(req.Node) || string.IsNullOrEmpty(req.Secret) || !_settings.Members.ContainsKey(req.Node))
            return Task.FromResult(Results.Json(new ErrorResponse($"'{req.Node}' is not a member of this cluster", "members are fixed by 'vigil init'"), statusCode: StatusCodes.Status403Forbidden));
        var pfx = Path.Combine(tls, $"{req.Node}.pfx");
        if (!File.Exists(pfx))
            return Task.FromResult(Results.Json(new ErrorResponse($"{_settings.Name} does not hold the credentials of {req.Node}", "join through the node where 'vigil init' ran"), statusCode: StatusCodes.Status404NotFound));
        if (!Security.JoinTokens.Redeem(tls, req.Node, req.Secret))
        {
            Refused($"{ctx.Connection.RemoteIpAddress} tried to join as {req.Node} with an invalid or used token");
            return Task.FromResult(Results.Json(new ErrorResponse("this join token is not valid (used already, replaced, or from another cluster)",
                $"issue a new one where 'vigil init' ran: vigil token {req.Node} --dir DIR"), statusCode: StatusCodes.Status403Forbidden));
        }
        Log($"{req.Node} fetched its credentials with its join token (from {ctx.Connection.RemoteIpAddress})");
        return Task.FromResult(Results.Json(new JoinResponse(_settings.Members, _credentials!.Ca.ExportCertificatePem(), Convert.ToBase64String(File.ReadAllBytes(pfx)))
        {
            ApiTokenHashes = [.. Security.JoinTokens.ApiHashes(tls)],
        }));
    });

    /// <summary>What a remote API token may call: reading the cluster, and the user's own changes — never node-to-node endpoints.</summary>
    private static readonly HashSet<string> RemoteUserPaths = ["GET /v1/status", "GET /v1/cib", "GET /v1/fence/history", "GET /v1/ping", "POST /v1/configure", "POST /v1/operate"];

    /// <summary>The connection's socket when it came in on the local API socket, else null.</summary>
    private static System.Net.Sockets.Socket? LocalSocketOf(HttpContext ctx) =>
        ctx.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionSocketFeature>()?.Socket is { AddressFamily: System.Net.Sockets.AddressFamily.Unix } s ? s : null;

    private static bool IsLocalSocket(HttpContext ctx) => LocalSocketOf(ctx) is not null;

    /// <summary>
    /// The local socket serves the user endpoints (what a remote API token may call) to root, the daemon's
    /// user and members of the API group; anything else is refused with why (null: allowed, or not the socket).
    /// </summary>
    private ErrorResponse? LocalSocketRefusal(HttpContext ctx)
    {
        if (LocalSocketOf(ctx) is not { } socket) return null;
        if (!RemoteUserPaths.Contains($"{ctx.Request.Method} {ctx.Request.Path}"))
            return new ErrorResponse($"{ctx.Request.Method} {ctx.Request.Path} is not served on the local socket", "the local socket serves status, cib, fence history, configure and operate");
        if (LocalAccessRefusal(socket) is { } why)
        {
            Refused($"local socket: {why}");
            return new ErrorResponse($"the local API is for root and members of the '{_settings.ApiGroup}' group: {why}",
                $"add the user to that group (usermod -aG {_settings.ApiGroup} USER, then log in again), or run vigil as root");
        }
        return null;
    }

    /// <summary>A caller without a certificate may use the user endpoints with a valid remote API token (Authorization: Bearer SECRET).</summary>
    private bool RemoteUserAllowed(HttpContext ctx)
    {
        if (!RemoteUserPaths.Contains($"{ctx.Request.Method} {ctx.Request.Path}")) return false;
        var auth = ctx.Request.Headers.Authorization.ToString();
        if (!auth.StartsWith("Bearer ", StringComparison.Ordinal)) return false;
        var ok = ApiTokenAccepted(auth["Bearer ".Length..].Trim());
        if (!ok) Refused($"{ctx.Connection.RemoteIpAddress} called {ctx.Request.Path} with an unknown API token");
        return ok;
    }

    private async Task<IResult> ReadJson<T>(HttpContext ctx, Func<T, Task<IResult>> handle) where T : class
    {
        T? body;
        try { body = await ctx.Request.ReadFromJsonAsync<T>(WireJson.Web, ctx.RequestAborted).ConfigureAwait(false); }
        catch (JsonException e) { return Results.BadRequest(new ErrorResponse($"the request body is not valid JSON for {typeof(T).Name}: {e.Message}")); }
        catch (BadHttpRequestException e) { return Results.BadRequest(new ErrorResponse(e.Message)); }
        if (body is null) return Results.BadRequest(new ErrorResponse("empty request body"));
        return await handle(body).ConfigureAwait(false);
    }

    /// <summary>
    /// The fencing-token rule (<see cref="Controller.AdmitTerm"/>): a deposed leader's older term can never
    /// make this node act. The floor is the newest term this node knows of, from earlier requests or from
    /// consensus itself. Returns the 409 answer when refused, else null.
    /// </summary>
    private IResult? RefuseOlderTerm(long term)
    {
        while (true)
        {
            var seen = Interlocked.Read(ref _highestTerm);
            var consensus = _consensus.Term;
            var admitted = Controller.AdmitTerm(seen, consensus, term, out var next);
            if (next != seen && Interlocked.CompareExchange(ref _highestTerm, next, seen) != seen) continue;
            return admitted ? null
                : Results.Json(new ErrorResponse($"term {term} is older than term {Math.Max(seen, consensus)} this node has seen; refused"), statusCode: StatusCodes.Status409Conflict);
        }
    }

    private Task<IResult> ExecuteAsync(HttpContext ctx) => ReadJson<ExecuteRequest>(ctx, async req =>
    {
        // A malformed request changes nothing, not even the newest term this node has seen.
        if (string.IsNullOrEmpty(req.Resource) || string.IsNullOrEmpty(req.Operation) || req.IntervalMs < 0)
            return Results.BadRequest(new ErrorResponse("an execute request needs resource and operation"));
        var agentText = req.Provider is null ? $"{req.Class}:{req.Type}" : $"{req.Class}:{req.Provider}:{req.Type}";
        if (!AgentId.TryParse(agentText, out var agent, out var error))
            return Results.BadRequest(new ErrorResponse(error));
        if (RefuseOlderTerm(req.Term) is { } refused) return refused;
        if (_settings.Self.Witness)
            return Results.Json(new ErrorResponse($"{_settings.Name} is a witness: it runs no resources"), statusCode: StatusCodes.Status409Conflict);
        // With lease rounds, what runs here is bound by them: once they are on (this node's configuration or the leader's
        // uses lease self-fencing), nothing is started (or found running) before a majority answered one, so a leader never
        // reads an earlier boot's receipts as this one's (LeaseRounds.CountFrom).
        if (req.LeaseRounds) StartLeaseRounds("the leader's configuration uses lease self-fencing");
        if (LeaseRoundsOn && !RoundBound && req.Operation is not ("stop" or "demote" or "migrate_to"))
            return Results.Json(new ErrorResponse($"{_settings.Name} has had no lease round answered by a majority since it started (lease rounds are on): it runs nothing until one is", "the leader asks again in a moment"), statusCode: StatusCodes.Status503ServiceUnavailable);
        var action = new AgentAction(agent, req.Resource, req.Operation)
        {
            Interval = TimeSpan.FromMilliseconds(req.IntervalMs),
            Timeout = TimeSpan.FromMilliseconds(Math.Clamp(req.TimeoutMs, 1000, 3_600_000)),
            TargetRc = req.TargetRc,
            NodeName = _settings.Name,
            Parameters = req.Parameters.ToImmutableDictionary(),
            Meta = req.Meta.ToImmutableDictionary(),
            OpDigest = req.OpDigest,
            FromHistory = req.FromHistory,
        };
        var rec = await _executor.ExecuteAsync(action, _stop.Token).ConfigureAwait(false);
        TrackLocal(req, rec.Rc, (int)rec.Status);
        var digest = action.IsProbe && rec.Status == ExecStatus.Done && rec.Rc is OcfCode.Success or OcfCode.RunningPromoted
            ? _executor.StartedWith(req.Resource) ?? req.OpDigest : req.OpDigest;
        return Results.Json(new ExecuteResponse(rec.Rc, (int)rec.Status, rec.CallId, (long)rec.ExecTime.TotalMilliseconds, rec.ExitReason) { OpDigest = digest, Boot = Boot });
    });

    private Task<IResult> ReportAsync(HttpContext ctx) => ReadJson<ReportRequest>(ctx, async r =>
    {
        if (string.IsNullOrEmpty(r.Node) || !_settings.Members.ContainsKey(r.Node) || string.IsNullOrEmpty(r.Resource)
            || string.IsNullOrEmpty(r.Class) || string.IsNullOrEmpty(r.Type) || string.IsNullOrEmpty(r.Operation) || r.IntervalMs < 0)
            return Results.BadRequest(new ErrorResponse("a report needs node (a member), resource, class, type and operation"));
        if (r.OpDigest is not null && (r.OpDigest.Length != 32 || !r.OpDigest.All(char.IsAsciiHexDigitLower)))
            return Results.BadRequest(new ErrorResponse("opDigest must be 32 lowercase hexadecimal digits (an MD5)"));
        if (!_consensus.IsLeader) return Results.Json(new ErrorResponse("not the leader", _consensus.Leader), statusCode: StatusCodes.Status421MisdirectedRequest);
        var outcome = await ProposeAsync(new RecordOperationCommand(r.Node, r.Resource, r.Class, r.Provider, r.Type, r.Operation, r.IntervalMs, r.Rc, r.OpStatus, r.TargetRc)
        {
            // Call ids start again with each boot of the reporting daemon: the boot keeps a new report from passing for a repeat.
            RequestId = $"{r.Node}:{r.Boot}:{r.Resource}:{r.Operation}:{r.IntervalMs}:{r.CallId}", CallId = r.CallId, ExitReason = r.ExitReason, Term = _consensus.Term,
            OpDigest = r.OpDigest, Boot = r.Boot,
        }).ConfigureAwait(false);
        return outcome == ProposeOutcome.Committed ? Results.Ok() : Results.StatusCode(StatusCodes.Status503ServiceUnavailable);
    });

    private Task<IResult> ConfigureAsync(HttpContext ctx) => ReadJson<ConfigureRequest>(ctx, async req =>
    {
        if (req.Text is null || req.Format is null)
            return Results.BadRequest(new ErrorResponse("a configure request needs text and format"));
        if (!ConfigFormats.TryParse(req.Format, out var format))
            return Results.BadRequest(new ErrorResponse($"unknown format '{req.Format}'", "use crm, xml or haresources"));
        var loaded = ConfigLoader.Load(req.Text, "<configure>", format);
        var notes = loaded.Diagnostics.Where(d => d.Severity != Severity.Info).Select(d => d.ToString()).ToList();
        if (loaded.Value is null)
            return Results.Json(new ConfigureResponse(false, notes, "the configuration has errors; nothing was changed"), statusCode: StatusCodes.Status422UnprocessableEntity);
        if (AloneRefusal() is { } alone)
            return Results.Json(new ConfigureResponse(false, notes, alone), statusCode: StatusCodes.Status503ServiceUnavailable);
        if (!_consensus.IsLeader)
            return await ForwardToLeaderAsync(ctx, "/v1/configure", req,
                new ConfigureResponse(false, notes, "no leader: this partition has no quorum, so the configuration cannot change now")).ConfigureAwait(false);
        var xml = Vigil.Config.Xml.CibXmlWriter.Write(loaded.Value, includeStatus: false);
        // In turn with the edits: one built before this load and applied after it would undo it.
        await _editLock.WaitAsync(ctx.RequestAborted).ConfigureAwait(false);
        ProposeOutcome outcome;
        try { outcome = await ProposeAsync(new ConfigureCommand(xml) { RequestId = Guid.NewGuid().ToString("N"), By = req.By }).ConfigureAwait(false); }
        finally { _editLock.Release(); }
        return outcome == ProposeOutcome.Committed
            ? Results.Json(new ConfigureResponse(true, notes, null))
            : Results.Json(new ConfigureResponse(false, notes, "leadership changed while committing; check 'vigil status' and try again"), statusCode: StatusCodes.Status503ServiceUnavailable);
    });

    /// <summary>One configuration edit at a time on this node: each is built from the state the previous one left.</summary>
    private readonly SemaphoreSlim _editLock = new(1, 1);

    /// <summary>Operations that compute a new configuration from the current one (and replace it).</summary>
    private static bool IsConfigurationEdit(string op) => op is "start" or "stop" or "move" or "ban" or "clear" or "property";

    private Task<IResult> OperateAsync(HttpContext ctx) => ReadJson<OperateRequest>(ctx, async req =>
    {
        // Two edits built at once from the same state: the one applied second would undo the first.
        if (!IsConfigurationEdit(req.Op)) return await OperateCoreAsync(ctx, req).ConfigureAwait(false);
        await _editLock.WaitAsync(ctx.RequestAborted).ConfigureAwait(false);
        try { return await OperateCoreAsync(ctx, req).ConfigureAwait(false); }
        finally { _editLock.Release(); }
    });

    private async Task<IResult> OperateCoreAsync(HttpContext ctx, OperateRequest req)
    {
        if (IsApiTokenOp(req.Op) && PrepareApiTokenOp(ctx, ref req) is { } tokenRefusal) return tokenRefusal;
        if (!_consensus.IsLeader)
            return await ForwardToLeaderAsync(ctx, "/v1/operate", req,
                new OperateResponse(false, "", "no leader: this partition has no quorum, so nothing can change now")).ConfigureAwait(false);
        // Alone, only fencing (and confirming a fence) makes sense: everything else would be forgotten on reunion.
        // Alone, a shutdown is local too (the peer is gone): what runs here stops before the daemon leaves.
        if (req.Op is not ("fence" or "fence-ack" or "shutdown") && AloneRefusal() is { } alone)
            return Results.Json(new OperateResponse(false, "", alone), statusCode: StatusCodes.Status503ServiceUnavailable);
        // Edits replace the whole configuration as computed here: first apply everything already committed (a new
        // leader may lag its predecessor's last commits, and an edit built without them would undo them).
        try
        {
            using var barrier = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token, ctx.RequestAborted);
            barrier.CancelAfter(TimeSpan.FromSeconds(5));
            await _consensus.ReadBarrierAsync(barrier.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or InvalidOperationException or TimeoutException or DotNext.Net.Cluster.Consensus.Raft.QuorumUnreachableException or DotNext.Net.Cluster.Consensus.Raft.NotLeaderException)
        {
            return Results.Json(new OperateResponse(false, "", $"this leader could not confirm it has applied every committed change ({e.GetType().Name}); check 'vigil status' and try again"), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
        var state = _consensus.State;
        var config = state.Configuration;
        var now = DateTimeOffset.UtcNow;
        var lifetime = req.LifetimeSeconds is { } secs ? TimeSpan.FromSeconds(secs) : (TimeSpan?)null;
        ClusterCommand? command = null;
        string message;
        ConfigEdits.Result? edit = req.Op switch
        {
            "start" => ConfigEdits.SetTargetRole(config, req.Resource ?? "", "Started"),
            "stop" => ConfigEdits.SetTargetRole(config, req.Resource ?? "", "Stopped"),
            "move" when req.Node is not null => ConfigEdits.Move(config, req.Resource ?? "", req.Node, lifetime, now),
            "ban" when req.Node is not null => ConfigEdits.Ban(config, req.Resource ?? "", req.Node, lifetime, now),
            "clear" => ConfigEdits.Clear(config, req.Resource),
            "property" when !string.IsNullOrEmpty(req.Resource) => ConfigEdits.SetProperty(config, req.Resource, req.Node),
            _ => null,
        };
        if (edit is not null)
        {
            if (edit.Error is not null) return Results.Json(new OperateResponse(false, "", edit.Error), statusCode: StatusCodes.Status422UnprocessableEntity);
            // Every edit passes the same checks as a loaded configuration.
            var problems = Vigil.Config.Validation.ConfigChecker.Check(edit.Configuration!, "<edit>").Where(d => d.Severity == Severity.Error).ToList();
            if (problems.Count > 0)
                return Results.Json(new OperateResponse(false, "", string.Join("; ", problems.Select(d => d.Message + (d.Hint is null ? "" : $" ({d.Hint})")))), statusCode: StatusCodes.Status422UnprocessableEntity);
            var xml = Vigil.Config.Xml.CibXmlWriter.Write(state.Cib with { Configuration = edit.Configuration! }, includeStatus: false);
            command = new ConfigureCommand(xml) { RequestId = Guid.NewGuid().ToString("N"), By = req.By };
            message = edit.Message;
        }
        else if (req.Op == "cleanup")
        {
            if (req.Resource is not null && config.FindResource(req.Resource) is null)
                return Results.Json(new OperateResponse(false, "", $"there is no resource '{req.Resource}'"), statusCode: StatusCodes.Status422UnprocessableEntity);
            command = new CleanupCommand(req.Resource, req.Node) { RequestId = Guid.NewGuid().ToString("N") };
            message = $"failures of {req.Resource ?? "every resource"}{(req.Node is null ? "" : $" on {req.Node}")} forgotten; the cluster re-plans";
        }
        else if (req.Op is "standby" or "online" && req.Node is not null)
        {
            if (!_settings.Members.ContainsKey(req.Node))
                return Results.Json(new OperateResponse(false, "", $"there is no node '{req.Node}'"), statusCode: StatusCodes.Status422UnprocessableEntity);
            command = new SetNodeAttributeCommand(req.Node, "standby", req.Op == "standby" ? "on" : null, Transient: false) { RequestId = Guid.NewGuid().ToString("N") };
            message = req.Op == "standby" ? $"{req.Node} is in standby: its resources move away" : $"{req.Node} may run resources again";
        }
        else if (req.Op == "shutdown" && req.Node is not null)
        {
            // Sent by a stopping daemon for itself (see ShutdownAsync).
            if (!_settings.ResourceNodes.Contains(req.Node))
                return Results.Json(new OperateResponse(false, "", $"there is no node '{req.Node}' that runs resources"), statusCode: StatusCodes.Status422UnprocessableEntity);
            command = ShutdownCommand(req.Node);
            message = $"{req.Node} shuts down: what it runs moves away or stops first";
        }
        else if (req.Op is "fence" or "fence-ack" && req.Node is not null)
        {
            if (!_settings.Members.ContainsKey(req.Node))
                return Results.Json(new OperateResponse(false, "", $"there is no node '{req.Node}'"), statusCode: StatusCodes.Status422UnprocessableEntity);
            if (req.Op == "fence")
            {
                if (req.Action is not null && !IsFenceAction(req.Action))
                    return Results.Json(new OperateResponse(false, "", $"unknown fence action '{req.Action}': use reboot, off or on"), statusCode: StatusCodes.Status422UnprocessableEntity);
                var fenced = await FenceAsync(req.Node, req.Action ?? "reboot", "manual", req.By ?? "operator", _stop.Token).ConfigureAwait(false);
                return fenced.Succeeded
                    ? Results.Json(new OperateResponse(true, $"{req.Node} fenced with {fenced.Devices} in {fenced.ElapsedMs} ms", null))
                    : Results.Json(new OperateResponse(false, "", $"fencing {req.Node} failed: {fenced.Reason}"), statusCode: StatusCodes.Status422UnprocessableEntity);
            }
            command = new FenceResultCommand(req.Node, "ack", true, req.By ?? "operator", "manual")
            {
                RequestId = Guid.NewGuid().ToString("N"), Reason = "an operator confirmed the node is down",
            };
            message = $"{req.Node} is recorded as down (confirmed by {req.By ?? "operator"}); its resources are recovered elsewhere";
        }
        else if (IsApiTokenOp(req.Op))
        {
            var change = ApiTokenChange(req);
            if (change.Refusal is { } refusal) return refusal;
            (command, message) = (change.Command!, change.Message);
        }
        else return Results.BadRequest(new OperateResponse(false, "", $"unknown operation '{req.Op}' (or a node is missing)"));
        var outcome = await ProposeAsync(command).ConfigureAwait(false);
        return outcome == ProposeOutcome.Committed
            ? Results.Json(new OperateResponse(true, message, null))
            : Results.Json(new OperateResponse(false, "", "leadership changed while committing; check 'vigil status' and try again"), statusCode: StatusCodes.Status503ServiceUnavailable);
    }

    /// <summary>Why a change is refused while this node runs alone (two-node cluster, peer lost), or null.</summary>
    private string? AloneRefusal() => _consensus.AloneNow is { } alone
        ? $"this node runs alone since {alone.Since:HH:mm:ss} UTC ({alone.Peer} is lost): configuration changes need both nodes, " +
          $"because a change made alone would be lost when they meet again; bring {alone.Peer} back (or confirm it is down: 'vigil fence ack {alone.Peer}') and try again"
        : null;

    /// <summary>Changes go through the leader: a follower passes the request on, or answers 503 with <paramref name="noLeader"/> without one.</summary>
    private async Task<IResult> ForwardToLeaderAsync<TReq, TResp>(HttpContext ctx, string path, TReq request, TResp noLeader)
    {
        var leader = _consensus.Leader;
        if (leader is null || !_settings.Members.TryGetValue(leader, out var addr))
            return Results.Json(noLeader, statusCode: StatusCodes.Status503ServiceUnavailable);
        try
        {
            using var fwd = await _http.PostAsJsonAsync(_settings.Url(addr, path), request, WireJson.Web, ctx.RequestAborted).ConfigureAwait(false);
            var body = await fwd.Content.ReadAsStringAsync(ctx.RequestAborted).ConfigureAwait(false);
            return Results.Content(body, "application/json", statusCode: (int)fwd.StatusCode);
        }
        catch (HttpRequestException e)
        {
            return Results.Json(new ErrorResponse($"the leader {leader} did not answer ({e.Message}); try again in a moment"), statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static readonly TimeSpan ProposeTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Proposes with a stable request id (<see cref="Proposals.ProposeAsync"/>: ambiguity retried, a proposal not committed
    /// within <see cref="ProposeTimeout"/> ambiguous). Before, that timeout escaped as a cancellation to every caller, and
    /// one of them (a membership change on the DC loop) ended the DC loop for good. Only the daemon's own stop throws.
    /// </summary>
    private Task<ProposeOutcome> ProposeAsync(ClusterCommand command)
    {
        var stamped = command.AtUnixSeconds == 0 ? command with { AtUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds() } : command;
        return Proposals.ProposeAsync(t => _consensus.ProposeAsync(stamped, t), ProposeTimeout, 3,
            () => Log($"a {CommandName(stamped)} did not commit within {ProposeTimeout.TotalSeconds:0} s: it may still commit, or not (treated as uncertain)"),
            _stop.Token);
    }

    /// <summary>Starts one of the daemon's loops under <see cref="LoopSupervisor"/>.</summary>
    private Task Supervise(string name, Func<CancellationToken, Task> loop) =>
        Task.Run(() => LoopSupervisor.RunAsync(name, loop, Log, TimeSpan.FromMilliseconds(100), _stop.Token));

    /// <summary>A command's kind in words for the log: RecordOperationCommand -> "record operation".</summary>
    private static string CommandName(ClusterCommand command)
    {
        var name = command.GetType().Name;
        if (name.EndsWith("Command", StringComparison.Ordinal)) name = name[..^"Command".Length];
        return string.Concat(name.Select((c, i) => i > 0 && char.IsUpper(c) ? " " + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString())) + " command";
    }

    // ----- status -------------------------------------------------------------------------------

    public StatusResponse BuildStatus()
    {
        var state = _consensus.State;
        var members = _consensus.Members.ToDictionary(m => m.Name);
        var fencing = !Truth.IsFalse(state.Configuration.Property("stonith-enabled"));
        bool Reachable(string n) => n == _settings.Name || (members.TryGetValue(n, out var m) && m.Reachable);
        var witnesses = _settings.Members.Where(m => m.Value.Witness).Select(m => new NodeStatus(m.Key, Reachable(m.Key), Reachable(m.Key), false)).ToList();
        var nodes = _settings.ResourceNodes.OrderBy(n => n, StringComparer.Ordinal).Select(n =>
        {
            var standby = Truth.IsTrue(state.Configuration.Nodes.FirstOrDefault(x => x.Uname == n)?.InstanceAttributes.Get("standby"));
            return NodeStatus.Of(n, state.Nodes.FirstOrDefault(x => x.Uname == n), Reachable(n), standby, fencing, n == _settings.Name ? Boot : null);
        }).ToList();
        var active = Activity.Active(state, includeUnclean: fencing);
        var unclean = state.Nodes.Where(Activity.IsUnclean).Select(n => n.Uname ?? n.Id).ToHashSet(StringComparer.Ordinal);
        var resources = new List<ResourceStatus>();
        foreach (var top in state.Configuration.Resources)
            foreach (var r in top.SelfAndDescendants().OfType<Primitive>())
            {
                var group = top is Group g ? g.Id : top is Clone c ? c.Id : null;
                var on = active.TryGetValue(r.Id, out var list) ? list : [];
                var role = on.Count == 0 ? "Stopped" : Roles.Name(on[0].Role);
                resources.Add(new ResourceStatus(r.Id, r.Agent, group, role, on.Select(x => x.Node).ToList())
                {
                    Unclean = on.Select(x => x.Node).Where(unclean.Contains).ToList(),
                });
            }
        var failed = state.Nodes.SelectMany(n => n.Resources.SelectMany(r => r.Ops.Where(o => o.Id.EndsWith("_last_failure_0", StringComparison.Ordinal))
            .Select(o => $"{r.Id} {o.Operation} on {n.Uname}: rc {o.Rc}{(string.IsNullOrEmpty(o.Attribute("exit-reason")) ? "" : $" ({o.Attribute("exit-reason")})")}"))).ToList();
        var warnings = new List<string>();
        if (Truth.IsFalse(state.Configuration.Property("stonith-enabled")))
            warnings.Add("fencing is disabled: a node that stops answering may keep running its resources while they start elsewhere (split brain)");
        if (_selfFenced is { } selfFenced)
            warnings.Add($"this node self-fenced at {selfFenced.At:yyyy-MM-dd HH:mm:ss} UTC: {selfFenced.Reason}");
        if (state.Configuration.Property("no-quorum-policy") == "ignore")
            warnings.Add("no-quorum-policy=ignore: each side of a network split may run the same resources");
        if (FencePlanner.SelfFencingLease(state.Configuration) is { } lease && !_settings.Self.Witness)
        {
            if (!_settings.SelfFenceReboots)
                warnings.Add($"lease self-fencing with selfFenceAction=exit on {_settings.Name}: when it must fence itself it only kills its agents and exits, so addresses and mounts stay up while the others recover them; that suits members sharing one host (the demo, tests), not a real cluster: set selfFenceAction to reboot");
            if (_watchdog is null)
                warnings.Add($"lease self-fencing without a watchdog device on {_settings.Name}: if its daemon hangs or is paused it cannot reset itself, while the others recover its resources {lease.TotalSeconds:0.#} s after they lose it; set watchdogDevice in its settings or configure a fence device");
            else if (_watchdog.TimeoutSeconds is { } t && lease < TimeSpan.FromSeconds(2 * t))
                warnings.Add($"stonith-watchdog-timeout={lease.TotalSeconds:0.#}s is less than twice the {t} s timeout of {_settings.Name}'s watchdog {_watchdog.Path}: the others may recover its resources before the watchdog resets a hung node; raise stonith-watchdog-timeout or lower watchdogTimeoutSeconds");
        }
        var aloneNow = _consensus.AloneNow;
        if (aloneNow is not null)
            warnings.Add($"running alone since {aloneNow.Since:HH:mm:ss} UTC: {aloneNow.Peer} is lost; {aloneNow.Reason}. Configuration changes wait until {aloneNow.Peer} is back");
        return new StatusResponse
        {
            Node = _settings.Name, Leader = _consensus.Leader, Term = _consensus.Term, Quorum = _consensus.Leader is not null && aloneNow is null,
            Version = state.Version, Nodes = nodes, Resources = resources, FailedActions = failed, Warnings = warnings,
            Constraints = ConfigEdits.DescribeCli(state.Configuration).ToList(),
            LocalActive = _localActive.Keys.Order(StringComparer.Ordinal).ToList(),
            LocalQuorum = _hasQuorum,
            Alone = aloneNow is null ? null : new AloneStatus(aloneNow.Peer, aloneNow.Reason, aloneNow.Since),
            Witnesses = witnesses,
            Fencing = FencingStatus.Pending(state, _fencing.Keys.ToHashSet(StringComparer.Ordinal)).ToList(),
            FencingHistory = FencingStatus.Recent(state, 5).ToList(),
        };
    }
}
