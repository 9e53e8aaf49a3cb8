using System.Collections.Immutable;
using System.CommandLine;
using System.Globalization;
using Vigil.Core;
using Vigil.Host.Agents;

namespace Vigil.Cli;

/// <summary>
/// <c>vigil agent list|info|run</c>: look at and run resource and fence agents on this host without a
/// cluster, exactly as the executor runs them (like <c>crm_resource --list-agents / --show-metadata /
/// --force-start</c>).
/// </summary>
public static class AgentCommands
{
    /// <summary>Exit codes of <c>vigil agent run</c> besides the OCF code of the action itself.</summary>
    public const string RunExitCodes =
        "Exit code: the agent's OCF code (0 success, 1 error, 2 invalid parameter, 3 unimplemented, 5 not installed, 6 not configured, " +
        "7 not running, 8 running promoted, 9 failed promoted); for fence agents 0 ok, 1 failed, 2 off (status); " +
        "64 for a wrong command line, 124 when the action timed out.";

    public const int TimedOut = 124;

    /// <param name="paths">Where agents live; tests point this at private directories.</param>
    public static Command Build(TextWriter? stdout = null, TextWriter? stderr = null, ExecutorPaths? paths = null)
    {
        var p = paths ?? new ExecutorPaths();
        var agent = new Command("agent", "List, describe and run resource agents (OCF, LSB, systemd, fence, built-in) on this host");
        agent.Subcommands.Add(BuildList(stdout, stderr, p));
        agent.Subcommands.Add(BuildInfo(stdout, stderr, p));
        agent.Subcommands.Add(BuildRun(stdout, stderr, p));
        return agent;
    }



    private static Command BuildList(TextWriter? o, TextWriter? e, ExecutorPaths paths)
    {
        var cls = new Option<string?>("--class") { Description = "Only this class: ocf, lsb, stonith or vigil" };
        var provider = new Option<string?>("--provider") { Description = "Only OCF agents of this provider (heartbeat, pacemaker, linbit, …)" };
        var list = new Command("list", "List the agents installed on this host, one CLASS:PROVIDER:TYPE per line");
        list.Options.Add(cls);
        list.Options.Add(provider);
        list.SetAction(r =>
        {
            var (stdout, stderr) = (o ?? Console.Out, e ?? Console.Error);
            AgentClass? only = null;
            if (r.GetValue(cls) is { } c)
            {
                if (!AgentId.TryParseClass(c, out var parsed))
                {
                    stderr.WriteLine($"vigil: --class '{c}' is not an agent class; use ocf, lsb, stonith or vigil");
                    return ExitCodes.Usage;
                }
                only = parsed;
            }
            var prov = r.GetValue(provider);
            var agents = new ProcessAgentRunner(paths).List()
                .Where(a => only is null || a.Class == only)
                .Where(a => prov is null || a.Provider == prov)
                .ToList();
            foreach (var a in agents) stdout.WriteLine(a);
            if (agents.Count == 0)
                stderr.WriteLine("vigil: no agents found; install resource-agents (OCF) or fence-agents (stonith), or use the built-in vigil:Dummy");
            return ExitCodes.Ok;
        });
        return list;
    }

