using System.Diagnostics;

namespace Vigil.Host.Agents;

/// <summary>
/// Agents built into Vigil (<c>vigil:TYPE</c>), run in-process. <c>vigil:Dummy</c> behaves like
/// ocf:heartbeat:Dummy with a state file (and can be promoted, like ocf:pacemaker:Stateful), so tests
/// and demos need no resource-agents package.
/// </summary>
public sealed class NativeAgents
{
    private readonly string _stateDir;

    public NativeAgents(string stateDir) => _stateDir = stateDir;

    public static IReadOnlyList<string> Types { get; } = ["Dummy"];

    public const string DummyMetadata = """
<?xml version="1.0"?>
<resource-agent name="Dummy" version="1.0">
  <version>1.1</version>
  <longdesc lang="en">A resource that does nothing but record its state in a file; built into Vigil. It can be promoted when run as a promotable clone.</longdesc>
  <shortdesc lang="en">Built-in example resource</shortdesc>
  <parameters>
    <parameter name="state" unique-group="state">
      <longdesc lang="en">Location of the state file (default: a file named after the instance in Vigil's agent state directory).</longdesc>
      <shortdesc lang="en">State file</shortdesc>
      <content type="string"/>
    </parameter>
    <parameter name="fake" reloadable="1">
      <longdesc lang="en">A parameter that does nothing, to try parameter changes.</longdesc>
      <shortdesc lang="en">Fake parameter</shortdesc>
      <content type="string" default="dummy"/>
    </parameter>
    <parameter name="delay">
      <longdesc lang="en">Milliseconds every action waits before doing its work (to try timeouts).</longdesc>
      <shortdesc lang="en">Action delay (ms)</shortdesc>
      <content type="integer" default="0"/>
    </parameter>
    <parameter name="stop_delay">
      <longdesc lang="en">Milliseconds the stop action waits (in addition to delay), to try hung stops.</longdesc>
      <shortdesc lang="en">Stop delay (ms)</shortdesc>
      <content type="integer" default="0"/>
    </parameter>
  </parameters>
  <actions>
    <action name="start" timeout="20s"/>
    <action name="stop" timeout="20s"/>
    <action name="monitor" timeout="20s" interval="10s" depth="0"/>
    <action name="promote" timeout="10s"/>
    <action name="demote" timeout="10s"/>
    <action name="notify" timeout="5s"/>
    <action name="reload-agent" timeout="10s"/>
    <action name="migrate_to" timeout="20s"/>
    <action name="migrate_from" timeout="20s"/>
    <action name="meta-data" timeout="5s"/>
    <action name="validate-all" timeout="20s"/>
  </actions>
</resource-agent>
""";

    public async Task<AgentResult> RunAsync(AgentAction a, CancellationToken cancellationToken)
    {
        var sw = Stopwatch.StartNew();
        if (a.Agent.Type != "Dummy")
            return new AgentResult(OcfCode.ErrInstalled, ExecStatus.NotInstalled) { ExitReason = $"vigil:{a.Agent.Type} does not exist; built-in agents: vigil:Dummy" };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ProcessRunner.TimerSafe(a.Timeout));
        try
        {
            var (rc, reason, stdout) = await DummyAsync(a, timeout.Token).ConfigureAwait(false);
            return new AgentResult(rc, ExecStatus.Done) { RawExitCode = rc, ExitReason = reason, Stdout = stdout, Duration = sw.Elapsed };
        }
        catch (OperationCanceledException)
        {
            var cancelled = cancellationToken.IsCancellationRequested;
            return new AgentResult(OcfCode.ErrGeneric, cancelled ? ExecStatus.Cancelled : ExecStatus.Timeout)
            {
                ExitReason = cancelled ? "cancelled" : $"timed out after {(long)a.Timeout.TotalMilliseconds} ms",
                Duration = sw.Elapsed,
            };
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new AgentResult(OcfCode.ErrGeneric, ExecStatus.Done) { ExitReason = e.Message, Duration = sw.Elapsed };
        }
    }

    private async Task<(int Rc, string? Reason, string Stdout)> DummyAsync(AgentAction a, CancellationToken ct)
    {
        if (a.Action == "meta-data") return (OcfCode.Success, null, DummyMetadata);
        foreach (var name in a.Action == "stop" ? new[] { "delay", "stop_delay" } : ["delay"])
        {
            if (!a.Parameters.TryGetValue(name, out var d)) continue;
            if (!int.TryParse(d, out var ms) || ms < 0) return (OcfCode.ErrConfigured, $"{name} '{d}' is not a number of milliseconds", "");
            await Task.Delay(ms, ct).ConfigureAwait(false);
        }
        var state = a.Parameters.GetValueOrDefault("state") is { Length: > 0 } s ? s
            : Path.Combine(_stateDir, $"Dummy-{a.ResourceId.Replace('/', '_')}.state");
        var content = File.Exists(state) ? (await File.ReadAllTextAsync(state, ct).ConfigureAwait(false)).Trim() : null;
        switch (a.Action)
        {
            case "start":
                if (content is null) await WriteAsync(state, "started", ct).ConfigureAwait(false);
                return (OcfCode.Success, null, "");
            case "stop":
                if (File.Exists(state)) File.Delete(state);
                return (OcfCode.Success, null, "");
            case "monitor":
                return (content switch { null => OcfCode.NotRunning, "promoted" => OcfCode.RunningPromoted, _ => OcfCode.Success }, null, "");
            case "promote":
                if (content is null) return (OcfCode.NotRunning, "cannot promote: not started", "");
                await WriteAsync(state, "promoted", ct).ConfigureAwait(false);
                return (OcfCode.Success, null, "");
            case "demote":
                if (content is null) return (OcfCode.NotRunning, "cannot demote: not started", "");
                await WriteAsync(state, "started", ct).ConfigureAwait(false);
                return (OcfCode.Success, null, "");
            case "migrate_to":
                if (File.Exists(state)) File.Delete(state);
                return (OcfCode.Success, null, "");
            case "migrate_from":
                await WriteAsync(state, "started", ct).ConfigureAwait(false);
                return (OcfCode.Success, null, "");
            case "validate-all" or "notify" or "reload" or "reload-agent":
                return (OcfCode.Success, null, "");
            default:
                return (OcfCode.ErrUnimplemented, $"vigil:Dummy has no action '{a.Action}'", "");
        }
    }

    private static async Task WriteAsync(string path, string text, CancellationToken ct)
    {
        var dir = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        await File.WriteAllTextAsync(path, text + "\n", ct).ConfigureAwait(false);
    }
}
