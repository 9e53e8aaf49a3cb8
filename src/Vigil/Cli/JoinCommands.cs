using System.CommandLine;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Vigil.Host.Daemon;
using Vigil.Host.Security;

namespace Vigil.Cli;

/// <summary><c>vigil join</c> (a planned member fetches its credentials with a one-time token) and <c>vigil token</c> (issue a new one).</summary>
public static class JoinCommands
{
    public static IEnumerable<Command> Build()
    {
        var token = new Option<string>("--token") { Description = "The one-time token NODE:SECRET:CAPIN that 'vigil init' or 'vigil token' printed", Required = true };
        var address = new Argument<string>("ADDRESS") { Description = "API address (ip:port) of the node where 'vigil init' ran" };
        var dir = new Option<string>("--dir") { Description = "Where to write NODE.json and tls/ (default /etc/vigil)", DefaultValueFactory = _ => "/etc/vigil" };
        var dataDir = new Option<string>("--data-dir") { Description = "Parent of this node's data directory (default /var/lib/vigil)", DefaultValueFactory = _ => "/var/lib/vigil" };
        var join = new Command("join", "Join this machine as a planned member: fetch its settings and credentials from ADDRESS with a one-time token, checking the cluster CA first");
        join.Arguments.Add(address);
        join.Options.Add(token);
        join.Options.Add(dir);
        join.Options.Add(dataDir);
        join.SetAction(r => Join(r.GetValue(token)!, r.GetValue(address)!, r.GetValue(dir)!, r.GetValue(dataDir)!));
        yield return join;

        var node = new Argument<string>("NODE") { Description = "The member that will join" };
        var initDir = new Option<string>("--dir") { Description = "The folder 'vigil init --dir' wrote", Required = true };
        var issue = new Command("token", "Issue a new one-time join token for a member (where 'vigil init' ran; an older token of that member stops working)");
        issue.Arguments.Add(node);
        issue.Options.Add(initDir);
        issue.SetAction(r => Issue(r.GetValue(node)!, r.GetValue(initDir)!));
        yield return issue;
    }

    private static int Issue(string node, string dir)
    {
        try
        {
            var t = JoinTokens.Issue(Path.Combine(dir, "tls"), node);
            Console.WriteLine(t);
            return ExitCodes.Ok;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            Console.Error.WriteLine($"vigil: {e.Message}");
            return ExitCodes.NoInput;
        }
    }

    private static int Join(string tokenText, string address, string dir, string dataDir)
    {
        if (!JoinToken.TryParse(tokenText, out var token, out var error))
        {
            Console.Error.WriteLine($"vigil: --token: {error}");
            return ExitCodes.Usage;
        }
        if (!System.Net.IPEndPoint.TryParse(address, out _))
        {
            Console.Error.WriteLine($"vigil: '{address}' is not ip:port (the API address of the node where 'vigil init' ran)");
            return ExitCodes.Usage;
        }
        var tls = Path.GetFullPath(Path.Combine(dir, "tls"));
        if (File.Exists(Path.Combine(tls, $"{token!.Node}.pfx")))
        {
            Console.Error.WriteLine($"vigil: {tls}/{token.Node}.pfx exists: this machine holds {token.Node}'s credentials already; nothing was changed");
            return ExitCodes.Refused;
        }
        // 1. The CA, fetched without trusting anything, must be the one the token was issued for.
        var ca = PinnedCa.Fetch(address, token.CaPin, TimeSpan.FromSeconds(10), out var problem, out var wrongCa);
        if (ca is null)
        {
            Console.Error.WriteLine($"vigil: {problem}{(wrongCa ? "; nothing was sent or written" : "; is 'vigil daemon' running there with TLS?")}");
            return wrongCa ? ExitCodes.Refused : ExitCodes.Unavailable;
        }
        using (ca)
        {
            // 2. The secret goes only to a server whose certificate that CA issued.
            JoinResponse? answer;
            try
            {
                using var trusted = PinnedCa.Client(ca, TimeSpan.FromSeconds(10));
                using var resp = trusted.PostAsJsonAsync($"https://{address}/v1/join", new JoinRequest(token.Node, token.Secret), WireJson.Web).GetAwaiter().GetResult();
                if (!resp.IsSuccessStatusCode)
                {
                    var why = resp.Content.ReadFromJsonAsync<ErrorResponse>(WireJson.Web).GetAwaiter().GetResult();
                    Console.Error.WriteLine($"vigil: {address} refused the join: {why?.Error}{(why?.Hint is null ? "" : $" ({why.Hint})")}");
                    return ExitCodes.Refused;
                }
                answer = resp.Content.ReadFromJsonAsync<JoinResponse>(WireJson.Web).GetAwaiter().GetResult();
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
            {
                Console.Error.WriteLine($"vigil: joining through {address} failed: {e.Message}");
                return ExitCodes.Unavailable;
            }
            if (answer is null || !answer.Members.ContainsKey(token.Node))
            {
                Console.Error.WriteLine($"vigil: {address} answered without settings for {token.Node}");
                return ExitCodes.Refused;
            }
            Directory.CreateDirectory(tls);
            File.WriteAllText(Path.Combine(tls, "ca.crt"), answer.CaPem);
            var pfx = Path.Combine(tls, $"{token.Node}.pfx");
            ClusterCredentials.WritePrivate(pfx, Convert.FromBase64String(answer.Pfx));
            JoinTokens.WriteApiHashes(tls, answer.ApiTokenHashes);
            var settingsPath = Path.GetFullPath(Path.Combine(dir, $"{token.Node}.json"));
            new NodeSettings
            {
                Name = token.Node, DataDirectory = Path.GetFullPath(Path.Combine(dataDir, token.Node)), Members = answer.Members, TlsDirectory = tls,
            }.Save(settingsPath);
            Console.WriteLine($"joined as {token.Node}: wrote {settingsPath} and {tls}/ (ca.crt, {token.Node}.pfx)");
            Console.WriteLine($"start it: vigil {(answer.Members[token.Node].Witness ? "witness" : "daemon")} --settings {settingsPath}");
            return ExitCodes.Ok;
        }
    }
}

