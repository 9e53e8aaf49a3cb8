using System.CommandLine;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Vigil.Control;
using Vigil.Core;
using Vigil.Host.Daemon;

namespace Vigil.Cli;

/// <summary>Where the CLI talks to: a node's API, with that node's credentials when the cluster uses TLS.</summary>
public sealed record ApiTarget(string Address, NodeSettings? Settings)
{
    /// <summary>Loaded once; <see cref="ClusterCommands.ApiAddress"/> reports unreadable credentials before any request.</summary>
    private readonly Lazy<Vigil.Host.Security.ClusterCredentials?> _credentials = new(() => Settings?.LoadCredentials());

    public Vigil.Host.Security.ClusterCredentials? Credentials => _credentials.Value;

    /// <summary>A remote API token (from VIGIL_TOKEN) used instead of node credentials.</summary>
    public Vigil.Host.Security.JoinToken? RemoteToken { get; init; }

    /// <summary>The node's local API socket (root and members of its API group; no credentials needed).</summary>
    public string? Socket { get; init; }

    public string Url(string path) => Socket is not null ? $"http://localhost{path}"
        : Settings is not null ? Settings.Url(Settings.Self, path) : RemoteToken is not null ? $"https://{Address}{path}" : $"http://{Address}{path}";

    public HttpClient Client(TimeSpan timeout)
    {
        var http = Socket is { } socket ? new HttpClient(LocalSocketHandler(socket), disposeHandler: true)
            : Credentials is not null ? new HttpClient(Credentials.HttpHandler(_ => { }), disposeHandler: true)
            : RemoteToken is { } token ? RemoteClient(token, timeout)
            : new HttpClient();
        http.Timeout = timeout;
        return http;
    }

    private static SocketsHttpHandler LocalSocketHandler(string path) => new()
    {
        ConnectCallback = async (_, ct) =>
        {
            var s = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
            try
            {
                await s.ConnectAsync(new System.Net.Sockets.UnixDomainSocketEndPoint(path), ct).ConfigureAwait(false);
                return new System.Net.Sockets.NetworkStream(s, ownsSocket: true);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        },
    };

    /// <summary>A node's local API socket as the target.</summary>
    public static ApiTarget Local(string socket) => new(socket, null) { Socket = socket };

    /// <summary>The local socket refused this user: its file mode (the kernel) or the daemon (403).</summary>
    public bool LocallyRefused(Exception e) => Socket is not null
        && (e is HttpRequestException { StatusCode: System.Net.HttpStatusCode.Forbidden }
            || e.InnerException is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AccessDenied });

    /// <summary>Why a request failed, in the user's terms: the local socket's permissions get their own explanation.</summary>
    public string Explain(Exception e) => LocallyRefused(e)
        ? $"{Socket}: permission denied: the local API is for root and members of the node's API group ('vigil' by default): 'usermod -aG vigil USER', then log in again"
        : $"no answer from {this}: {e.Message}";

    /// <summary>
    /// With a remote token: the cluster CA is fetched and must match the token's pin; the server must
    /// hold a certificate of that CA; requests carry the token's secret. A mismatch fails every request.
    /// </summary>
    private HttpClient RemoteClient(Vigil.Host.Security.JoinToken token, TimeSpan timeout)
    {
        var ca = PinnedCa.Fetch(Address, token.CaPin, timeout < TimeSpan.FromSeconds(10) ? TimeSpan.FromSeconds(10) : timeout, out var problem, out _);
        if (ca is null) Console.Error.WriteLine($"vigil: VIGIL_TOKEN: {problem}");
        var http = PinnedCa.Client(ca, timeout);
        http.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token.Secret);
        return http;
    }

    public override string ToString() => Socket ?? Address;
}

/// <summary><c>vigil daemon</c>, <c>vigil status</c>, <c>vigil configure load</c>.</summary>
public static class ClusterCommands
{
    internal static JsonSerializerOptions Json => WireJson.WebIndented;

