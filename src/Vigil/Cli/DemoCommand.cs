using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Vigil.Host.Daemon;

namespace Vigil.Cli;

/// <summary>
/// <c>vigil demo</c>: a 3-node cluster on 127.0.0.1 as separate processes in a temporary folder; it
/// configures a group of two test resources, kills -9 the node running it, measures the failover
/// and cleans up. No root, no network namespaces, no terminal needed.
/// </summary>
public static class DemoCommand
{
    private const string Resources = """
        rsc_defaults resource-stickiness=100
        primitive web-ip vigil:Dummy op monitor interval=2s timeout=10s
        primitive web-server vigil:Dummy op monitor interval=2s timeout=10s
        group web web-ip web-server
        """;

    /// <summary>The demo's configuration: two native test resources in a group, and fencing as asked.</summary>
    private static string Configuration(string fencing, string dir, IReadOnlyCollection<string> names) => fencing switch
    {
        "off" when names.Count == 2 => $"""
            # Two nodes, no fencing, quorum ignored (as seed 001 configures it): the survivor carries on alone.
            property stonith-enabled=false no-quorum-policy=ignore
            {Resources}
            """,
        "agent" => $"""
            # Fencing through a fence agent (a demo one: it "powers off" a node by killing its daemon).
            property stonith-enabled=true
            primitive fence stonith:fence_vigildemo params pcmk_host_list="{string.Join(' ', names)}" piddir="{Path.Combine(dir, "pids")}" op monitor interval=30s
            {Resources}
            """,
        "lease" => $"""
            # No fencing hardware: lease self-fencing. A lost node counts as fenced 2 s after its last contact (the leader bounds when that was).
            property stonith-enabled=true stonith-watchdog-timeout=2s
            {Resources}
            """,
        _ => $"""
            # No fencing hardware here, and fencing off (as the seed how-tos do).
            property stonith-enabled=false
            {Resources}
            """,
    };

    /// <summary>The demo's fence agent: fence-agent stdin protocol; off/reboot kill the pid in PIDDIR/NODE.pid.</summary>
    private const string DemoFenceAgent = """
        #!/bin/sh
        while IFS='=' read -r k v; do
            case "$k" in action) action=$v ;; nodename) node=$v ;; piddir) piddir=$v ;; esac
        done
        case "$action" in
            off|reboot) [ -f "$piddir/$node.pid" ] && kill -9 "$(cat "$piddir/$node.pid")" 2>/dev/null; exit 0 ;;
            monitor|status|on) exit 0 ;;
            *) echo "Failed: unsupported action $action" >&2; exit 1 ;;
        esac
        """;

    public static Command Build()
    {
        var nodes = new Option<int>("--nodes") { Description = "Number of nodes (2 to 7; two run as seed 001 does, or with --fencing agent)", DefaultValueFactory = _ => 3 };
        var keep = new Option<bool>("--keep") { Description = "Keep the temporary folder (logs, state) for inspection" };
        var soak = new Option<int>("--soak") { Description = "Instead of killing a node, watch the running cluster for SECONDS and count leader changes, node losses and group moves (false positives)", DefaultValueFactory = _ => 0 };
        var rounds = new Option<int>("--rounds") { Description = "Kill and restart the group's node this many times (a benchmark); prints median, p95 and max", DefaultValueFactory = _ => 1 };
        var fencing = new Option<string>("--fencing") { Description = "off (default, like the seeds), agent (a demo fence agent), or lease (self-fencing, stonith-watchdog-timeout=2s)", DefaultValueFactory = _ => "off" };
        fencing.AcceptOnlyFromAmong("off", "agent", "lease");
        var stop = new Option<string>("--stop") { Description = "kill (default: kill -9 of the group's node, a failover) or clean (SIGTERM: the node moves its group away and leaves, a switchover)", DefaultValueFactory = _ => "kill" };
        stop.AcceptOnlyFromAmong("kill", "clean");
        var cmd = new Command("demo", "Start a local 3-node cluster, kill the node running a group and measure the failover; last line: failover_s=… (with --stop clean: switchover_s=…)");
        cmd.Options.Add(nodes);
        cmd.Options.Add(keep);
        cmd.Options.Add(rounds);
        cmd.Options.Add(soak);
        cmd.Options.Add(fencing);
        cmd.Options.Add(stop);
        cmd.SetAction(r => Run(r.GetValue(nodes), r.GetValue(keep), r.GetValue(rounds), r.GetValue(soak), r.GetValue(fencing)!, r.GetValue(stop) == "clean"));
        return cmd;
    }

