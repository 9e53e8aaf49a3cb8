using System.Globalization;

namespace Vigil.Host.Agents;

/// <summary>
/// The real <see cref="IAgentRunner"/>: OCF, LSB, systemd and fence agents as processes (see
/// <see cref="ProcessRunner"/>), vigil: agents in-process. Also the <see cref="IAgentCatalog"/> of
/// what is installed on this host.
/// </summary>
public sealed class ProcessAgentRunner : IAgentRunner, IAgentCatalog
{
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(30);
    private readonly Lazy<ProcessRunner> _processRunner;
    private readonly NativeAgents _native;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, AgentMetadata> _fenceMetadata = new(StringComparer.Ordinal);
    private int _rsctmpReady;

    public ProcessAgentRunner(ExecutorPaths paths, ProcessRunner? processes = null)
    {
        Paths = paths;
        // Created on first use: listing agents or running built-in ones needs no spool directory.
        _processRunner = new Lazy<ProcessRunner>(() => processes ?? new ProcessRunner());
        _native = new NativeAgents(paths.NativeStateDir);
    }

    public ExecutorPaths Paths { get; }

    private ProcessRunner Processes => _processRunner.Value;

    /// <summary>Kills every agent process this runner started that still runs.</summary>
    public void KillAll()
    {
        if (_processRunner.IsValueCreated) Processes.KillAll();
    }

    /// <summary>Run every process of this runner inside a network namespace (tests; per-namespace nodes).</summary>
    public string? NetworkNamespace { get; init; }

    /// <summary>True when systemd is PID 1 (sd_booted: /run/systemd/system exists).</summary>
    public static bool SystemdRunning => Directory.Exists("/run/systemd/system");

    public async Task<AgentResult> RunAsync(AgentAction action, CancellationToken cancellationToken = default)
    {
        var agent = action.Agent;
        if (agent.Class == AgentClass.Service)
            agent = agent with { Class = File.Exists(LsbPath(agent.Type)) ? AgentClass.Lsb : AgentClass.Systemd };
        action = action with { Agent = agent };
        return agent.Class switch
        {
            AgentClass.Vigil => await _native.RunAsync(action, cancellationToken).ConfigureAwait(false),
            AgentClass.Ocf => await RunOcfAsync(action, cancellationToken).ConfigureAwait(false),
            AgentClass.Lsb => await RunLsbAsync(action, cancellationToken).ConfigureAwait(false),
            AgentClass.Systemd => await RunSystemdAsync(action, cancellationToken).ConfigureAwait(false),
            _ => await RunFenceAsync(action, cancellationToken).ConfigureAwait(false),
        };
    }

    // ---- OCF ----

    public string OcfPath(AgentId a) => Path.Combine(Paths.OcfRoot, "resource.d", a.Provider ?? "", a.Type);

    private async Task<AgentResult> RunOcfAsync(AgentAction a, CancellationToken ct)
    {
        var path = OcfPath(a.Agent);
        if (Missing(a.Agent) is { } missing) return NotInstalled(missing);
        EnsureResourceTmpDir();
        var spec = new ProcessSpec(path, [a.Action], OcfEnvironment.Build(a, Paths), a.Timeout) { NetworkNamespace = NetworkNamespace };
        var outcome = await Processes.RunAsync(spec, ct).ConfigureAwait(false);
        return FromProcess(a, outcome, rc => rc);
    }