    private static Command BuildInfo(TextWriter? o, TextWriter? e, ExecutorPaths paths)
    {
        var name = new Argument<string>("AGENT") { Description = "CLASS:PROVIDER:TYPE (ocf:heartbeat:IPaddr2) or CLASS:TYPE (lsb:apache2, stonith:fence_ipmilan, vigil:Dummy)" };
        var info = new Command("info", "Describe an agent from its meta-data: parameters (required ones first), defaults and actions. " +
            "Exit codes: 0 ok, 1 unreadable meta-data, 5 agent not installed, 64 bad agent name");
        info.Arguments.Add(name);
        info.SetAction(async (r, ct) =>
        {
            var (stdout, stderr) = (o ?? Console.Out, e ?? Console.Error);
            if (!AgentId.TryParse(r.GetValue(name), out var id, out var error))
            {
                stderr.WriteLine($"vigil: {error}");
                return ExitCodes.Usage;
            }
            var work = Directory.CreateTempSubdirectory("vigil-agent-").FullName;
            try
            {
                var runner = new ProcessAgentRunner(paths, new ProcessRunner(work));
                if (runner.Missing(id) is { } missing)
                {
                    stderr.WriteLine($"vigil: {missing}");
                    return OcfCode.ErrInstalled;
                }
                var (md, mdError) = await runner.MetadataAsync(id, ct);
                if (md is null)
                {
                    stderr.WriteLine($"vigil: {mdError}");
                    stderr.WriteLine($"vigil: run 'vigil agent run {id} meta-data' to see the agent's raw output");
                    return ExitCodes.Warnings;
                }
                Describe(stdout, id, md);
                return ExitCodes.Ok;
            }
            finally
            {
                TryDelete(work);
            }
        });
        return info;
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static void Describe(TextWriter w, AgentId id, AgentMetadata md)
    {
        w.WriteLine($"{id}{(md.ShortDescription.Length > 0 ? " — " + md.ShortDescription : "")}");
        if (md.LongDescription.Length > 0 && md.LongDescription != md.ShortDescription)
        {
            w.WriteLine();
            foreach (var line in Wrap(md.LongDescription, 100)) w.WriteLine("  " + line);
        }
        w.WriteLine();
        if (md.Parameters.Count == 0) w.WriteLine("Parameters: none");
        else
        {
            w.WriteLine("Parameters (* = required):");
            var ordered = md.Parameters.OrderByDescending(p => p.Required).ThenBy(p => p.Deprecated).ToList();
            int width = Math.Min(28, ordered.Max(p => p.Name.Length) + 2);
            foreach (var p in ordered)
            {
                var flags = new List<string> { p.Type };
                if (p.Default is { Length: > 0 } d) flags.Add($"default {d}");
                if (p.Options.Count > 0) flags.Add("one of " + string.Join('|', p.Options));
                if (p.Unique || p.UniqueGroup is not null) flags.Add("unique");
                if (p.Reloadable) flags.Add("reloadable");
                if (p.Deprecated) flags.Add("deprecated");
                var desc = p.ShortDescription.Length > 0 ? p.ShortDescription : p.LongDescription;
                w.WriteLine($"  {(p.Required ? "*" : " ")} {p.Name.PadRight(width)} {desc} ({string.Join(", ", flags)})");
            }
        }
        if (md.Actions.Count > 0)
        {
            w.WriteLine();
            w.WriteLine("Actions (timeouts are the agent's suggestions):");
            foreach (var a in md.Actions)
            {
                var parts = new List<string>();
                if (a.Timeout is not null) parts.Add($"timeout {a.Timeout}");
                if (a.Interval is not null) parts.Add($"interval {a.Interval}");
                if (a.Depth is not null && a.Depth != "0") parts.Add($"depth {a.Depth}");
                if (a.Role is not null) parts.Add($"role {a.Role}");
                w.WriteLine($"  {a.Name,-14} {string.Join(", ", parts)}");
            }
        }
    }

    private static IEnumerable<string> Wrap(string text, int width)
    {
        var line = new System.Text.StringBuilder();
        foreach (var word in text.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line.Length > 0 && line.Length + word.Length + 1 > width) { yield return line.ToString(); line.Clear(); }
            if (line.Length > 0) line.Append(' ');
            line.Append(word);
        }
        if (line.Length > 0) yield return line.ToString();
    }

