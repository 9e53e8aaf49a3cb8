using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Vigil.Host.Daemon;

namespace Vigil.SystemTests.Testbed;

/// <summary>
/// N hosts on one machine: one network namespace per node and one for the bridge (which also holds the
/// client address 10.250.0.254), veth pairs from the bridge to each node's eth0, addresses from
/// 10.250.0.0/24 only inside these namespaces, no default route. Every node runs 'vigil daemon' in its
/// namespace with its own state directory and a private mount namespace (its own /run, so agents' state
/// files are per node, and an OCF tree with the testbed's witness agents overlaid). Names start with
/// "vtb&lt;pid&gt;x": a leftover of a dead test run is swept at start, a running one is left alone.
/// Everything is torn down in <see cref="Dispose"/>, also when the test fails.
/// </summary>
public sealed partial class Testbed : IDisposable
{
    public const string Prefix = "vtb";
    public const string Net = "10.250.0";
    public const string ClientIp = Net + ".254";
    public const string Vip = Net + ".100";
    public const int RaftPort = 7000, ApiPort = 7001;
    private static int _counter;

    public string Id { get; }
    public int Count { get; }
    public string Dir { get; }
    public string BridgeNs => $"{Id}-br";
    public string SideChannel => Path.Combine(Dir, "side-channel.log");
    public IReadOnlyList<string> Names { get; }
    private readonly Dictionary<string, Process> _daemons = new();
    /// <summary>The nodes the testbed reset (powered off) because their daemon self-fenced, until they are powered on.</summary>
    private readonly HashSet<string> _reset = new();
    private volatile bool _disposing;
    private readonly Dictionary<string, MemberAddress> _members = new();
    private readonly object _sideLock = new();
    private readonly List<string> _created = new();
    private readonly Action<string> _log;

    /// <summary>The console-free log the testbed writes (setup, faults); tests print it on failure.</summary>
    public List<string> Journal { get; } = new();

    public static string NodeName(int i) => $"n{i}";
    public static string NodeIp(int i) => $"{Net}.{i}";
    public string NodeNs(string node) => $"{Id}-{node}";
    public string Port(string node) => "v" + node[1..];
    private static int Index(string node) => int.Parse(node[1..], CultureInfo.InvariantCulture);

