using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Vigil.Host.Daemon;

namespace Vigil.Tests;

/// <summary>N real 'vigil daemon' processes on 127.0.0.1 in a temporary folder; killed and removed on dispose.</summary>
internal sealed class LocalCluster : IDisposable
{
    public string Dir { get; } = Path.Combine(Path.GetTempPath(), $"vigil-test-{Guid.NewGuid():N}");
    public Dictionary<string, MemberAddress> Members { get; } = new();
    public Dictionary<string, Process> Processes { get; } = new();

    /// <param name="fenceAgent">Install the test fence agent (agents/fence_vigiltest) in a private folder the nodes use for stonith agents.</param>
    /// <param name="witness">Add a witness member "w" (votes, runs no resources).</param>
    /// <param name="apiGroup">The group allowed on the nodes' local API sockets (default: the settings' default, 'vigil').</param>
    /// <param name="watchdog">Each node feeds a plain file as its watchdog device (<see cref="WatchdogFile"/>): what it
    /// writes there is what a real device would get. Their self-fence then "reboots" (selfFenceAction reboot) through a
    /// plain file as the reset trigger (<see cref="ResetTriggerFile"/>), then exits; without it they only exit. The real
    /// trigger would reset this host: no test node ever writes to it.</param>
    /// <param name="leaseRounds">Each node's settings ask for lease rounds, or not (null: the settings' default, NodeSettings.LeaseRounds).</param>
    public LocalCluster(int nodes, bool fenceAgent = false, bool witness = false, string? apiGroup = null, bool watchdog = false, bool? leaseRounds = null)
    {
        Directory.CreateDirectory(Dir);
        for (int i = 1; i <= nodes; i++) Members[$"n{i}"] = new MemberAddress($"127.0.0.1:{FreePort()}", $"127.0.0.1:{FreePort()}");
        if (witness) Members["w"] = new MemberAddress($"127.0.0.1:{FreePort()}", $"127.0.0.1:{FreePort()}") { Witness = true };
        Vigil.Host.Security.ClusterCredentials.CreateCluster(TlsDir, Members.Keys, "test");
        if (fenceAgent)
        {
            Directory.CreateDirectory(FenceAgentDir);
            Directory.CreateDirectory(PidDir);
            var agent = Path.Combine(FenceAgentDir, "fence_vigiltest");
            File.Copy(Path.Combine(AppContext.BaseDirectory, "agents", "fence_vigiltest"), agent);
            File.SetUnixFileMode(agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute);
        }
        foreach (var n in Members.Keys)
        {
            if (watchdog) File.WriteAllBytes(WatchdogFile(n), []);
            File.WriteAllBytes(ResetTriggerFile(n), []);
            var settings = new NodeSettings
            {
                Name = n, DataDirectory = Path.Combine(Dir, n), Members = Members, TlsDirectory = TlsDir, RuntimeDirectory = Path.Combine(Dir, n, "run"),
                FenceAgentDirectory = fenceAgent ? FenceAgentDir : null,
                ApiGroup = apiGroup ?? "vigil",
                WatchdogDevice = watchdog ? WatchdogFile(n) : null,
                SelfFenceAction = watchdog ? "reboot" : "exit",
                ResetTrigger = ResetTriggerFile(n),
            };
            if (leaseRounds is { } rounds) settings.LeaseRounds = rounds;
            settings.Save(SettingsFile(n));
        }
    }

    /// <summary>Where the test fence agent lives; it kills the daemon whose pid is in <see cref="PidDir"/>/NODE.pid and logs to <see cref="FenceLog"/>.</summary>
    public string FenceAgentDir => Path.Combine(Dir, "fence-agents");
    public string PidDir => Path.Combine(Dir, "pids");
    public string FenceLog => Path.Combine(Dir, "fence.log");

    public string SettingsFile(string node) => Path.Combine(Dir, $"{node}.json");
    public string WatchdogFile(string node) => Path.Combine(Dir, $"{node}.watchdog");
    public string ResetTriggerFile(string node) => Path.Combine(Dir, $"{node}.sysrq");
    /// <summary>The node's local API socket (its runtime folder's api.sock).</summary>
    public string Socket(string node) => Path.Combine(Dir, node, "run", "api.sock");
    public string TlsDir => Path.Combine(Dir, "tls");
    public Vigil.Cli.ApiTarget Target(string node) => new(Members[node].Api, NodeSettings.Load(SettingsFile(node)));