    public static IEnumerable<Command> Build()
    {
        var dirOpt = new Option<string>("--dir") { Description = "Folder for the settings files and credentials", Required = true };
        var nodeOpt = new Option<string[]>("--node") { Description = "NAME=RAFT_IP:PORT,API_IP:PORT (once per node)", Required = true, AllowMultipleArgumentsPerToken = false };
        var nameOpt = new Option<string>("--cluster-name") { Description = "Name written into the cluster CA", DefaultValueFactory = _ => "vigil" };
        var witnessOpt = new Option<string?>("--witness") { Description = "NAME=RAFT_IP:PORT,API_IP:PORT of a witness: a member that votes but runs no resources (the third vote of a two-node cluster)" };
        var initDataDir = new Option<string>("--data-dir") { Description = "Parent of each node's data directory (default /var/lib/vigil)", DefaultValueFactory = _ => "/var/lib/vigil" };
        var init = new Command("init", "Create a cluster on its first node: a CA, every member's certificate and settings, and a one-time join token for each other member ('vigil join')");
        init.Options.Add(dirOpt);
        init.Options.Add(initDataDir);
        init.Options.Add(nodeOpt);
        init.Options.Add(nameOpt);
        init.Options.Add(witnessOpt);
        init.SetAction(r => Init(r.GetValue(dirOpt)!, r.GetValue(nodeOpt)!, r.GetValue(nameOpt)!, r.GetValue(witnessOpt), r.GetValue(initDataDir)!));
        yield return init;

        var settings = new Option<string>("--settings") { Description = "This node's settings file (JSON)", Required = true };
        var daemon = new Command("daemon", "Run this node: consensus, executor, API, and the controller while it leads");
        daemon.Options.Add(settings);
        daemon.SetAction(r => RunDaemon(r.GetValue(settings)!));
        yield return daemon;

        var witnessSettings = new Option<string>("--settings") { Description = "The witness's settings file (JSON)", Required = true };
        var witnessCmd = new Command("witness", "Run a witness: a member that votes in consensus (the third vote of a two-node cluster) and runs no resources");
        witnessCmd.Options.Add(witnessSettings);
        witnessCmd.SetAction(r => RunDaemon(r.GetValue(witnessSettings)!, witness: true));
        yield return witnessCmd;

        var api = new Option<string?>("--api") { Description = "API address of any node (ip:port); default: from --settings or VIGIL_API" };
        var settingsOpt = new Option<string?>("--settings") { Description = "A node settings file: its API address is used" };
        var json = new Option<bool>("--json") { Description = "Print the status as JSON" };
        var watch = new Option<bool>("--watch", "-w") { Description = "Refresh every second until interrupted" };
        var status = new Command("status", "Show the cluster like 'crm_mon -1': nodes, resources, failures, risks. Exit 0, or 69 when no node answers");
        status.Options.Add(api);
        status.Options.Add(settingsOpt);
        status.Options.Add(json);
        status.Options.Add(watch);
        status.SetAction(r => Status(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), r.GetValue(json), r.GetValue(watch)));
        yield return status;