    private static Command BuildRun(TextWriter? o, TextWriter? e, ExecutorPaths paths)
    {
        var name = new Argument<string>("AGENT") { Description = "CLASS:PROVIDER:TYPE or CLASS:TYPE" };
        var action = new Argument<string>("ACTION") { Description = "start, stop, monitor, promote, demote, validate-all, meta-data, …; fence agents: on, off, reboot, status, list, monitor, metadata" };
        var param = new Option<string[]>("--param", "-p") { Description = "An instance attribute NAME=VALUE (repeat for more)", AllowMultipleArgumentsPerToken = false };
        var meta = new Option<string[]>("--meta") { Description = "A CRM_meta value NAME=VALUE (clone, clone_max, role, notify_*, …)" };
        var resource = new Option<string?>("--resource", "-r") { Description = "Resource id (OCF_RESOURCE_INSTANCE); default: the agent type" };
        var interval = new Option<string?>("--interval") { Description = "Operation interval (10s, 1min); a monitor without one is a probe" };
        var timeout = new Option<string?>("--timeout") { Description = "Kill the agent's whole process group after this long (default 20s)" };
        var level = new Option<int?>("--check-level") { Description = "OCF_CHECK_LEVEL for monitor (0, 10, 20)" };
        var node = new Option<string?>("--node") { Description = "Node name the agent sees (crm_node -n); default: this host's name" };
        var target = new Option<string?>("--target") { Description = "Fence agents: the node to act on (nodename, port/plug via pcmk_host_map)" };
        var noCheck = new Option<bool>("--no-check") { Description = "Do not check required parameters against the meta-data first" };
        var run = new Command("run", "Run one agent action now, like crm_resource --force-start: prints the OCF result, exit reason, " +
            "stderr tail, duration and any node attributes the agent set. " + RunExitCodes);
        run.Arguments.Add(name);
        run.Arguments.Add(action);
        foreach (var opt in new Option[] { param, meta, resource, interval, timeout, level, node, target, noCheck }) run.Options.Add(opt);
        run.SetAction(async (r, ct) =>
        {
            var (stdout, stderr) = (o ?? Console.Out, e ?? Console.Error);
            var problems = new List<string>();
            if (!AgentId.TryParse(r.GetValue(name), out var id, out var error)) problems.Add(error);
            var parameters = ParsePairs(r.GetValue(param) ?? [], "--param", problems);
            var metaValues = ParsePairs(r.GetValue(meta) ?? [], "--meta", problems);
            var intervalValue = ParseDuration(r.GetValue(interval), "--interval", TimeSpan.Zero, problems);
            var timeoutValue = ParseDuration(r.GetValue(timeout), "--timeout", AgentAction.DefaultTimeout, problems);
            if (timeoutValue <= TimeSpan.Zero) problems.Add("--timeout must be more than 0");
            var act = r.GetValue(action) ?? "";
            if (act.Length == 0 || act.Any(c => char.IsWhiteSpace(c) || c == '/')) problems.Add($"'{act}' is not an action name");
            if (problems.Count > 0)
            {
                foreach (var p in problems) stderr.WriteLine($"vigil: {p}");
                return ExitCodes.Usage;
            }
            var shimDir = Directory.CreateTempSubdirectory("vigil-shim-").FullName;
            try
            {
                return await RunAsync(stdout, stderr, r, id, act, parameters, metaValues, intervalValue, timeoutValue, shimDir, ct);
            }
            finally
            {
                TryDelete(shimDir);
            }
        });
        return run;

        async Task<int> RunAsync(TextWriter stdout, TextWriter stderr, ParseResult r, AgentId id, string act, Dictionary<string, string> parameters,
            Dictionary<string, string> metaValues, TimeSpan intervalValue, TimeSpan timeoutValue, string shimDir, CancellationToken ct)
        {
            var runner = new ProcessAgentRunner(paths, new ProcessRunner(Path.Combine(shimDir, "exec")));
            if (runner.Missing(id) is { } missing)
            {
                stderr.WriteLine($"vigil: {missing}");
                return OcfCode.ErrInstalled;
            }
            bool metadataAction = act is "meta-data" or "metadata";
            if (!metadataAction && !r.GetValue(noCheck) && id.Class is AgentClass.Ocf or AgentClass.Stonith or AgentClass.Vigil)
            {
                var (md, mdError) = await runner.MetadataAsync(id, ct);
                if (md is null)
                {
                    stderr.WriteLine($"vigil: {mdError}");
                    stderr.WriteLine("vigil: the parameters could not be checked; fix the agent, or run again with --no-check to skip the check");
                    return OcfCode.ErrGeneric;
                }
                // The fencer supplies the target itself; everything else required must be given.
                var missingParams = MetadataParser.MissingRequired(md, parameters)
                    .Where(p => !(id.Class == AgentClass.Stonith && p.Name is "port" or "plug" or "nodename" or "action")).ToList();
                if (missingParams.Count > 0)
                {
                    foreach (var p in missingParams)
                        stderr.WriteLine($"vigil: {id} needs parameter '{p.Name}'{(p.ShortDescription.Length > 0 ? $" ({p.ShortDescription})" : "")}: add --param {p.Name}=VALUE");
                    stderr.WriteLine($"vigil: 'vigil agent info {id}' lists every parameter");
                    return OcfCode.ErrConfigured;
                }
            }

            var nodeName = r.GetValue(node) ?? Environment.MachineName;
            var store = new AttributeStore();
            var shims = new ShimHost(Path.Combine(shimDir, "shim"), nodeName, store);
            var agentRunner = new ProcessAgentRunner(paths with { ShimDir = shims.Directory }, new ProcessRunner(Path.Combine(shimDir, "exec")));
            var a = new AgentAction(id, r.GetValue(resource) ?? id.Type, act)
            {
                Parameters = parameters.ToImmutableDictionary(StringComparer.Ordinal),
                Meta = metaValues.ToImmutableDictionary(StringComparer.Ordinal),
                Interval = intervalValue,
                Timeout = timeoutValue,
                CheckLevel = r.GetValue(level),
                NodeName = nodeName,
            };
            if (r.GetValue(target) is { } t) a = a.WithMeta("stonith_target", t);
            var result = await agentRunner.RunAsync(a, ct);
            shims.Pump();
            return Report(stdout, stderr, a, result, shims);
        }
    }