    private static int FreePort() => Vigil.Host.Net.LoopbackPorts.Free();

    private static (string File, string[] Prefix) Self()
    {
        var exe = Environment.ProcessPath ?? "vigil";
        var host = Path.GetFileNameWithoutExtension(exe);
        // Run as `dotnet vigil.dll`: the first argument is the assembly's path.
        return host == "dotnet" ? (exe, [Environment.GetCommandLineArgs()[0]]) : (exe, []);
    }

    private static void Say(string text) => Console.WriteLine(text);

    /// <summary>SIGTERM, as a service manager stops a daemon: the node stops cleanly (its resources move away or stop first).</summary>
    private static void Terminate(Process p) => Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])?.WaitForExit(2000);

    /// <param name="clean">Stop the group's node with SIGTERM (a clean stop: its group moves first) instead of kill -9.</param>
    private static int Run(int count, bool keep, int rounds, int soakSeconds = 0, string fencing = "off", bool clean = false)
    {
        if (rounds is < 1 or > 1000)
        {
            Console.Error.WriteLine("vigil: --rounds must be between 1 and 1000");
            return ExitCodes.Usage;
        }
        if (count is < 2 or > 7)
        {
            Console.Error.WriteLine("vigil: --nodes must be between 2 and 7");
            return ExitCodes.Usage;
        }
        if (count == 2 && fencing == "lease")
        {
            Console.Error.WriteLine("vigil: lease self-fencing needs a majority to wait for the lease; two nodes without a witness have none (use --fencing agent or off)");
            return ExitCodes.Usage;
        }
        var dir = Path.Combine(Path.GetTempPath(), $"vigil-demo-{Environment.ProcessId}-{DateTime.UtcNow:HHmmss}");
        Directory.CreateDirectory(dir);
        var names = Enumerable.Range(1, count).Select(i => $"node{i}").ToList();
        var members = names.ToDictionary(n => n, _ => new MemberAddress($"127.0.0.1:{FreePort()}", $"127.0.0.1:{FreePort()}"));
        var procs = new Dictionary<string, Process>();
        var (exe, prefix) = Self();
        try
        {
            Say($"== Starting {count} nodes on 127.0.0.1 (state and logs in {dir}); node traffic is mutual TLS with a fresh cluster CA");
            Vigil.Host.Security.ClusterCredentials.CreateCluster(Path.Combine(dir, "tls"), names, "demo");
            var targets = new Dictionary<string, ApiTarget>();
            var agents = Path.Combine(dir, "fence-agents");
            if (fencing == "agent")
            {
                Directory.CreateDirectory(agents);
                Directory.CreateDirectory(Path.Combine(dir, "pids"));
                var agent = Path.Combine(agents, "fence_vigildemo");
                File.WriteAllText(agent, DemoFenceAgent + "\n");
                File.SetUnixFileMode(agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            }
            foreach (var n in names)
            {
                var settingsFile = Path.Combine(dir, $"{n}.json");
                new NodeSettings
                {
                    Name = n, DataDirectory = Path.Combine(dir, n), Members = members, TlsDirectory = Path.Combine(dir, "tls"),
                    RuntimeDirectory = Path.Combine(dir, n, "run"),
                    FenceAgentDirectory = fencing == "agent" ? agents : null,
                    // All nodes share this host: a self-fencing node must not reboot it, only exit.
                    SelfFenceAction = "exit",
                }.Save(settingsFile);
                targets[n] = new ApiTarget(members[n].Api, NodeSettings.Load(settingsFile));
                var proc = StartNode(exe, prefix, dir, n);
                procs[n] = proc;
                Say($"   {n}: pid {proc.Id}, raft {members[n].Raft}, api {members[n].Api}");
            }

            var leader = WaitFor(names, targets, TimeSpan.FromSeconds(60), s => s.Leader is not null && s.Nodes.Count(x => x.Online) == count ? s : null);
            if (leader is null) return Fail("the cluster did not form within 60 s", dir, procs);
            Say($"== Cluster formed: leader {leader.Leader}, term {leader.Term}");

            var crm = Path.Combine(dir, "demo.crm");
            var configuration = Configuration(fencing, dir, names);
            File.WriteAllText(crm, configuration);
            Say("== Configuring (crm syntax):");
            foreach (var line in configuration.Split('\n').Where(l => l.Trim().Length > 0 && !l.StartsWith('#'))) Say("   " + line.Trim());
            if (!Configure(targets[leader.Leader!], crm)) return Fail("the configuration was not accepted", dir, procs);

            var running = WaitFor(names, targets, TimeSpan.FromSeconds(60), s => GroupNode(s) is not null ? s : null);
            if (running is null) return Fail("the group did not start within 60 s", dir, procs);
            Say("");
            Console.Write(ClusterCommands.Render(running));
            if (soakSeconds > 0) return Soak(names, targets, running, soakSeconds);
            var failovers = new List<double>();
            var detections = new List<double>();
            var decisions = new List<double>();
            var fencings = new List<double>();
            for (int round = 1; round <= rounds; round++)
            {
                var victim = GroupNode(running)!;
                var fencedBefore = running.FencingHistory.Count;
                Say("");
                var leaderNote = victim == running.Leader ? " and is the leader" : "";
                Say(clean
                    ? $"== {(rounds > 1 ? $"Round {round}/{rounds}: s" : "S")}topping {victim} cleanly (SIGTERM to pid {procs[victim].Id}), which runs the group{leaderNote}"
                    : $"== {(rounds > 1 ? $"Round {round}/{rounds}: k" : "K")}illing {victim} (kill -9 pid {procs[victim].Id}), which runs the group{leaderNote}");
                var sw = Stopwatch.StartNew();
                var stoppedAt = DateTimeOffset.UtcNow;
                if (clean) Terminate(procs[victim]);
                else
                {
                    procs[victim].Kill();
                    procs[victim].WaitForExit(5000);
                }
                var survivors = names.Where(n => n != victim).ToList();
                StatusResponse? after = null;
                string? newNode = null;
                double? detected = null, fenced = null;
                while (sw.Elapsed < TimeSpan.FromSeconds(60))
                {
                    foreach (var n in survivors)
                    {
                        var s = ClusterCommands.FetchStatus(targets[n], TimeSpan.FromMilliseconds(500));
                        if (s is null) continue;
                        if (detected is null && s.Nodes.Any(x => x.Name == victim && !x.Online)) detected = sw.Elapsed.TotalSeconds;
                        if (fenced is null && fencing != "off" && s.FencingHistory.Count > fencedBefore) fenced = sw.Elapsed.TotalSeconds;
                        var node = GroupNode(s);
                        if (node is not null && node != victim) { after = s; newNode = node; break; }
                    }
                    if (after is not null) break;
                    Thread.Sleep(5);
                }
                var failover = sw.Elapsed.TotalSeconds;
                if (after is null) return Fail("the group did not come back on a survivor within 60 s", dir, procs);
                failovers.Add(failover);
                if (!clean && detected is { } d) detections.Add(d);
                if (fenced is { } f) fencings.Add(f);
                var decided = FirstDispatch(dir, survivors, newNode!, stoppedAt);
                if (decided is { } dc) decisions.Add(dc);
                if (clean)
                {
                    // The node leaves once the cluster recorded it as down: it must exit by itself, with 0, and never be fenced.
                    if (!procs[victim].WaitForExit(30_000)) return Fail($"{victim} did not exit within 30 s of SIGTERM", dir, procs);
                    var exited = sw.Elapsed.TotalSeconds;
                    if (procs[victim].ExitCode != 0) return Fail($"{victim} exited with {procs[victim].ExitCode} after SIGTERM", dir, procs);
                    Thread.Sleep(1000);
                    var check = survivors.Select(n => ClusterCommands.FetchStatus(targets[n], TimeSpan.FromSeconds(2))).FirstOrDefault(x => x is not null);
                    if (check is null) return Fail("no survivor answered after the clean stop", dir, procs);
                    if (check.FencingHistory.Count > fencedBefore || check.Nodes.Any(x => x.Name == victim && x.Unclean))
                        return Fail($"{victim} stopped cleanly but was treated as lost (fenced or unclean)", dir, procs);
                    detections.Add(exited);
                    Say($"== The group runs on {newNode}, {failover:0.000} s after SIGTERM to {victim}; {victim} exited (0) after {exited:0.000} s, not fenced");
                }
                else
                    Say($"== The group runs on {newNode} again, {failover:0.000} s after {victim} died (marked offline after {detected ?? failover:0.000} s" +
                        (decided is { } first ? $", first start sent after {first:0.000} s" : "") +
                        (fencing == "off" ? ")" : $", fenced after {fenced ?? failover:0.000} s)"));
                if (rounds == 1)
                {
                    Say("");
                    Console.Write(ClusterCommands.Render(after));
                    break;
                }
                // Bring the victim back and let it rejoin before the next round.
                procs[victim] = StartNode(exe, prefix, dir, victim);
                running = WaitStable(names, targets, TimeSpan.FromSeconds(60))
                    ?? throw new TimeoutException($"{victim} did not rejoin, or the group did not settle, within 60 s");
            }
            Say("");
            if (rounds > 1)
            {
                Say($"rounds={failovers.Count} {(clean ? "switchover" : "failover")} median={Percentile(failovers, 50):0.000}s p95={Percentile(failovers, 95):0.000}s max={failovers.Max():0.000}s; " +
                    (clean ? $"exit median={Percentile(detections, 50):0.000}s" : $"detection median={Percentile(detections, 50):0.000}s p95={Percentile(detections, 95):0.000}s max={Max(detections):0.000}s")
                    + $"; decision (first start sent) median={Percentile(decisions, 50):0.000}s p95={Percentile(decisions, 95):0.000}s max={Max(decisions):0.000}s ({decisions.Count} of {failovers.Count} rounds)"
                    + (fencing == "off" || clean ? "" : $"; fenced median={Percentile(fencings, 50):0.000}s ({fencing})"));
                Say(Footprint(procs));
            }
            Say($"{(clean ? "switchover_s" : "failover_s")}={Percentile(failovers, 50).ToString("0.000", CultureInfo.InvariantCulture)}");
            return ExitCodes.Ok;
        }
        finally
        {
            // All at once: each node asks to shut down, so everything stops (nowhere is left to move it) and they leave together.
            foreach (var p in procs.Values)
            {
                try { if (!p.HasExited) Terminate(p); }
                catch (InvalidOperationException) { }
            }
            var cleanup = Stopwatch.StartNew();
            foreach (var p in procs.Values)
            {
                try { if (!p.WaitForExit((int)Math.Max(0, 15_000 - cleanup.ElapsedMilliseconds))) p.Kill(); }
                catch (InvalidOperationException) { }
            }
            if (!keep) { try { Directory.Delete(dir, recursive: true); } catch (IOException) { } }
        }
    }

    /// <summary>Watches a healthy cluster: every leader change, node loss or group move is a false positive.</summary>
    private static int Soak(List<string> names, Dictionary<string, ApiTarget> targets, StatusResponse start, int seconds)
    {
        Say($"== Watching the cluster for {seconds} s: nothing fails, so nothing should move");
        var sw = Stopwatch.StartNew();
        string? leader = start.Leader, group = GroupNode(start);
        int leaderChanges = 0, nodeLosses = 0, groupMoves = 0, polls = 0, unanswered = 0;
        var offline = new HashSet<string>();
        while (sw.Elapsed < TimeSpan.FromSeconds(seconds))
        {
            var s = names.Select(n => ClusterCommands.FetchStatus(targets[n], TimeSpan.FromSeconds(2))).FirstOrDefault(x => x is not null);
            polls++;
            if (s is null) { unanswered++; Thread.Sleep(500); continue; }
            if (s.Leader is not null && s.Leader != leader) { leaderChanges++; Say($"   {sw.Elapsed.TotalSeconds:0}s: leader {leader} -> {s.Leader}"); leader = s.Leader; }
            foreach (var n in s.Nodes)
            {
                if (!n.Online && offline.Add(n.Name)) { nodeLosses++; Say($"   {sw.Elapsed.TotalSeconds:0}s: {n.Name} marked offline"); }
                if (n.Online) offline.Remove(n.Name);
            }
            var g = GroupNode(s);
            if (g is not null && g != group) { groupMoves++; Say($"   {sw.Elapsed.TotalSeconds:0}s: group {group} -> {g}"); group = g; }
            Thread.Sleep(500);
        }
        Say($"soak_s={seconds} polls={polls} unanswered={unanswered} leader_changes={leaderChanges} node_losses={nodeLosses} group_moves={groupMoves}");
        return leaderChanges + nodeLosses + groupMoves == 0 ? ExitCodes.Ok : ExitCodes.Errors;
    }

    private static Process StartNode(string exe, string[] prefix, string dir, string n)
    {
        var psi = new ProcessStartInfo(exe) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var p in prefix) psi.ArgumentList.Add(p);
        psi.ArgumentList.Add("daemon");
        psi.ArgumentList.Add("--settings");
        psi.ArgumentList.Add(Path.Combine(dir, $"{n}.json"));
        var proc = Process.Start(psi)!;
        proc.StandardInput.Close();
        if (Directory.Exists(Path.Combine(dir, "pids"))) File.WriteAllText(Path.Combine(dir, "pids", $"{n}.pid"), proc.Id.ToString(CultureInfo.InvariantCulture));
        var log = new StreamWriter(Path.Combine(dir, $"{n}.log"), append: true) { AutoFlush = true };
        proc.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        proc.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); };
        proc.BeginOutputReadLine();
        proc.BeginErrorReadLine();
        return proc;
    }

    private static double Max(List<double> values) => values.Count == 0 ? double.NaN : values.Max();

    /// <summary>
    /// Seconds from <paramref name="since"/> to the first start the DC sent to <paramref name="node"/> after it: the DC's
    /// decision, read from its log line ("HH:mm:ss.fff NAME: dispatch start …", UTC). Null when no survivor's log has one.
    /// </summary>
    private static double? FirstDispatch(string dir, IEnumerable<string> survivors, string node, DateTimeOffset since)
    {
        double? first = null;
        foreach (var n in survivors)
        {
            var path = Path.Combine(dir, $"{n}.log");
            if (!File.Exists(path)) continue;
            using var reader = new StreamReader(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete));
            while (reader.ReadLine() is { } line)
            {
                if (!line.Contains(": dispatch start ", StringComparison.Ordinal) || !line.Contains($" on {node} ", StringComparison.Ordinal)) continue;
                if (line.Length < 12 || !TimeOnly.TryParseExact(line[..12], "HH:mm:ss.fff", CultureInfo.InvariantCulture, DateTimeStyles.None, out var at)) continue;
                // Time of day only: the difference modulo a day, and only lines from the half day after the kill count.
                var seconds = (at - TimeOnly.FromTimeSpan(since.UtcDateTime.TimeOfDay)).TotalSeconds;
                if (seconds > 12 * 3600) continue;
                if (first is null || seconds < first) first = seconds;
            }
        }
        return first;
    }

    private static double Percentile(List<double> values, int p)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Count - 1)];
    }

    /// <summary>
    /// Idle footprint of the nodes: resident memory and CPU over 30 s, from /proc, after 30 s of quiet
    /// (the last round's victim has just restarted, and a fresh runtime compiles its hot code for a while).
    /// </summary>
    private static string Footprint(Dictionary<string, Process> procs)
    {
        static (long RssKb, long Ticks) Read(int pid)
        {
            long rss = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (rss, long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture));
        }
        try
        {
            Thread.Sleep(30_000);
            var before = procs.ToDictionary(p => p.Key, p => Read(p.Value.Id));
            var sw = Stopwatch.StartNew();
            Thread.Sleep(30_000);
            var after = procs.ToDictionary(p => p.Key, p => Read(p.Value.Id));
            var secs = sw.Elapsed.TotalSeconds;
            var parts = procs.Keys.Order().Select(n =>
                $"{n} rss={after[n].RssKb / 1024.0:0}MB cpu={(after[n].Ticks - before[n].Ticks) / 100.0 / secs * 100:0.0}%");
            return "idle footprint over 30 s (after 30 s of quiet): " + string.Join(", ", parts);
        }
        catch (IOException e) { return $"idle footprint unavailable: {e.Message}"; }
    }

    /// <summary>The node where every member of the group is started, if there is one.</summary>
    private static string? GroupNode(StatusResponse s)
    {
        var members = s.Resources.Where(r => r.Group == "web").ToList();
        if (members.Count == 0 || members.Any(r => r.Role != "Started" || r.Nodes.Count != 1)) return null;
        var node = members[0].Nodes[0];
        return members.All(r => r.Nodes[0] == node) ? node : null;
    }

    /// <summary>All nodes online and the group on one node, unchanged over 3 s of polling (recovery finished).</summary>
    private static StatusResponse? WaitStable(List<string> names, Dictionary<string, ApiTarget> targets, TimeSpan within)
    {
        var sw = Stopwatch.StartNew();
        string? node = null;
        var since = sw.Elapsed;
        while (sw.Elapsed < within)
        {
            var s = names.Select(n => ClusterCommands.FetchStatus(targets[n], TimeSpan.FromMilliseconds(500))).FirstOrDefault(x => x?.Leader is not null);
            var now = s is not null && s.Nodes.All(x => x.Online) && s.Resources.All(r => r.Nodes.Count <= 1) ? GroupNode(s) : null;
            if (now is null || now != node) { node = now; since = sw.Elapsed; }
            else if (sw.Elapsed - since > TimeSpan.FromSeconds(3)) return s;
            Thread.Sleep(100);
        }
        return null;
    }

    private static StatusResponse? WaitFor(List<string> names, Dictionary<string, ApiTarget> targets, TimeSpan within, Func<StatusResponse, StatusResponse?> done)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < within)
        {
            foreach (var n in names)
            {
                var s = ClusterCommands.FetchStatus(targets[n], TimeSpan.FromMilliseconds(500));
                if (s is not null && done(s) is { } r) return r;
            }
            Thread.Sleep(50);
        }
        return null;
    }

    private static bool Configure(ApiTarget api, string file)
    {
        var text = File.ReadAllText(file);
        var parsed = Vigil.Config.ConfigLoader.Load(text, file, Vigil.Config.ConfigFormat.Crm);
        if (parsed.Value is null) return false;
        using var http = api.Client(TimeSpan.FromSeconds(30));
        var xml = Vigil.Config.Xml.CibXmlWriter.Write(parsed.Value, includeStatus: false);
        using var resp = http.PostAsJsonAsync(api.Url("/v1/configure"), new ConfigureRequest(xml, "xml", "vigil demo"), ClusterCommands.Json).GetAwaiter().GetResult();
        return resp.IsSuccessStatusCode;
    }

    private static int Fail(string why, string dir, Dictionary<string, Process> procs)
    {
        Console.Error.WriteLine($"vigil demo: {why}");
        foreach (var n in procs.Keys)
        {
            var log = Path.Combine(dir, $"{n}.log");
            if (!File.Exists(log)) continue;
            Console.Error.WriteLine($"--- last lines of {n}.log");
            foreach (var l in File.ReadLines(log).TakeLast(15)) Console.Error.WriteLine(l);
        }
        return ExitCodes.Errors;
    }
}