    /// <summary>HA_RSCTMP must exist (systemd-tmpfiles creates it on systemd hosts; without it Dummy start fails).</summary>
    private void EnsureResourceTmpDir()
    {
        if (Interlocked.Exchange(ref _rsctmpReady, 1) == 1) return;
        try
        {
            if (!Directory.Exists(Paths.ResourceTmpDir))
            {
                Directory.CreateDirectory(Paths.ResourceTmpDir);
                File.SetUnixFileMode(Paths.ResourceTmpDir, (UnixFileMode)Convert.ToInt32("1755", 8));
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _rsctmpReady = 0; // the agent will report the problem itself
        }
    }

    // ---- LSB ----

    public string LsbPath(string type) => type.StartsWith('/') ? type : Path.Combine(Paths.InitDir, type);

    private async Task<AgentResult> RunLsbAsync(AgentAction a, CancellationToken ct)
    {
        var path = LsbPath(a.Agent.Type);
        if (Missing(a.Agent) is { } missing) return NotInstalled(missing);
        if (a.Action == "meta-data")
        {
            var script = await File.ReadAllTextAsync(path, ct).ConfigureAwait(false);
            return new AgentResult(OcfCode.Success, ExecStatus.Done) { Stdout = LsbMapping.MetadataXml(a.Agent.Type, script) };
        }
        if (a.Action is "validate-all") return new AgentResult(OcfCode.Success, ExecStatus.Done);
        var spec = new ProcessSpec(path, [LsbMapping.ScriptAction(a.Action)], OcfEnvironment.Base(Paths), a.Timeout) { NetworkNamespace = NetworkNamespace };
        var outcome = await Processes.RunAsync(spec, ct).ConfigureAwait(false);
        return FromProcess(a, outcome, rc => LsbMapping.ToOcf(a.Action, rc));
    }

    // ---- systemd ----

    private async Task<AgentResult> RunSystemdAsync(AgentAction a, CancellationToken ct)
    {
        if (Missing(a.Agent) is { } missing) return NotInstalled(missing);
        var unit = a.Agent.Type.Contains('.', StringComparison.Ordinal) ? a.Agent.Type : a.Agent.Type + ".service";
        if (a.Action == "meta-data")
        {
            var xml = $"<?xml version=\"1.0\"?>\n<resource-agent name=\"{System.Security.SecurityElement.Escape(unit)}\" version=\"0.1\">\n  <version>1.1</version>\n" +
                $"  <longdesc lang=\"en\">systemd unit {System.Security.SecurityElement.Escape(unit)}</longdesc>\n  <shortdesc lang=\"en\">systemd unit</shortdesc>\n  <parameters/>\n" +
                "  <actions>\n    <action name=\"start\" timeout=\"100s\"/>\n    <action name=\"stop\" timeout=\"100s\"/>\n    <action name=\"monitor\" timeout=\"100s\" interval=\"60s\"/>\n    <action name=\"meta-data\" timeout=\"5s\"/>\n  </actions>\n</resource-agent>\n";
            return new AgentResult(OcfCode.Success, ExecStatus.Done) { Stdout = xml };
        }
        string[] args = a.Action switch
        {
            "start" => ["start", unit],
            "stop" => ["stop", unit],
            "monitor" or "status" => ["is-active", "--quiet", unit],
            "reload" => ["reload", unit],
            "restart" => ["restart", unit],
            _ => [],
        };
        if (args.Length == 0) return new AgentResult(OcfCode.ErrUnimplemented, ExecStatus.Done) { ExitReason = $"systemd units have no action '{a.Action}'" };
        var spec = new ProcessSpec("/bin/systemctl", args, OcfEnvironment.Base(Paths), a.Timeout) { NetworkNamespace = NetworkNamespace };
        var outcome = await Processes.RunAsync(spec, ct).ConfigureAwait(false);
        return FromProcess(a, outcome, rc => a.Action is "monitor" or "status" ? (rc == 0 ? OcfCode.Success : OcfCode.NotRunning) : (rc == 0 ? 0 : OcfCode.ErrGeneric));
    }

    // ---- fence agents ----

    public string FencePath(string type) => Path.Combine(Paths.FenceAgentDir, type);

    private async Task<AgentResult> RunFenceAsync(AgentAction a, CancellationToken ct)
    {
        if (Missing(a.Agent) is { } missing) return NotInstalled(missing);
        var action = a.Action == "meta-data" ? "metadata" : a.Action;
        var device = new FenceDevice(a.ResourceId, a.Agent.Type) { Parameters = a.Parameters };
        var target = a.Meta.GetValueOrDefault("stonith_target") ?? a.Meta.GetValueOrDefault("target");
        AgentMetadata? md = null;
        if (target is not null && action is not "metadata")
        {
            // The host argument (port/plug/none) depends on what the agent advertises; ask once per agent.
            if (!_fenceMetadata.TryGetValue(a.Agent.Type, out md))
            {
                md = (await MetadataAsync(a.Agent, ct).ConfigureAwait(false)).Metadata;
                if (md is not null) _fenceMetadata[a.Agent.Type] = md;
            }
        }
        var lines = FenceArgs.Build(device, action, target, md);
        var spec = new ProcessSpec(FencePath(a.Agent.Type), [], OcfEnvironment.Base(Paths), a.Timeout)
        {
            Stdin = FenceArgs.StdinText(lines),
            NetworkNamespace = NetworkNamespace,
        };
        var outcome = await Processes.RunAsync(spec, ct).ConfigureAwait(false);
        // Agent output may echo credentials (verbose mode, error messages): scrub before anything keeps it.
        outcome = outcome with { Stdout = FenceArgs.Scrub(outcome.Stdout, a.Parameters), Stderr = FenceArgs.Scrub(outcome.Stderr, a.Parameters) };
        var result = FromProcess(a with { Action = action }, outcome, rc => FenceArgs.ToOcf(action, rc));
        if (result.Status == ExecStatus.Done && FenceArgs.Outcome(action, result.RawExitCode ?? 1) == FenceOutcome.Failed && result.ExitReason is null)
            result = result with { ExitReason = FenceArgs.ReasonFromOutput(result.Stderr) ?? LastLine(result.Stdout) };
        return result;
    }

    // ---- common ----

    private static AgentResult FromProcess(AgentAction a, ProcessOutcome o, Func<int, int> map)
    {
        if (o.StartError is not null)
            return new AgentResult(OcfCode.ErrInstalled, ExecStatus.NotInstalled) { ExitReason = o.StartError, Duration = o.Duration };
        if (o.TimedOut)
        {
            return new AgentResult(OcfCode.ErrGeneric, ExecStatus.Timeout)
            {
                ExitReason = $"{a.Action} timed out after {((long)a.Timeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)} ms; its process group {o.Pid} was killed",
                Stdout = o.Stdout, Stderr = o.Stderr, OutputTruncated = o.Truncated, Duration = o.Duration,
            };
        }
        if (o.Cancelled)
            return new AgentResult(OcfCode.ErrGeneric, ExecStatus.Cancelled) { ExitReason = "cancelled", Stdout = o.Stdout, Stderr = o.Stderr, Duration = o.Duration };
        int raw = o.ExitCode ?? 1;
        int rc = map(raw);
        return new AgentResult(rc, ExecStatus.Done)
        {
            RawExitCode = raw,
            ExitReason = rc == OcfCode.Success ? null : ExitReason.FromStderr(o.Stderr),
            Stdout = o.Stdout,
            Stderr = o.Stderr,
            OutputTruncated = o.Truncated,
            Duration = o.Duration,
        };
    }

    private static AgentResult NotInstalled(string why) => new(OcfCode.ErrInstalled, ExecStatus.NotInstalled) { ExitReason = why };

    private static string? LastLine(string text)
    {
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return lines.Length == 0 ? null : lines[^1];
    }

    // ---- catalog ----

    public IReadOnlyList<AgentId> List()
    {
        var list = new List<AgentId>();
        var rd = Path.Combine(Paths.OcfRoot, "resource.d");
        if (Directory.Exists(rd))
        {
            foreach (var provider in Directory.GetDirectories(rd).Order(StringComparer.Ordinal))
                foreach (var f in Directory.GetFiles(provider).Order(StringComparer.Ordinal))
                    if (IsExecutable(f) && !Path.GetFileName(f).StartsWith('.'))
                        list.Add(new AgentId(AgentClass.Ocf, Path.GetFileName(provider), Path.GetFileName(f)));
        }
        if (Directory.Exists(Paths.InitDir))
            foreach (var f in Directory.GetFiles(Paths.InitDir).Order(StringComparer.Ordinal))
                if (IsExecutable(f) && !Path.GetFileName(f).StartsWith('.') && Path.GetFileName(f) is not ("README" or "skeleton" or "rc" or "rcS"))
                    list.Add(new AgentId(AgentClass.Lsb, null, Path.GetFileName(f)));
        if (Directory.Exists(Paths.FenceAgentDir))
            foreach (var f in Directory.GetFiles(Paths.FenceAgentDir, "fence_*").Order(StringComparer.Ordinal))
                if (IsExecutable(f) && Path.GetFileName(f) is not "fence_ack_manual")
                    list.Add(new AgentId(AgentClass.Stonith, null, Path.GetFileName(f)));
        foreach (var t in NativeAgents.Types) list.Add(new AgentId(AgentClass.Vigil, null, t));
        return list;
    }

    public string? Missing(AgentId agent)
    {
        switch (agent.Class)
        {
            case AgentClass.Vigil:
                return NativeAgents.Types.Contains(agent.Type) ? null
                    : $"{agent} is not a built-in agent; built-in agents: {string.Join(", ", NativeAgents.Types.Select(t => "vigil:" + t))}";
            case AgentClass.Ocf:
            {
                var path = OcfPath(agent);
                if (File.Exists(path)) return IsExecutable(path) ? null : $"{path} exists but is not executable; run: chmod +x {path}";
                var providerDir = Path.Combine(Paths.OcfRoot, "resource.d", agent.Provider ?? "");
                if (!Directory.Exists(providerDir))
                    return $"no OCF provider '{agent.Provider}' in {Path.Combine(Paths.OcfRoot, "resource.d")}; run 'vigil agent list' to see installed agents";
                return $"{path} does not exist; run 'vigil agent list' to see installed agents (resource-agents and pacemaker packages provide most)";
            }
            case AgentClass.Lsb:
            {
                var path = LsbPath(agent.Type);
                if (!File.Exists(path)) return $"{path} does not exist; lsb:TYPE runs the init script {Paths.InitDir}/TYPE";
                return IsExecutable(path) ? null : $"{path} is not executable; run: chmod +x {path}";
            }
            case AgentClass.Systemd:
                return SystemdRunning ? null
                    : $"{agent}: systemd is not running as PID 1 on this host (no /run/systemd/system), so systemd units cannot be managed; use an lsb: or ocf: agent instead";
            case AgentClass.Service:
                return File.Exists(LsbPath(agent.Type)) || SystemdRunning ? null
                    : $"{agent}: no init script {LsbPath(agent.Type)} and systemd is not running on this host; use an ocf: agent or install the init script";
            default:
            {
                var path = FencePath(agent.Type);
                if (!File.Exists(path)) return $"{path} does not exist; fence agents come from the fence-agents package (apt-get install fence-agents)";
                return IsExecutable(path) ? null : $"{path} is not executable";
            }
        }
    }

    public async Task<(AgentMetadata? Metadata, string? Error)> MetadataAsync(AgentId agent, CancellationToken cancellationToken = default)
    {
        if (Missing(agent) is { } missing) return (null, missing);
        var r = await RunAsync(new AgentAction(agent, agent.Type, "meta-data") { Timeout = MetadataTimeout }, cancellationToken).ConfigureAwait(false);
        if (r.Status != ExecStatus.Done || r.Rc != OcfCode.Success)
        {
            var why = r.ExitReason ?? LastLine(r.Stderr) ?? OcfCode.Name(r.Rc);
            return (null, $"{agent} meta-data failed ({(r.Status == ExecStatus.Done ? $"rc {r.RawExitCode ?? r.Rc}" : r.Status.ToString().ToLowerInvariant())}): {why}");
        }
        if (!MetadataParser.TryParse(r.Stdout, out var md, out var error))
            return (null, $"{agent}: unreadable meta-data: {error}");
        return (md, null);
    }

    private static bool IsExecutable(string path)
    {
        try
        {
            var mode = File.GetUnixFileMode(path);
            return (mode & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
        }
        catch (IOException) { return false; }
    }
}