    private static int Report(TextWriter stdout, TextWriter stderr, AgentAction a, AgentResult r, ShimHost shims)
    {
        bool metadataAction = a.Action is "meta-data" or "metadata";
        bool fence = a.Agent.Class == AgentClass.Stonith;
        if (r.Status == ExecStatus.Done && (metadataAction || (fence && a.Action is "list" or "list-status" or "status") || a.Agent.Class == AgentClass.Ocf && a.Action == "validate-all"))
            stdout.Write(r.Stdout.EndsWith('\n') || r.Stdout.Length == 0 ? r.Stdout : r.Stdout + "\n");
        if (metadataAction && r.Status == ExecStatus.Done && r.Rc == 0) return 0;

        var ms = ((long)r.Duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        var code = fence && r.RawExitCode is int raw ? raw : r.Rc;
        string verdict = r.Status switch
        {
            ExecStatus.Done when fence => $"{code} {FenceArgs.Outcome(a.Action, code).ToString().ToLowerInvariant()}",
            ExecStatus.Done => $"{r.Rc} {OcfCode.Name(r.Rc)} ({OcfCode.Description(r.Rc)})",
            ExecStatus.Timeout => "timed out",
            ExecStatus.NotInstalled => $"{r.Rc} {OcfCode.Name(r.Rc)} (not installed)",
            _ => $"{r.Status.ToString().ToLowerInvariant()}",
        };
        stdout.WriteLine($"{a.Agent} {a.Action} ({a.ResourceId}): {verdict}");
        if (r.Status == ExecStatus.Done && r.RawExitCode is int rawCode && rawCode != r.Rc && !fence)
            stdout.WriteLine($"  agent exit code: {rawCode}");
        if (r.ExitReason is not null) stdout.WriteLine($"  exit reason: {r.ExitReason}");
        stdout.WriteLine($"  duration: {ms} ms");
        foreach (var req in shims.Log.Where(l => l.Op is "set" or "delete"))
            stdout.WriteLine($"  attribute {req.Name}{(req.Op == "set" ? $"={req.Value}" : " deleted")} on {req.Node} (by {req.Tool}{(req.Delay.Length > 0 ? $", dampen {req.Delay}" : "")})");
        var tail = r.StderrTail(10);
        if (tail.Count > 0)
        {
            stderr.WriteLine("  stderr (last lines):");
            foreach (var l in tail) stderr.WriteLine("    " + l);
        }
        if (r.Status == ExecStatus.Timeout) return TimedOut;
        if (fence && r.Status == ExecStatus.Done) return code;
        return r.Rc is >= 0 and <= 255 ? r.Rc : OcfCode.ErrGeneric;
    }

    private static Dictionary<string, string> ParsePairs(string[] items, string option, List<string> problems)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            var eq = item.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                problems.Add($"{option} '{item}' is not NAME=VALUE; write e.g. {option} ip=10.0.0.5");
                continue;
            }
            result[item[..eq]] = item[(eq + 1)..];
        }
        return result;
    }

    private static TimeSpan ParseDuration(string? text, string option, TimeSpan fallback, List<string> problems)
    {
        if (text is null) return fallback;
        if (Duration.TryParse(text, out var v)) return v;
        problems.Add($"{option} '{text}' is not a duration; write e.g. 10s, 500ms, 1min");
        return fallback;
    }
}
