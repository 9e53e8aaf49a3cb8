using System.CommandLine;
using System.Net.Http.Json;
using Vigil.Control;
using Vigil.Host.Agents;

namespace Vigil.Cli;

/// <summary><c>vigil node fence</c>, <c>vigil fence history|ack|test</c>.</summary>
public static class FenceCommands
{
    private static Option<bool> Yes() => new("--yes", "-y") { Description = "Do not ask for confirmation (for scripts)" };

    /// <summary><c>vigil node fence NODE</c>: like fence_node, through the cluster's fence devices.</summary>
    public static Command NodeFence(Option<string?> api, Option<string?> settingsOpt)
    {
        var name = new Argument<string>("NODE") { Description = "Node name" };
        var action = new Option<string>("--action") { Description = "reboot (default), off or on", DefaultValueFactory = _ => "reboot" };
        action.AcceptOnlyFromAmong("reboot", "off", "on");
        var yes = Yes();
        var c = new Command("fence", "Fence NODE now with the configured fence devices (power it off or reboot it); asks for confirmation");
        c.Arguments.Add(name);
        c.Options.Add(action);
        c.Options.Add(yes);
        c.Options.Add(api);
        c.Options.Add(settingsOpt);
        c.SetAction(r =>
        {
            var node = r.GetValue(name)!;
            var act = r.GetValue(action)!;
            if (!Confirm(r.GetValue(yes), node, $"This will {(act == "on" ? "power on" : act == "off" ? "power off" : "reboot")} node {node} through its fence devices. Everything running there stops at once."))
                return ExitCodes.Refused;
            var target = ClusterCommands.ApiAddress(r.GetValue(api), r.GetValue(settingsOpt));
            // A fence may take stonith-timeout per device and level; the leader bounds it.
            return ClusterCommands.Operate(target, "fence", null, node, null, act, TimeSpan.FromMinutes(10));
        });
        return c;
    }

    public static Command Build(Option<string?> api, Option<string?> settingsOpt)
    {
        var fence = new Command("fence", "Fencing: history, operator acknowledgement, device test");

        var history = new Command("history", "Every fencing attempt the cluster remembers, newest first (like stonith_admin --history)");
        history.Options.Add(api);
        history.Options.Add(settingsOpt);
        history.SetAction(r => History(ClusterCommands.ApiAddress(r.GetValue(api), r.GetValue(settingsOpt))));
        fence.Subcommands.Add(history);

        var node = new Argument<string>("NODE") { Description = "Node name" };
        var yes = Yes();
        var ack = new Command("ack", "Confirm that NODE is down (like fence_ack_manual) when fencing cannot: its resources are then recovered elsewhere. Asks for confirmation; the cluster records who did it");
        ack.Arguments.Add(node);
        ack.Options.Add(yes);
        ack.Options.Add(api);
        ack.Options.Add(settingsOpt);
        ack.SetAction(r =>
        {
            var n = r.GetValue(node)!;
            if (!Confirm(r.GetValue(yes), n, $"Only confirm if node {n} is really powered off or cut off from all shared data: its resources will start elsewhere, and if {n} still runs them they run twice (split brain)."))
                return ExitCodes.Refused;
            return ClusterCommands.Operate(ClusterCommands.ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), "fence-ack", null, n, null);
        });
        fence.Subcommands.Add(ack);