        var file = new Argument<string>("FILE") { Description = "Configuration in crm syntax, CIB XML or haresources ('-' reads standard input)" };
        var from = new Option<string?>("--from") { Description = "Input language: crm, xml or haresources (default: detected)" };
        var load = new Command("load", "Replace the cluster configuration with FILE after checking it; refused with the reasons when invalid or without quorum");
        load.Arguments.Add(file);
        load.Options.Add(from);
        load.Options.Add(api);
        load.Options.Add(settingsOpt);
        load.SetAction(r => Load(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), r.GetValue(file)!, r.GetValue(from)));
        var configure = new Command("configure", "Change the running cluster's configuration");
        configure.Subcommands.Add(load);
        yield return configure;

        var resource = new Command("resource", "Start, stop, move, ban, clear and clean up resources");
        foreach (var (op, help, needsNode) in new[]
        {
            ("start", "Let the resource run (target-role=Started)", false),
            ("stop", "Stop the resource and keep it stopped (target-role=Stopped)", false),
            ("move", "Move the resource to NODE (constraint cli-prefer-RSC; with --lifetime it expires)", true),
            ("ban", "Keep the resource off NODE (constraint cli-ban-RSC-on-NODE)", true),
            ("clear", "Remove the resource's move and ban constraints", false),
            ("cleanup", "Forget the resource's failures (fail counts, failed operations) [on NODE]", false),
        })
        {
            var rsc = new Argument<string>("RSC") { Description = "Resource id" };
            var node = new Argument<string?>("NODE") { Description = needsNode ? "Node name" : "Node name (optional)", Arity = needsNode ? ArgumentArity.ExactlyOne : ArgumentArity.ZeroOrOne };
            var lifetime = new Option<string?>("--lifetime") { Description = "How long the constraint lasts (30min, PT1H, …)" };
            var c = new Command(op, help);
            c.Arguments.Add(rsc);
            if (needsNode || op == "cleanup") c.Arguments.Add(node);
            if (op is "move" or "ban") c.Options.Add(lifetime);
            c.Options.Add(api);
            c.Options.Add(settingsOpt);
            c.SetAction(r => Operate(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), op, r.GetValue(rsc), needsNode || op == "cleanup" ? r.GetValue(node) : null,
                op is "move" or "ban" ? r.GetValue(lifetime) : null));
            resource.Subcommands.Add(c);
        }
        var explainRsc = new Argument<string>("RSC") { Description = "Resource id" };
        var explain = new Command("explain", "Why the resource runs where it runs, or why it does not run: the per-node scores the scheduler computed");
        explain.Arguments.Add(explainRsc);
        explain.Options.Add(api);
        explain.Options.Add(settingsOpt);
        explain.SetAction(r => Explain(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), r.GetValue(explainRsc)!));
        resource.Subcommands.Add(explain);

        var restartRsc = new Argument<string>("RSC") { Description = "Resource id" };
        var restart = new Command("restart", "Stop the resource, wait until it is stopped, and start it again");
        restart.Arguments.Add(restartRsc);
        restart.Options.Add(api);
        restart.Options.Add(settingsOpt);
        restart.SetAction(r => Restart(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), r.GetValue(restartRsc)!));
        resource.Subcommands.Add(restart);
        yield return resource;

        var property = new Command("property", "Set or remove a cluster property (stonith-enabled, no-quorum-policy, …)");
        var assignment = new Argument<string>("NAME=VALUE") { Description = "The property; NAME= (empty) removes it" };
        property.Arguments.Add(assignment);
        property.Options.Add(api);
        property.Options.Add(settingsOpt);
        property.SetAction(r =>
        {
            var text = r.GetValue(assignment)!;
            var eq = text.IndexOf('=');
            if (eq <= 0)
            {
                Console.Error.WriteLine($"vigil: '{text}' is not NAME=VALUE; e.g. vigil property no-quorum-policy=stop");
                return ExitCodes.Usage;
            }
            var value = text[(eq + 1)..];
            return Operate(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), "property", text[..eq], value.Length == 0 ? null : value, null);
        });
        yield return property;

        var nodeCmd = new Command("node", "Put nodes into standby or back online, or fence them");
        foreach (var (op, help) in new[] { ("standby", "Move every resource off NODE and keep it empty"), ("online", "Let NODE run resources again") })
        {
            var name = new Argument<string>("NODE") { Description = "Node name" };
            var c = new Command(op, help);
            c.Arguments.Add(name);
            c.Options.Add(api);
            c.Options.Add(settingsOpt);
            c.SetAction(r => Operate(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), op, null, r.GetValue(name), null));
            nodeCmd.Subcommands.Add(c);
        }
        var list = new Command("list", "List the nodes: online, standby, OFFLINE or UNCLEAN (lost, not fenced yet), reachable from here; and witnesses");
        list.Options.Add(api);
        list.Options.Add(settingsOpt);
        list.SetAction(r => ListNodes(ApiAddress(r.GetValue(api), r.GetValue(settingsOpt))));
        nodeCmd.Subcommands.Add(list);
        nodeCmd.Subcommands.Add(FenceCommands.NodeFence(api, settingsOpt));
        yield return nodeCmd;
        yield return FenceCommands.Build(api, settingsOpt);
        yield return ApiTokenCommands.Build(api, settingsOpt);
    }

    internal static int Operate(ApiTarget? api, string op, string? resource, string? node, string? lifetime, string? action = null, TimeSpan? timeout = null)
    {
        if (api is null) return NoCluster();
        long? seconds = null;
        if (lifetime is not null)
        {
            if (!Vigil.Core.Duration.TryParse(lifetime, out var span) || span <= TimeSpan.Zero)
            {
                Console.Error.WriteLine($"vigil: --lifetime '{lifetime}' is not a duration; write e.g. 30min, 2h or PT1H");
                return ExitCodes.Usage;
            }
            seconds = (long)span.TotalSeconds;
        }
        var request = new OperateRequest(op, resource, node) { LifetimeSeconds = seconds, By = Environment.UserName, Action = action };
        var (body, code, failure) = Post<OperateRequest, OperateResponse>(api, "/v1/operate", request, timeout ?? TimeSpan.FromSeconds(30));
        if (failure is not null) return failure.Value;
        if (body is { Applied: true })
        {
            Console.WriteLine(body.Message);
            return ExitCodes.Ok;
        }
        Console.Error.WriteLine($"vigil: refused: {body?.Error ?? code}");
        return ExitCodes.Refused;
    }

    private static int Explain(ApiTarget? api, string resource)
    {
        if (api is null) return ClusterCommands.NoCluster();
        var cib = FetchCib(api, out var failure);
        if (cib is null) return failure;
        if (cib.Configuration.FindResource(resource) is null)
        {
            Console.Error.WriteLine($"vigil: there is no resource '{resource}'; {Vigil.Config.Crm.CrmParser.Suggest(resource, cib.Configuration.AllResources().Select(r => r.Id)) ?? "'vigil status' lists them"}");
            return ExitCodes.Refused;
        }
        var t = Vigil.Scheduler.Scheduler.Run(cib, DateTimeOffset.UtcNow, resource);
        var placed = t.Placements.Where(p => p.Resource == resource || p.Resource.StartsWith(resource + ":", StringComparison.Ordinal)).ToList();
        Console.WriteLine(placed.Count == 0 ? $"{resource}: a container; its members are placed together"
            : string.Join("\n", placed.Select(p => $"{p.Resource}: {Roles.Name(p.Role)}{(p.Node is null ? " (nowhere it may run)" : $" on {p.Node}")}{(p.Blocked ? ", blocked" : "")}{(p.Failed ? ", failed" : "")}")));
        Console.WriteLine("Scores (after location, stickiness and colocation; -INFINITY means it may not run there):");
        foreach (var line in t.Explanation) Console.WriteLine("  " + line);
        var cli = ConfigEdits.DescribeCli(cib.Configuration).Where(l => l.StartsWith(resource + " ", StringComparison.Ordinal)).ToList();
        foreach (var c in cli) Console.WriteLine($"Note: {c}");
        return ExitCodes.Ok;
    }

    /// <summary>The cluster's CIB from any node; null with the exit code to use (the reason is printed).</summary>
    internal static Vigil.Core.Model.Cib? FetchCib(ApiTarget api, out int failure)
    {
        failure = ExitCodes.Ok;
        string xml;
        using (var http = api.Client(TimeSpan.FromSeconds(10)))
        {
            try { xml = http.GetStringAsync(api.Url("/v1/cib")).GetAwaiter().GetResult(); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                Console.Error.WriteLine($"vigil: {api.Explain(e)}");
                failure = ExitCodes.Unavailable;
                return null;
            }
        }
        var cib = Vigil.Config.Xml.CibXmlReader.Read(xml, "cluster").Value;
        if (cib is null) { Console.Error.WriteLine("vigil: the cluster sent a CIB this version cannot read"); failure = ExitCodes.InternalError; }
        return cib;
    }

    private static int Restart(ApiTarget? api, string resource)
    {
        var rc = Operate(api, "stop", resource, null, null);
        if (rc != ExitCodes.Ok) return rc;
        var sw = System.Diagnostics.Stopwatch.StartNew();
        while (sw.Elapsed < TimeSpan.FromMinutes(5))
        {
            var s = FetchStatus(api!, TimeSpan.FromSeconds(3));
            var members = s?.Resources.Where(r => r.Id == resource || r.Group == resource).ToList();
            if (members is { Count: > 0 } && members.All(r => r.Role == "Stopped")) break;
            Thread.Sleep(200);
        }
        return Operate(api, "start", resource, null, null);
    }

    /// <summary>POSTs JSON to a node; on no answer prints why and returns the exit code to use.</summary>
    private static (TResp? Body, string Status, int? Failure) Post<TReq, TResp>(ApiTarget api, string path, TReq request, TimeSpan? timeout = null) where TResp : class
    {
        using var http = api.Client(timeout ?? TimeSpan.FromSeconds(30));
        try
        {
            using var resp = http.PostAsJsonAsync(api.Url(path), request, Json).GetAwaiter().GetResult();
            return (resp.Content.ReadFromJsonAsync<TResp>(Json).GetAwaiter().GetResult(), resp.StatusCode.ToString(), null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            Console.Error.WriteLine($"vigil: {api.Explain(e)}");
            return (null, "", ExitCodes.Unavailable);
        }
    }

    /// <summary>The one node daemon's local API socket on this host (/run/vigil/NAME/api.sock), if there is exactly one.</summary>
    private static string? LocalSocket()
    {
        try
        {
            if (!Directory.Exists("/run/vigil")) return null;
            var found = Directory.EnumerateDirectories("/run/vigil").Select(d => Path.Combine(d, "api.sock")).Where(File.Exists).Take(2).ToList();
            return found.Count == 1 ? found[0] : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    /// <summary>No node to talk to was given: says how to give one (exit 64).</summary>
    internal static int NoCluster()
    {
        Console.Error.WriteLine("vigil: which cluster? on a node, its daemon's local socket is used (/run/vigil/NAME/api.sock, or VIGIL_SOCKET); " +
            "else give --settings FILE (or VIGIL_SETTINGS), or --api ip:port with VIGIL_TOKEN");
        return ExitCodes.Usage;
    }

    internal static ApiTarget? ApiAddress(string? api, string? settingsPath)
    {
        settingsPath ??= api is null ? Environment.GetEnvironmentVariable("VIGIL_SETTINGS") : null;
        if (settingsPath is not null)
        {
            try
            {
                var settings = NodeSettings.Load(settingsPath);
                var target = new ApiTarget(api ?? settings.Self.Api, settings);
                _ = target.Credentials;
                return target;
            }
            catch (Exception e) when (e is SettingsException or IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                Console.Error.WriteLine($"vigil: {(e is SettingsException ? "" : $"{settingsPath}: cannot load this node's credentials: ")}{e.Message}");
                // The precise problem is reported; the callers' generic "which cluster?" would only confuse.
                Environment.Exit(ExitCodes.NoInput);
                return null;
            }
        }
        api ??= Environment.GetEnvironmentVariable("VIGIL_API");
        if (api is null)
        {
            // On a node: its local API socket (root and members of its API group), found or named in VIGIL_SOCKET.
            var socket = Environment.GetEnvironmentVariable("VIGIL_SOCKET") is { Length: > 0 } named ? named : LocalSocket();
            return socket is null ? null : ApiTarget.Local(socket);
        }
        var tokenText = Environment.GetEnvironmentVariable("VIGIL_TOKEN");
        if (string.IsNullOrEmpty(tokenText)) return new ApiTarget(api, null);
        if (!Vigil.Host.Security.JoinToken.TryParse(tokenText, out var token, out var error) || token!.Node != Vigil.Host.Security.JoinTokens.ApiTokenName)
        {
            Console.Error.WriteLine($"vigil: VIGIL_TOKEN is not a remote API token ({error ?? "it must start with 'vigil-api:'"}); 'vigil init' printed one");
            Environment.Exit(ExitCodes.Usage);
            return null;
        }
        return new ApiTarget(api, null) { RemoteToken = token };
    }

    private static int Init(string dir, string[] nodes, string clusterName, string? witness, string dataDir)
    {
        var members = new Dictionary<string, MemberAddress>(StringComparer.Ordinal);
        foreach (var (spec, isWitness) in nodes.Select(n => (n, false)).Concat(witness is null ? [] : [(witness, true)]))
        {
            var eq = spec.IndexOf('=');
            var parts = eq > 0 ? spec[(eq + 1)..].Split(',') : [];
            if (eq <= 0 || parts.Length != 2 || !System.Net.IPEndPoint.TryParse(parts[0], out _) || !System.Net.IPEndPoint.TryParse(parts[1], out _))
            {
                Console.Error.WriteLine($"vigil: --{(isWitness ? "witness" : "node")} '{spec}' is not NAME=RAFT_IP:PORT,API_IP:PORT (e.g. node1=10.0.0.1:7000,10.0.0.1:7001)");
                return ExitCodes.Usage;
            }
            var name = spec[..eq];
            if (!Vigil.Config.Crm.CrmParser.IsValidId(name) || !members.TryAdd(name, new MemberAddress(parts[0], parts[1]) { Witness = isWitness }))
            {
                Console.Error.WriteLine($"vigil: node name '{name}' is invalid or given twice");
                return ExitCodes.Usage;
            }
        }
        var addresses = members.SelectMany(m => new[] { (m.Key, m.Value.Raft), (m.Key, m.Value.Api) }).GroupBy(x => x.Item2).FirstOrDefault(g => g.Count() > 1);
        if (addresses is not null)
        {
            Console.Error.WriteLine($"vigil: address {addresses.Key} is given twice ({string.Join(", ", addresses.Select(x => x.Key))}); every member needs its own raft and api addresses");
            return ExitCodes.Usage;
        }
        if (members.Count(m => !m.Value.Witness) < 2)
        {
            Console.Error.WriteLine("vigil: a cluster needs at least two --node entries (three for quorum without a witness)");
            return ExitCodes.Usage;
        }
        if (Directory.Exists(Path.Combine(dir, "tls")))
        {
            Console.Error.WriteLine($"vigil: {dir}/tls exists already; refusing to replace a cluster's credentials");
            return ExitCodes.Refused;
        }
        var tls = Path.GetFullPath(Path.Combine(dir, "tls"));
        Vigil.Host.Security.ClusterCredentials.CreateCluster(tls, members.Keys, clusterName);
        foreach (var name in members.Keys)
            new NodeSettings { Name = name, DataDirectory = Path.GetFullPath(Path.Combine(dataDir, name)), Members = members, TlsDirectory = tls }.Save(Path.Combine(dir, $"{name}.json"));
        var first = members.Keys.First();
        Console.WriteLine($"created the cluster CA and credentials for {string.Join(", ", members.Keys)} in {tls}");
        Console.WriteLine($"this machine is {first}: vigil daemon --settings {Path.GetFullPath(Path.Combine(dir, first + ".json"))}");
        foreach (var name in members.Keys.Skip(1))
            Console.WriteLine($"on {name}: vigil join --token {Vigil.Host.Security.JoinTokens.Issue(tls, name)} {members[first].Api}");
        Console.WriteLine($"each token works once ('vigil token NAME --dir {dir}' issues a new one); keep {tls}/ca.key safe: it signs nodes");
        Console.WriteLine($"remote API access (status and changes from a machine without node credentials): VIGIL_TOKEN={Vigil.Host.Security.JoinTokens.IssueApi(tls)} vigil status --api {members[first].Api}");
        if (members.Count == 2) Console.WriteLine("note: with two nodes, a node alone has no majority; add a third node or a witness (--witness) to survive the loss of one");
        if (witness is not null) Console.WriteLine("the witness runs 'vigil daemon' (or 'vigil witness') with its settings file like any node; it votes and runs no resources");
        return ExitCodes.Ok;
    }

    private static int RunDaemon(string settingsPath, bool witness = false)
    {
        NodeSettings settings;
        try { settings = NodeSettings.Load(settingsPath); }
        catch (Exception e) when (e is SettingsException or IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"vigil: {e.Message}");
            return ExitCodes.NoInput;
        }
        if (witness && !settings.Self.Witness)
        {
            Console.Error.WriteLine($"vigil: {settingsPath}: '{settings.Name}' is not a witness in these settings; run it with 'vigil daemon', or create the cluster with 'vigil init --witness'");
            return ExitCodes.Usage;
        }
        try { settings.LoadCredentials()?.Dispose(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            Console.Error.WriteLine($"vigil: cannot load this node's credentials from {settings.TlsDirectory}: {e.Message}");
            return ExitCodes.NoInput;
        }
        // The first SIGTERM or SIGINT stops the node cleanly (its resources move away or stop first); another one
        // while that runs leaves at once.
        using var stop = new CancellationTokenSource();
        using var force = new CancellationTokenSource();
        var signals = 0;
        void OnSignal(PosixSignalContext c)
        {
            c.Cancel = true;
            if (Interlocked.Increment(ref signals) == 1) stop.Cancel(); else force.Cancel();
        }
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using var intr = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        var node = new NodeDaemon(settings);
        try
        {
            // Not the stop token: the consensus library keeps the start token for its lifetime, so cancelling it
            // would end replication while the clean stop still needs it.
            node.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
            stop.Token.WaitHandle.WaitOne();
            node.ShutdownAsync(force.Token).GetAwaiter().GetResult();
        }
        catch (WatchdogException e)
        {
            Console.Error.WriteLine($"vigil: cannot start node {settings.Name}: {e.Message}");
            return ExitCodes.NoInput;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"vigil: cannot start node {settings.Name} (raft {settings.Self.Raft}, api {settings.Self.Api}, data {settings.DataDirectory}): {e.Message}");
            Console.Error.WriteLine("is another vigil daemon using these addresses, or is the data folder not writable?");
            return ExitCodes.Errors;
        }
        finally
        {
            node.DisposeAsync().AsTask().GetAwaiter().GetResult();
        }
        return ExitCodes.Ok;
    }

    internal static StatusResponse? FetchStatus(ApiTarget api, TimeSpan timeout) => FetchStatus(api, timeout, out _);

    /// <param name="unauthorized">The node answered 401: this client has neither node credentials nor a valid token.</param>
    internal static StatusResponse? FetchStatus(ApiTarget api, TimeSpan timeout, out bool unauthorized) => FetchStatus(api, timeout, out unauthorized, out _);

    /// <param name="refusal">Why the local socket refused this user, when it did.</param>
    internal static StatusResponse? FetchStatus(ApiTarget api, TimeSpan timeout, out bool unauthorized, out string? refusal)
    {
        unauthorized = false;
        refusal = null;
        using var http = api.Client(timeout);
        try { return http.GetFromJsonAsync<StatusResponse>(api.Url("/v1/status"), Json).GetAwaiter().GetResult(); }
        catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.Unauthorized) { unauthorized = true; return null; }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            if (api.LocallyRefused(e)) refusal = api.Explain(e);
            return null;
        }
    }

    private static int Status(ApiTarget? api, bool json, bool watch)
    {
        if (api is null) return NoCluster();
        while (true)
        {
            var s = FetchStatus(api, TimeSpan.FromSeconds(3), out var unauthorized, out var refusal);
            if (refusal is not null)
            {
                Console.Error.WriteLine($"vigil: {refusal}");
                return ExitCodes.Refused;
            }
            if (unauthorized)
            {
                Console.Error.WriteLine($"vigil: {api} refused: its API needs this node's credentials (--settings, as root on a node) or a remote API token (VIGIL_TOKEN, printed by 'vigil init')");
                return ExitCodes.Refused;
            }
            if (s is null)
            {
                Console.Error.WriteLine($"vigil: no answer from {api}; is 'vigil daemon' running there?");
                if (!watch) return ExitCodes.Unavailable;
            }
            else
            {
                if (watch) Console.Write("\u001b[H\u001b[2J");
                Console.Write(json ? JsonSerializer.Serialize(s, Json) + "\n" : Render(s));
            }
            if (!watch) return ExitCodes.Ok;
            Thread.Sleep(1000);
        }
    }

    private static int ListNodes(ApiTarget? api)
    {
        if (api is null) return ClusterCommands.NoCluster();
        var s = FetchStatus(api, TimeSpan.FromSeconds(3));
        if (s is null) { Console.Error.WriteLine($"vigil: no answer from {api}; is 'vigil daemon' running there?"); return ExitCodes.Unavailable; }
        foreach (var n in s.Nodes)
        {
            var state = n.Online ? (n.ShuttingDown ? "shutting-down" : n.Standby ? "standby" : "online") : n.Unclean ? "UNCLEAN" : n.Joining ? "joining" : "OFFLINE";
            Console.WriteLine($"{n.Name}\t{state}\t{(n.Reachable ? "reachable" : "unreachable")} from {s.Node}{(n.Name == s.Leader ? "\tDC" : "")}");
        }
        foreach (var w in s.Witnesses)
            Console.WriteLine($"{w.Name}\twitness\t{(w.Reachable ? "reachable" : "unreachable")} from {s.Node}{(w.Name == s.Leader ? "\tDC" : "")}");
        return ExitCodes.Ok;
    }

    /// <summary>crm_mon -1 style text (tabs as crm_mon prints them).</summary>
    public static string Render(StatusResponse s)
    {
        var sb = new StringBuilder();
        sb.Append("Cluster Summary:\n");
        sb.Append("  * Stack: vigil\n");
        sb.Append(s.Alone is { } alone
            ? $"  * Current DC: {s.Leader} (term {s.Term}) - ALONE without {alone.Peer} (two-node cluster)\n"
            : s.Leader is null
            ? "  * Current DC: NONE - partition WITHOUT quorum\n"
            : $"  * Current DC: {s.Leader} (term {s.Term}) - partition with quorum\n");
        sb.Append($"  * {s.Nodes.Count} nodes configured\n");
        sb.Append($"  * {s.Resources.Count} resource instances configured\n\n");
        sb.Append("Node List:\n");
        var online = s.Nodes.Where(n => n.Online && !n.Standby && !n.ShuttingDown).Select(n => n.Name).ToList();
        var standby = s.Nodes.Where(n => n.Online && n.Standby && !n.ShuttingDown).Select(n => n.Name).ToList();
        var offline = s.Nodes.Where(n => !n.Online && !n.Unclean && !n.Joining).Select(n => n.Name).ToList();
        foreach (var n in s.Nodes.Where(n => n.Unclean)) sb.Append($"  * Node {n.Name}: UNCLEAN (offline)\n");
        if (online.Count > 0) sb.Append($"  * Online: [ {string.Join(' ', online)} ]\n");
        foreach (var n in standby) sb.Append($"  * Node {n}: standby\n");
        foreach (var n in s.Nodes.Where(n => n.Online && n.ShuttingDown)) sb.Append($"  * Node {n.Name}: shutting down (what it runs moves away or stops, then it leaves)\n");
        foreach (var n in s.Nodes.Where(n => n.Joining && !n.Unclean)) sb.Append($"  * Node {n.Name}: joining (its daemon started again; the cluster has not recorded it yet)\n");
        if (offline.Count > 0) sb.Append($"  * OFFLINE: [ {string.Join(' ', offline)} ]\n");
        foreach (var w in s.Witnesses) sb.Append($"  * Witness {w.Name}: {(w.Reachable ? "reachable" : "UNREACHABLE")} (votes, runs no resources)\n");
        sb.Append("\nFull List of Resources:\n");
        if (s.Resources.Count == 0) sb.Append("  * No resources\n");
        foreach (var group in s.Resources.GroupBy(r => r.Group))
        {
            var indent = "  ";
            if (group.Key is not null) { sb.Append($"  * Resource Group: {group.Key}:\n"); indent = "    "; }
            foreach (var r in group)
                sb.Append($"{indent}* {r.Id}\t({r.Agent}):\t {r.Role}{(r.Nodes.Count > 0 ? " " + string.Join(' ', r.Nodes.Select(n => r.Unclean.Contains(n) ? $"{n} (UNCLEAN)" : n)) : "")}\n");
        }
        Section(sb, "Move and ban constraints in force", s.Constraints);
        Section(sb, "Fencing", s.Fencing);
        Section(sb, "Fencing History", s.FencingHistory);
        Section(sb, "Failed Resource Actions", s.FailedActions);
        Section(sb, "Warnings", s.Warnings);
        return sb.ToString();
    }

    private static void Section(StringBuilder sb, string title, IReadOnlyList<string> lines)
    {
        if (lines.Count == 0) return;
        sb.Append($"\n{title}:\n");
        foreach (var line in lines) sb.Append($"  * {line}\n");
    }

    private static int Load(ApiTarget? api, string path, string? from)
    {
        if (api is null) return NoCluster();
        var loaded = ConfigCommands.Load(path, from, null, out var exit);
        if (loaded is null) return exit;
        if (loaded.Value is null)
        {
            foreach (var d in loaded.Diagnostics) Console.Error.WriteLine(d);
            Console.Error.WriteLine($"{path}: not loaded because of the errors above; the cluster is unchanged");
            return ExitCodes.Errors;
        }
        var xml = Vigil.Config.Xml.CibXmlWriter.Write(loaded.Value, includeStatus: false);
        var (body, code, failure) = Post<ConfigureRequest, ConfigureResponse>(api, "/v1/configure", new ConfigureRequest(xml, "xml", Environment.UserName));
        if (failure is not null) return failure.Value;
        foreach (var d in loaded.Diagnostics.Where(d => d.Severity != Vigil.Core.Severity.Info)) Console.Error.WriteLine(d);
        if (body is { Applied: true })
        {
            Console.WriteLine($"{path}: loaded into the cluster");
            return ExitCodes.Ok;
        }
        Console.Error.WriteLine($"vigil: the cluster refused the configuration: {body?.Error ?? code}");
        return ExitCodes.Refused;
    }
}