    /// <param name="leaseRounds">Each node's settings ask for lease rounds, or not (null: the settings' default, <see cref="NodeSettings.LeaseRounds"/>).</param>
    public Testbed(int nodes, Action<string>? log = null, bool? leaseRounds = null)
    {
        _leaseRounds = leaseRounds;
        if (Native.GetEuid() != 0)
            throw new InvalidOperationException("the system tests build network namespaces and need root: run them as root (sudo dotnet test test/Vigil.System.Tests)");
        if (nodes is < 2 or > 9) throw new ArgumentOutOfRangeException(nameof(nodes), "2 to 9 nodes");
        foreach (var tool in new[] { "/usr/sbin/ip", "/usr/bin/unshare", "/usr/lib/ocf/resource.d/heartbeat/IPaddr2", "/usr/lib/ocf/resource.d/heartbeat/Dummy", "/usr/bin/ping" })
            if (!File.Exists(tool) && !File.Exists(tool.Replace("/usr/sbin/", "/sbin/", StringComparison.Ordinal)))
                throw new InvalidOperationException($"{tool} is missing: install the Debian packages iproute2 util-linux resource-agents iputils-ping (scripts/deps.sh lists them)");
        _log = log ?? (_ => { });
        Count = nodes;
        Id = $"{Prefix}{Environment.ProcessId}x{Interlocked.Increment(ref _counter)}";
        Dir = Path.Combine(Path.GetTempPath(), Id);
        Names = Enumerable.Range(1, nodes).Select(NodeName).ToList();
        SweepLeftovers();
        try
        {
            if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
            Directory.CreateDirectory(Dir);
            File.WriteAllText(SideChannel, "");
            BuildNetwork();
            WriteNodes();
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    private void Log(string text)
    {
        var line = $"{DateTime.UtcNow:HH:mm:ss.fff} {text}";
        lock (Journal) Journal.Add(line);
        _log(line);
    }

    /// <summary>Removes namespaces of earlier test runs whose process is gone (killing what still runs in them).</summary>
    public static void SweepLeftovers()
    {
        foreach (var line in Sh.Must("ip", "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var name = line.Split(' ')[0];
            if (!name.StartsWith(Prefix, StringComparison.Ordinal)) continue;
            var x = name.IndexOf('x', StringComparison.Ordinal);
            if (x <= Prefix.Length || !int.TryParse(name[Prefix.Length..x], NumberStyles.None, CultureInfo.InvariantCulture, out var owner)) continue;
            if (Directory.Exists($"/proc/{owner}")) continue;
            KillAllIn(name);
            Sh.Try("ip", "netns", "del", name);
            var dir = Path.Combine(Path.GetTempPath(), name[..name.LastIndexOf('-')]);
            try { if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private static List<int> PidsIn(string netns)
    {
        var r = Sh.Run("ip", ["netns", "pids", netns]);
        return r.Code != 0 ? [] : r.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(p => int.Parse(p.Trim(), CultureInfo.InvariantCulture)).ToList();
    }

    private static void KillAllIn(string netns)
    {
        for (int round = 0; round < 3; round++)
        {
            var pids = PidsIn(netns);
            if (pids.Count == 0) return;
            foreach (var p in pids) { Native.Signal(p, Native.SigCont); Native.Signal(p, Native.SigKill); }
            Thread.Sleep(100);
        }
    }

    private void AddNs(string name)
    {
        Sh.Must("ip", "netns", "add", name);
        _created.Add(name);
        Sh.Must("ip", "-n", name, "link", "set", "lo", "up");
        Sh.Must("ip", "netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1");
    }

    private void BuildNetwork()
    {
        AddNs(BridgeNs);
        Sh.Must("ip", "-n", BridgeNs, "link", "add", "br0", "type", "bridge", "stp_state", "0", "forward_delay", "0");
        Sh.Must("ip", "-n", BridgeNs, "link", "set", "br0", "up");
        Sh.Must("ip", "-n", BridgeNs, "addr", "add", $"{ClientIp}/24", "dev", "br0");
        foreach (var n in Names)
        {
            var ns = NodeNs(n);
            AddNs(ns);
            Sh.Must("ip", "-n", BridgeNs, "link", "add", Port(n), "type", "veth", "peer", "name", "eth0", "netns", ns);
            Sh.Must("ip", "-n", BridgeNs, "link", "set", Port(n), "master", "br0", "up");
            Sh.Must("ip", "-n", ns, "addr", "add", $"{NodeIp(Index(n))}/24", "dev", "eth0");
            Sh.Must("ip", "-n", ns, "link", "set", "eth0", "up");
        }
        foreach (var ns in _created)
            if (Sh.Must("ip", "-n", ns, "route", "show", "default").Trim().Length > 0)
                throw new InvalidOperationException($"namespace {ns} has a default route; the testbed must stay inside its namespaces");
        Log($"network: bridge namespace {BridgeNs} ({ClientIp}), nodes {string.Join(", ", Names.Select(n => $"{NodeNs(n)} ({NodeIp(Index(n))})"))}");
    }

    /// <summary>Cluster credentials, settings and the per-node witness agents (see <see cref="UniquenessChecker"/>).</summary>
    private readonly bool? _leaseRounds;

    private void WriteNodes()
    {
        foreach (var n in Names) _members[n] = new MemberAddress($"{NodeIp(Index(n))}:{RaftPort}", $"{NodeIp(Index(n))}:{ApiPort}");
        var tls = Path.Combine(Dir, "tls");
        Vigil.Host.Security.ClusterCredentials.CreateCluster(tls, Names, "vtb");
        foreach (var n in Names)
        {
            var nodeDir = Path.Combine(Dir, n);
            var settings = new NodeSettings
            {
                Name = n, DataDirectory = Path.Combine(nodeDir, "data"), Members = _members, TlsDirectory = tls, FenceAgentDirectory = FenceAgentDir,
                // The nodes share this host, which must not reboot: a self-fencing daemon writes "b" (selfFenceAction
                // reboot) to a FIFO the testbed reads instead of /proc/sysrq-trigger, and the testbed resets the node.
                ResetTrigger = ResetTriggerFifo(n),
            };
            if (_leaseRounds is { } rounds) settings.LeaseRounds = rounds;
            settings.Save(SettingsFile(n));
            Directory.CreateDirectory(nodeDir);
            Sh.Must("mkfifo", "-m", "600", ResetTriggerFifo(n));
            var node = n;
            new Thread(() => WatchResetTrigger(node)) { IsBackground = true, Name = $"vtb-reset-{n}" }.Start();
            var provider = Path.Combine(nodeDir, "ocf", "vtb");
            Directory.CreateDirectory(provider);
            foreach (var agent in new[] { "Dummy", "IPaddr2" })
            {
                var path = Path.Combine(provider, agent);
                File.WriteAllText(path, WitnessAgent(n, agent, SideChannel));
                File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
            }
        }
    }

    /// <summary>
    /// ocf:vtb:AGENT runs ocf:heartbeat:AGENT unchanged and records, outside the cluster, "start" before every
    /// start and "stop" after every successful stop, with wall-clock timestamps (all nodes share the clock).
    /// </summary>
    public static string WitnessAgent(string node, string agent, string sideChannel) => $$"""
        #!/bin/sh
        # Testbed witness (written by Vigil.System.Tests): ocf:heartbeat:{{agent}} plus a side-channel record.
        case "$1" in start) echo "$(date +%s.%N) {{node}} start $OCF_RESOURCE_INSTANCE" >> '{{sideChannel}}' ;; esac
        /usr/lib/ocf/resource.d/heartbeat/{{agent}} "$@"
        rc=$?
        if [ "$1" = stop ] && [ "$rc" -eq 0 ]; then echo "$(date +%s.%N) {{node}} stop $OCF_RESOURCE_INSTANCE" >> '{{sideChannel}}'; fi
        exit $rc

        """;

    public string SettingsFile(string node) => Path.Combine(Dir, $"{node}.json");
    public string LogFile(string node) => Path.Combine(Dir, $"{node}.log");

    private static string VigilDll()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "vigil.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"{dll} is missing: build the test project (it references src/Vigil)");
    }

    /// <summary>
    /// The shipped (Native AOT) binary the nodes run when VIGIL_BINARY names one (bench/failover.sh sets it), else null:
    /// the nodes run the build's vigil.dll, whose first plans as a new leader include compiling the code (about 0.1 s each).
    /// </summary>
    private static string? ShippedBinary() =>
        Environment.GetEnvironmentVariable("VIGIL_BINARY") is { Length: > 0 } path
            ? File.Exists(path) ? Path.GetFullPath(path) : throw new FileNotFoundException($"VIGIL_BINARY={path} does not exist: build it with scripts/publish.sh DIR")
            : null;

    /// <summary>Boots a node: private /run, the witness agents overlaid on the OCF tree, then 'vigil daemon'.</summary>
    public void Start(string node)
    {
        const string boot = "mount -t tmpfs -o mode=755,size=64m tmpfs /run && mkdir -p /run/resource-agents && " +
                            "mount -t overlay overlay -o \"lowerdir=$1:/usr/lib/ocf/resource.d\" /usr/lib/ocf/resource.d && " +
                            "if [ \"$5\" = native ]; then exec \"$2\" daemon --settings \"$3\" >> \"$4\" 2>&1; fi; " +
                            "exec dotnet \"$2\" daemon --settings \"$3\" >> \"$4\" 2>&1";
        var psi = new ProcessStartInfo("ip") { RedirectStandardInput = true };
        var shipped = ShippedBinary();
        foreach (var a in new[] { "netns", "exec", NodeNs(node), "unshare", "--mount", "--propagation", "private", "/bin/sh", "-c", boot, "vtb-boot",
                     Path.Combine(Dir, node, "ocf"), shipped ?? VigilDll(), SettingsFile(node), LogFile(node), shipped is null ? "dll" : "native" })
            psi.ArgumentList.Add(a);
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {node}");
        p.StandardInput.Close();
        lock (_power) _daemons[node] = p;
        Log($"{node}: daemon started, pid {p.Id}{(shipped is null ? "" : $" ({shipped})")}");
    }

    public void StartAll()
    {
        foreach (var n in Names) Start(n);
    }

    public void AppendSide(string node, string kind, string resource, double? at = null)
    {
        var line = $"{(at ?? PreciseNow()).ToString("0.000000", CultureInfo.InvariantCulture)} {node} {kind} {resource}\n";
        lock (_sideLock) File.AppendAllText(SideChannel, line);
    }

    /// <summary>Power loss: the bridge port goes down and every process of the node is killed with SIGKILL. Returns T0 (after both).</summary>
    public double PowerOff(string node)
    {
        lock (_power) return PowerOffLocked(node);
    }

    /// <param name="resetAt">A reset's own moment (<see cref="Reset"/>): the side channel dates the power off then, not at T0.</param>
    private double PowerOffLocked(string node, double? resetAt = null)
    {
        Sh.Must("ip", "-n", BridgeNs, "link", "set", Port(node), "down");
        var pids = PidsIn(NodeNs(node));
        foreach (var p in pids) Native.Signal(p, Native.SigKill);
        // T0 as the Pacemaker anchor takes it: once the cable is out and the processes are killed, so no
        // reply of the victim still in flight counts as the new holder's.
        var t0 = PreciseNow();
        KillAllIn(NodeNs(node));
        // Dated T0: from then on the node's addresses are off the network and its processes are being killed.
        AppendSide(node, UniquenessChecker.PowerOff, "*", resetAt ?? t0);
        if (_daemons.Remove(node, out var d)) { d.WaitForExit(5000); d.Dispose(); }
        Log($"{node}: power off (link down, kill -9 of {pids.Count} processes)");
        return t0;
    }

    /// <summary>After a power loss: the node's RAM state (addresses beyond its own, /run) is gone; cable back in; boot.</summary>
    public void PowerOn(string node)
    {
        lock (_power) PowerOnLocked(node);
    }

    private void PowerOnLocked(string node)
    {
        _reset.Remove(node);
        var ns = NodeNs(node);
        // The daemon keeps agents' state under /run (here a fresh tmpfs per boot), so a reboot forgets it.
        Sh.Must("ip", "-n", ns, "addr", "flush", "dev", "eth0");
        Sh.Must("ip", "-n", ns, "addr", "add", $"{NodeIp(Index(node))}/24", "dev", "eth0");
        Sh.Must("ip", "-n", BridgeNs, "link", "set", Port(node), "up");
        Start(node);
    }

    /// <summary>Wall-clock seconds since the epoch with sub-millisecond resolution (the side channel's and ping -D's clock).</summary>
    public static double PreciseNow() => (DateTime.UtcNow - DateTime.UnixEpoch).Ticks / (double)TimeSpan.TicksPerSecond;

    // ------------------------------------------------------------------ faults
    public void Pause(string node, bool stop)
    {
        foreach (var p in PidsIn(NodeNs(node))) Native.Signal(p, stop ? Native.SigStop : Native.SigCont);
        Log($"{node}: {(stop ? "SIGSTOP" : "SIGCONT")}");
    }

    public void Link(string node, bool up)
    {
        Sh.Must("ip", "-n", BridgeNs, "link", "set", Port(node), up ? "up" : "down");
        Log($"{node}: link {(up ? "up" : "down")}");
    }

    /// <summary>Drops <paramref name="percent"/> % of the node's packets, both directions (nftables: the kernel here has no netem).</summary>
    public void Loss(string node, int percent)
    {
        Nft(node, $"numgen random mod 100 < {percent} drop", "input", "output");
        Log($"{node}: {percent} % packet loss");
    }

    /// <summary>Asymmetric partition: the node still sends to the other nodes, but hears none of them.</summary>
    public void DeafTo(string node)
    {
        var others = string.Join(", ", Names.Where(n => n != node).Select(n => NodeIp(Index(n))));
        Nft(node, $"ip saddr {{ {others} }} drop", "input");
        Log($"{node}: asymmetric partition (hears no other node, is heard by them)");
    }

    /// <summary>
    /// Partition: the node neither hears nor reaches <paramref name="from"/> (both directions dropped with
    /// nftables in its namespace); it stays alive, on the bridge and reachable by the client and the power switch.
    /// </summary>
    public void Partition(string node, IEnumerable<string> from)
    {
        var peers = string.Join(", ", from.Select(n => NodeIp(Index(n))));
        Sh.MustIn($"table inet vtb {{\n chain input {{\n  type filter hook input priority 0; policy accept;\n  ip saddr {{ {peers} }} drop\n }}\n" +
                  $" chain output {{\n  type filter hook output priority 0; policy accept;\n  ip daddr {{ {peers} }} drop\n }}\n}}\n",
            "ip", "netns", "exec", NodeNs(node), "nft", "-f", "-");
        Log($"{node}: partitioned from {string.Join(", ", from)} (both directions)");
    }

    /// <summary>Delay with tc netem; only when the kernel has sch_netem (see <see cref="HasNetem"/>).</summary>
    public void Delay(string node, int ms)
    {
        Sh.Must("tc", "-n", NodeNs(node), "qdisc", "replace", "dev", "eth0", "root", "netem", "delay", $"{ms}ms");
        Log($"{node}: {ms} ms delay");
    }

    public bool HasNetem()
    {
        var r = Sh.Run("tc", ["-n", BridgeNs, "qdisc", "add", "dev", "br0", "root", "netem", "delay", "1ms"]);
        if (r.Code == 0) Sh.Try("tc", "-n", BridgeNs, "qdisc", "del", "dev", "br0", "root");
        return r.Code == 0;
    }

    private void Nft(string node, string rule, params string[] hooks)
    {
        var chains = string.Concat(hooks.Select(h => $" chain {h} {{\n  type filter hook {h} priority 0; policy accept;\n  {rule}\n }}\n"));
        Sh.MustIn($"table inet vtb {{\n{chains}}}\n", "ip", "netns", "exec", NodeNs(node), "nft", "-f", "-");
    }

    /// <summary>Undoes every network fault of the node (nft rules, qdisc, link).</summary>
    public void Heal(string node)
    {
        Sh.Try("ip", "netns", "exec", NodeNs(node), "nft", "delete", "table", "inet", "vtb");
        Sh.Try("tc", "-n", NodeNs(node), "qdisc", "del", "dev", "eth0", "root");
        Sh.Must("ip", "-n", BridgeNs, "link", "set", Port(node), "up");
        Log($"{node}: network healed");
    }

    // ------------------------------------------------------------------ the cluster's API, reached from the bridge namespace
    private HttpClient Client(string node, TimeSpan timeout)
    {
        var creds = NodeSettings.Load(SettingsFile(node)).LoadCredentials() ?? throw new InvalidOperationException("no credentials");
        var handler = creds.HttpHandler(_ => { });
        var ns = BridgeNs;
        handler.ConnectCallback = async (ctx, ct) =>
        {
            var s = Native.SocketIn(ns);
            try
            {
                await s.ConnectAsync(IPAddress.Parse(ctx.DnsEndPoint.Host), ctx.DnsEndPoint.Port, ct).ConfigureAwait(false);
                return new NetworkStream(s, ownsSocket: true);
            }
            catch
            {
                s.Dispose();
                throw;
            }
        };
        return new HttpClient(handler, disposeHandler: true) { Timeout = timeout };
    }

    private string Url(string node, string path) => $"https://{_members[node].Api}{path}";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public StatusResponse? Status(string node, int timeoutMs = 1000)
    {
        using var http = Client(node, TimeSpan.FromMilliseconds(timeoutMs));
        try { return http.GetFromJsonAsync<StatusResponse>(Url(node, "/v1/status"), Json).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException or SocketException) { return null; }
    }

    public string? Cib(string node)
    {
        using var http = Client(node, TimeSpan.FromSeconds(3));
        try { return http.GetStringAsync(Url(node, "/v1/cib")).GetAwaiter().GetResult(); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or SocketException) { return null; }
    }

    /// <summary>Loads a configuration (crm syntax) through a node; returns whether the cluster acknowledged it, and its answer.</summary>
    public (bool Applied, string Answer) Configure(string node, string crm)
    {
        var (ok, body) = Post(node, "/v1/configure", new ConfigureRequest(crm, "crm", "vigil system tests"));
        return (ok && JsonSerializer.Deserialize<ConfigureResponse>(body, Json)?.Applied == true, body);
    }

    /// <summary>An everyday operation (move, clear, …) through a node, as 'vigil resource' sends it.</summary>
    public (bool Applied, string Answer) Operate(string node, string op, string resource, string? target = null)
    {
        var (ok, body) = Post(node, "/v1/operate", new OperateRequest(op, resource, target) { By = "vigil system tests" });
        return (ok && JsonSerializer.Deserialize<OperateResponse>(body, Json)?.Applied == true, body);
    }

    /// <summary>Runs the 'vigil' command line as an operator would: in the bridge namespace, with <paramref name="node"/>'s settings (bounded: 30 s).</summary>
    public Sh.Result Cli(string node, params string[] args) =>
        Sh.Run("ip", ["netns", "exec", BridgeNs, "dotnet", VigilDll(), .. args, "--settings", SettingsFile(node)], timeoutMs: 30_000);

    private (bool Success, string Body) Post<T>(string node, string path, T request)
    {
        using var http = Client(node, TimeSpan.FromSeconds(15));
        try
        {
            using var resp = http.PostAsJsonAsync(Url(node, path), request, Json).GetAwaiter().GetResult();
            return (resp.IsSuccessStatusCode, resp.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException or SocketException) { return (false, e.Message); }
    }

    /// <summary>The nodes whose daemon runs (not powered off by a fault or by the fence device).</summary>
    public IEnumerable<string> Running
    {
        get { lock (_power) return _daemons.Keys.ToList(); }
    }

    /// <summary>
    /// A clean stop of the node's daemon, as a service manager does it: SIGTERM (the daemon process itself: ip netns
    /// exec, unshare and the shell all exec into it). Returns its exit code, or null when it did not exit within
    /// <paramref name="within"/> (it is then left running for the test to report).
    /// </summary>
    public int? Terminate(string node, TimeSpan within)
    {
        Process d;
        lock (_power) d = _daemons[node];
        Native.Signal(d.Id, Native.SigTerm);
        Log($"{node}: SIGTERM to the daemon (pid {d.Id})");
        if (!d.WaitForExit((int)within.TotalMilliseconds)) return null;
        lock (_power) _daemons.Remove(node);
        var code = d.ExitCode;
        d.Dispose();
        return code;
    }

    /// <summary>The node's stand-in for /proc/sysrq-trigger: a FIFO only the testbed reads.</summary>
    public string ResetTriggerFifo(string node) => Path.Combine(Dir, node, "sysrq-trigger");

    /// <summary>
    /// Reads the node's reset trigger for as long as the testbed lives. A daemon that must fence itself records why and
    /// writes "b" there, as it would to /proc/sysrq-trigger, where the kernel reboots at once. The reset is dated at that
    /// moment in the side channel (a power off: the real host's addresses and processes end there); then the node is
    /// powered off, which here takes some tens of milliseconds more (the link goes down, its processes are killed).
    /// </summary>
    private void WatchResetTrigger(string node)
    {
        try
        {
            // Opened for reading and writing: the open does not wait for a writer, and no writer's close ends the reading.
            using var fifo = new FileStream(ResetTriggerFifo(node), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
            int b;
            while (!_disposing && (b = fifo.ReadByte()) >= 0)
                if (b == 'b' && !_disposing) Reset(node, PreciseNow(), "its daemon wrote b to its reset trigger (self-fence)");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (!_disposing) Log($"{node}: reading the reset trigger failed: {e.Message}");
        }
    }

    /// <summary>
    /// Powers the node off as its host's reset, dated <paramref name="at"/>, while it is powered on. (A daemon that could not
    /// write its trigger exits 75 and leaves the node up, as on a real host: the checker then finds what stayed up.)
    /// </summary>
    private void Reset(string node, double at, string why)
    {
        try
        {
            lock (_power)
            {
                if (_disposing || !_daemons.ContainsKey(node)) return;
                _reset.Add(node);
                Log($"{node}: reset at {DateTime.UnixEpoch.AddSeconds(at):HH:mm:ss.fff}: {why}");
                PowerOffLocked(node, resetAt: at);
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
            Log($"{node}: the reset failed: {e.Message}");
        }
    }

    /// <summary>Whether the testbed reset the node because its daemon self-fenced (and it was not powered on since).</summary>
    public bool WasReset(string node)
    {
        lock (_power) return _reset.Contains(node);
    }

    /// <summary>Whether the node's daemon exited on its own (a self-fence exits with code 75) while the node is powered on.</summary>
    public bool DaemonExited(string node)
    {
        lock (_power) return _daemons.TryGetValue(node, out var d) && d.HasExited;
    }

    /// <summary>Polls the running nodes until one answers with a status that satisfies the condition (bounded).</summary>
    public StatusResponse WaitFor(Func<StatusResponse, bool> condition, TimeSpan within, string what, IEnumerable<string>? askOnly = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < within)
        {
            foreach (var n in (askOnly ?? Running).ToList())
                if (Status(n, 500) is { } s && condition(s)) return s;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"{what} did not happen within {within.TotalSeconds:0} s.\n{Diagnostics()}");
    }

    /// <summary>The node where every member of the group runs, when they all run on one node.</summary>
    public static string? GroupNode(StatusResponse s, string group)
    {
        var members = s.Resources.Where(r => r.Group == group).ToList();
        if (members.Count == 0 || members.Any(r => r.Role != "Started" || r.Nodes.Count != 1)) return null;
        var node = members[0].Nodes[0];
        return members.All(r => r.Nodes[0] == node) ? node : null;
    }

    /// <summary>All expected nodes online, the group on one node, no resource on two nodes, unchanged for 2 s.</summary>
    /// <param name="eachPoll">Run before every poll (the fault campaign powers on nodes the cluster fenced).</param>
    public (StatusResponse Status, string Holder) WaitStable(string group, TimeSpan within, Action? eachPoll = null)
    {
        var sw = Stopwatch.StartNew();
        string? holder = null;
        var since = TimeSpan.Zero;
        StatusResponse? last = null;
        while (sw.Elapsed < within)
        {
            eachPoll?.Invoke();
            // A node running alone (two-node cluster) leads only its own copy: not settled until both are one cluster again.
            var s = Running.Select(n => Status(n, 500)).FirstOrDefault(x => x?.Leader is not null && x.Alone is null);
            var now = s is not null && s.Nodes.Count == Count && s.Nodes.All(x => x.Online) && s.Resources.All(r => r.Nodes.Count <= 1) ? GroupNode(s, group) : null;
            if (now is null || now != holder) { holder = now; since = sw.Elapsed; }
            else if (sw.Elapsed - since > TimeSpan.FromSeconds(2)) return (s!, now);
            last = s ?? last;
            Thread.Sleep(100);
        }
        throw new TimeoutException($"the cluster did not settle (all nodes online, group {group} on one node) within {within.TotalSeconds:0} s; last status: " +
                                   $"{(last is null ? "none" : JsonSerializer.Serialize(last, Json))}\n{Diagnostics()}");
    }

    /// <summary>MAC address of a node's eth0, and of whoever answers for <paramref name="ip"/> in the client's ARP cache.</summary>
    public string NodeMac(string node) => Mac(Sh.Must("ip", "-n", NodeNs(node), "link", "show", "eth0"), "link/ether");

    public string? ClientArp(string ip)
    {
        var r = Sh.Run("ip", ["-n", BridgeNs, "neigh", "show", ip]);
        var mac = Mac(r.Out, "lladdr");
        return mac.Length == 0 ? null : mac;
    }

    private static string Mac(string text, string key)
    {
        var f = text.Split([' ', '\n'], StringSplitOptions.RemoveEmptyEntries);
        var i = Array.IndexOf(f, key);
        return i >= 0 && i + 1 < f.Length ? f[i + 1] : "";
    }

    public List<DoubleActivity> DoubleActivity()
    {
        string[] lines;
        lock (_sideLock) lines = File.ReadAllLines(SideChannel);
        return UniquenessChecker.Check(UniquenessChecker.Parse(lines, SideChannel));
    }

    public string Diagnostics()
    {
        var parts = new List<string>();
        lock (Journal) parts.Add("--- testbed journal\n" + string.Join("\n", Journal.TakeLast(40)));
        parts.Add("--- side channel\n" + string.Join("\n", File.Exists(SideChannel) ? File.ReadLines(SideChannel).TakeLast(30) : []));
        foreach (var n in Names)
            if (File.Exists(LogFile(n)))
                parts.Add($"--- {n}.log (last 80 lines)\n" + string.Join("\n", File.ReadLines(LogFile(n)).TakeLast(80)));
        return string.Join("\n", parts);
    }

    public void Dispose()
    {
        lock (_power) _disposing = true;
        // Wakes the threads reading the nodes' reset triggers (they see _disposing and end). Opened for reading and writing,
        // so the open never waits for a reader.
        foreach (var n in Names)
            try
            {
                if (!File.Exists(ResetTriggerFifo(n))) continue;
                using var wake = new FileStream(ResetTriggerFifo(n), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite, 1);
                wake.WriteByte((byte)'q');
            }
            catch (IOException) { }
        StopFencer();
        foreach (var ns in _created.AsEnumerable().Reverse()) KillAllIn(ns);
        foreach (var d in _daemons.Values) { d.WaitForExit(2000); d.Dispose(); }
        _daemons.Clear();
        foreach (var ns in _created.AsEnumerable().Reverse()) Sh.Try("ip", "netns", "del", ns);
        _created.Clear();
        if (Environment.GetEnvironmentVariable("VTB_KEEP") != "1")
        {
            try { if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