        var device = new Argument<string>("DEVICE") { Description = "The id of a stonith primitive" };
        var target = new Option<string?>("--node") { Description = "Also ask the device about this node (status action)" };
        var test = new Command("test", "Run a fence device's monitor action on this machine (and status for --node): exit 0 when it works, 1 when not");
        test.Arguments.Add(device);
        test.Options.Add(target);
        test.Options.Add(api);
        test.Options.Add(settingsOpt);
        test.SetAction(r => Test(ClusterCommands.ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), r.GetValue(device)!, r.GetValue(target)));
        fence.Subcommands.Add(test);
        return fence;
    }

    /// <summary>Asks the operator to type the node's name; without a terminal, --yes is required.</summary>
    private static bool Confirm(bool yes, string node, string warning)
    {
        if (yes) return true;
        Console.Error.WriteLine(warning);
        if (Console.IsInputRedirected)
        {
            Console.Error.WriteLine("vigil: not confirmed: no terminal to ask on; add --yes to confirm from a script");
            return false;
        }
        Console.Error.Write($"Type the node name ({node}) to confirm: ");
        var answer = Console.ReadLine()?.Trim();
        if (answer == node) return true;
        Console.Error.WriteLine("vigil: not confirmed; nothing was done");
        return false;
    }

    private static int History(ApiTarget? api)
    {
        if (api is null) return ClusterCommands.NoCluster();
        List<FenceEvent>? events;
        using (var http = api.Client(TimeSpan.FromSeconds(10)))
        {
            try { events = http.GetFromJsonAsync<List<FenceEvent>>(api.Url("/v1/fence/history"), ClusterCommand.Json).GetAwaiter().GetResult(); }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine($"vigil: no answer from {api}: {e.Message}");
                return ExitCodes.Unavailable;
            }
        }
        if (events is null || events.Count == 0) { Console.WriteLine("no fencing has happened"); return ExitCodes.Ok; }
        for (int i = events.Count - 1; i >= 0; i--) Console.WriteLine(FencingStatus.Describe(events[i]));
        return ExitCodes.Ok;
    }

    private static int Test(ApiTarget? api, string deviceId, string? node)
    {
        if (api is null) return ClusterCommands.NoCluster();
        var cib = ClusterCommands.FetchCib(api, out var failure);
        if (cib is null) return failure;
        var primitive = cib.Configuration.AllResources().OfType<Vigil.Core.Model.Primitive>().FirstOrDefault(p => p.Id == deviceId);
        if (primitive is null || !primitive.IsFencingDevice)
        {
            var devices = FencePlanner.Devices(cib.Configuration).Select(d => d.Id).ToList();
            Console.Error.WriteLine($"vigil: '{deviceId}' is not a fence device of this cluster; {(devices.Count == 0 ? "none is configured" : "configured: " + string.Join(", ", devices))}");
            return ExitCodes.Refused;
        }
        var config = FencePlanner.Describe(primitive);
        var paths = new ExecutorPaths { FenceAgentDir = api.Settings?.FenceAgentDirectory ?? "/usr/sbin" };
        var runner = new FenceRunner(new ProcessAgentRunner(paths));
        var fenceDevice = new FenceDevice(config.Id, config.Agent) { Parameters = config.Parameters };
        var timeout = FencePlanner.Timeout(cib.Configuration);
        var monitor = runner.RunAsync(fenceDevice, "monitor", null, timeout).GetAwaiter().GetResult();
        Console.WriteLine($"{deviceId} ({config.Agent}) monitor: {(monitor.Succeeded ? "ok" : $"FAILED ({monitor.Outcome}{Detail(monitor)})")} in {monitor.Agent.Duration.TotalMilliseconds:F0} ms");
        bool ok = monitor.Succeeded;
        if (node is not null)
        {
            var listed = FencePlanner.CanFence(config, node);
            if (listed == false) { Console.WriteLine($"{deviceId} cannot fence {node}: it is not in pcmk_host_list/pcmk_host_map"); ok = false; }
            var status = runner.RunAsync(fenceDevice, "status", node, timeout).GetAwaiter().GetResult();
            var power = status.Outcome switch { FenceOutcome.Success => "powered on", FenceOutcome.Off => "powered off", _ => $"unknown ({status.Outcome}{Detail(status)})" };
            Console.WriteLine($"{deviceId} status of {node}: {power}");
            ok &= status.Outcome is FenceOutcome.Success or FenceOutcome.Off;
        }
        return ok ? ExitCodes.Ok : ExitCodes.Warnings;
    }

    private static string Detail(FenceResult r) => r.Agent.ExitReason is { Length: > 0 } why ? $": {why}" : "";
}