    private static int FreePort() => Vigil.Host.Net.LoopbackPorts.Free();

    public void Start(string node)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "vigil.dll"));
        psi.ArgumentList.Add("daemon");
        psi.ArgumentList.Add("--settings");
        psi.ArgumentList.Add(SettingsFile(node));
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var log = new StreamWriter(Path.Combine(Dir, $"{node}.log"), append: true) { AutoFlush = true };
        // Both streams' ends (a null line each) mark the log complete: see OutputDrained.
        var drained = _outputDrained[p] = new CountdownEvent(2);
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); else drained.Signal(); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (log) log.WriteLine(e.Data); else drained.Signal(); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        Processes[node] = p;
        if (Directory.Exists(PidDir)) File.WriteAllText(Path.Combine(PidDir, $"{node}.pid"), p.Id.ToString(CultureInfo.InvariantCulture));
    }

    public void StartAll()
    {
        foreach (var n in Members.Keys) Start(n);
    }

    public void Kill(string node)
    {
        if (Processes.Remove(node, out var p)) { p.Kill(); p.WaitForExit(10_000); }
    }

    /// <summary>
    /// Stops the node's daemon with SIGTERM, as a service manager does: it shuts down cleanly (what it runs moves away
    /// or stops first). With <paramref name="force"/>, a second SIGTERM makes it leave at once. Returns the exit code,
    /// or null when it did not exit within 15 s (it is then killed).
    /// </summary>
    public int? Stop(string node, bool force = false)
    {
        if (!Processes.Remove(node, out var p)) return null;
        using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)])) kill?.WaitForExit(5000);
        if (force)
        {
            // Signals of one kind do not queue: the second must come after the first was taken.
            Thread.Sleep(300);
            using var again = Process.Start("kill", ["-TERM", p.Id.ToString(CultureInfo.InvariantCulture)]);
            again?.WaitForExit(5000);
        }
        if (p.WaitForExit(15_000)) { OutputDrained(p); return p.ExitCode; }
        p.Kill();
        p.WaitForExit(5000);
        return null;
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<Process, CountdownEvent> _outputDrained = new();

    /// <summary>
    /// Waits (at most 5 s) until the daemon's last lines are in its log file. WaitForExit with a timeout returns at the
    /// exit, before the asynchronous readers have written the rest of the output: a test that then read the log could miss
    /// the daemon's last line (seen once in CI: "shut down cleanly in" missing from an exit-0 stop).
    /// </summary>
    private void OutputDrained(Process p)
    {
        if (_outputDrained.TryRemove(p, out var drained)) drained.Wait(TimeSpan.FromSeconds(5));
    }

    public void Signal(string node, string signal)
    {
        using var k = Process.Start("kill", [$"-{signal}", Processes[node].Id.ToString(CultureInfo.InvariantCulture)]);
        k?.WaitForExit(5000);
    }

    public StatusResponse? Status(string node)
    {
        var target = Target(node);
        using var http = target.Client(TimeSpan.FromSeconds(2));
        try
        {
            var text = http.GetStringAsync(target.Url("/v1/status")).GetAwaiter().GetResult();
            return JsonSerializer.Deserialize<StatusResponse>(text, new JsonSerializerOptions(JsonSerializerDefaults.Web));
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException) { return null; }
    }

    /// <summary>Polls the running nodes until one status satisfies the condition (bounded).</summary>
    public StatusResponse WaitFor(Func<StatusResponse, bool> condition, TimeSpan within, string what)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < within)
        {
            foreach (var n in Processes.Keys.ToList())
                if (Status(n) is { } s && condition(s)) return s;
            Thread.Sleep(50);
        }
        throw new TimeoutException($"{what} did not happen within {within}; logs in {Dir}:\n{Logs()}");
    }

    public string Logs() => string.Join("\n", Members.Keys.Select(n => Path.Combine(Dir, $"{n}.log")).Where(File.Exists)
        .Select(f => $"--- {Path.GetFileName(f)}\n{string.Join("\n", File.ReadLines(f).TakeLast(20))}"));

    public void Dispose()
    {
        foreach (var n in Processes.Keys.ToList()) { try { Signal(n, "CONT"); } catch (InvalidOperationException) { } }
        foreach (var n in Processes.Keys.ToList()) Kill(n);
        try { Directory.Delete(Dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
