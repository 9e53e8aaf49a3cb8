using System.CommandLine;
using System.Globalization;
using System.Net.Http.Json;
using Vigil.Control;
using Vigil.Host.Daemon;

namespace Vigil.Cli;

/// <summary><c>vigil api-token list|create|revoke</c>: remote API tokens kept by the cluster (revoked on every member at once).</summary>
public static class ApiTokenCommands
{
    public static Command Build(Option<string?> api, Option<string?> settingsOpt)
    {
        var group = new Command("api-token", "Remote API tokens (VIGIL_TOKEN for 'vigil --api ADDRESS' without node credentials): list, create, revoke. Needs a node's credentials (--settings, as root on a node)");

        var list = new Command("list", "Every remote API token the cluster knows: id, name, who issued it, and whether it is in force or revoked");
        list.Options.Add(api);
        list.Options.Add(settingsOpt);
        list.SetAction(r => List(ClusterCommands.ApiAddress(r.GetValue(api), r.GetValue(settingsOpt))));
        group.Subcommands.Add(list);

        var name = new Argument<string>("NAME") { Description = "Who or what uses the token (letters, digits, '.', '_', '-')" };
        var create = new Command("create", "Issue a new token, valid on every member; it is printed once (the cluster keeps only its hash)");
        create.Arguments.Add(name);
        create.Options.Add(api);
        create.Options.Add(settingsOpt);
        create.SetAction(r => ClusterCommands.Operate(ClusterCommands.ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), NodeDaemon.ApiTokenCreateOp, r.GetValue(name), null, null));
        group.Subcommands.Add(create);

        var which = new Argument<string>("TOKEN") { Description = "The token's name, or its id (at least 6 hex digits, as 'vigil api-token list' shows)" };
        var revoke = new Command("revoke", "Revoke a token: every member refuses it from the moment the change is committed (the token 'vigil init' printed too)");
        revoke.Arguments.Add(which);
        revoke.Options.Add(api);
        revoke.Options.Add(settingsOpt);
        revoke.SetAction(r => ClusterCommands.Operate(ClusterCommands.ApiAddress(r.GetValue(api), r.GetValue(settingsOpt)), NodeDaemon.ApiTokenRevokeOp, r.GetValue(which), null, null));
        group.Subcommands.Add(revoke);
        return group;
    }

    private static int List(ApiTarget? api)
    {
        if (api is null) return ClusterCommands.NoCluster();
        List<ApiTokenEntry>? tokens;
        using (var http = api.Client(TimeSpan.FromSeconds(10)))
        {
            try
            {
                using var resp = http.GetAsync(api.Url("/v1/api-tokens")).GetAwaiter().GetResult();
                if (!resp.IsSuccessStatusCode)
                {
                    var why = resp.Content.ReadFromJsonAsync<ErrorResponse>(ClusterCommands.Json).GetAwaiter().GetResult();
                    Console.Error.WriteLine($"vigil: refused: {why?.Error ?? resp.StatusCode.ToString()}; listing API tokens needs a node's credentials (--settings, as root on a node)");
                    return ExitCodes.Refused;
                }
                tokens = resp.Content.ReadFromJsonAsync<List<ApiTokenEntry>>(ClusterCommands.Json).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine($"vigil: {api.Explain(e)}");
                return ExitCodes.Unavailable;
            }
        }
        if (tokens is null || tokens.Count == 0) { Console.WriteLine("no remote API tokens: 'vigil api-token create NAME' issues one"); return ExitCodes.Ok; }
        Console.WriteLine($"{"ID",-12}  {"NAME",-20}  {"STATE",-8}  ISSUED");
        foreach (var t in tokens)
        {
            var issued = t.AtUnixSeconds == 0 ? t.By : $"{When(t.AtUnixSeconds)} by {t.By}";
            var state = t.Revoked ? "revoked" : "in force";
            var revoked = t.Revoked ? $"; revoked {(t.RevokedAtUnixSeconds is { } at ? When(at) + " " : "")}by {t.RevokedBy}" : "";
            Console.WriteLine($"{t.Id,-12}  {t.Name ?? "-",-20}  {state,-8}  {issued}{revoked}");
        }
        return ExitCodes.Ok;
    }

    private static string When(long unixSeconds) =>
        DateTimeOffset.FromUnixTimeSeconds(unixSeconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
