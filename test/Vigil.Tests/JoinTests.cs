using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Vigil.Host.Daemon;

namespace Vigil.Tests;

/// <summary>
/// 'vigil init' on the first node, 'vigil join --token' on the others: each machine gets its settings
/// and credentials without copying files by hand, and the cluster forms from what join wrote.
/// </summary>
[Collection("cluster")]
public class JoinTests
{
    private static int FreePort() => Vigil.Host.Net.LoopbackPorts.Free();

    [Fact]
    public async Task Init_prints_one_time_tokens_and_joined_nodes_form_the_cluster_with_the_credentials_they_fetched()
    {
        var root = Path.Combine(Path.GetTempPath(), $"vigil-join-{Guid.NewGuid():N}");
        var processes = new List<Process>();
        try
        {
            var api = new Dictionary<string, string>();
            var args = new List<string> { "init", "--dir", Path.Combine(root, "n1"), "--data-dir", Path.Combine(root, "data") };
            foreach (var n in new[] { "n1", "n2", "n3" })
            {
                api[n] = $"127.0.0.1:{FreePort()}";
                args.AddRange(["--node", $"{n}=127.0.0.1:{FreePort()},{api[n]}"]);
            }
            var init = VigilProcess.Run(null, [.. args]);
            Assert.True(init.ExitCode == 0, init.Stderr);
            var tokens = init.Stdout.Split('\n').Where(l => l.StartsWith("on n", StringComparison.Ordinal))
                .ToDictionary(l => l[3..5], l => l.Split("--token ")[1].Split(' ')[0]);
            Assert.Equal(["n2", "n3"], tokens.Keys.Order());
            Assert.Contains($"vigil join --token {tokens["n2"]} {api["n1"]}", init.Stdout);

            // Join before the first node runs: nothing answers, nothing is written.
            var early = VigilProcess.Run(null, "join", "--token", tokens["n2"], api["n1"], "--dir", Path.Combine(root, "n2"), "--data-dir", Path.Combine(root, "data"));
            Assert.Equal(69, early.ExitCode);
            Assert.False(Directory.Exists(Path.Combine(root, "n2", "tls")));

            processes.Add(StartDaemon(Path.Combine(root, "n1", "n1.json"), Path.Combine(root, "n1.log")));
            // A token whose CA pin is not this cluster's: refused before the secret is sent.
            var parts = tokens["n2"].Split(':');
            var forged = VigilProcess.Run(null, "join", "--token", $"{parts[0]}:{parts[1]}:AAAA", api["n1"], "--dir", Path.Combine(root, "x"));
            var sw = Stopwatch.StartNew();
            while (forged.ExitCode == 69 && sw.Elapsed < TimeSpan.FromSeconds(30))
            {
                Thread.Sleep(200);
                forged = VigilProcess.Run(null, "join", "--token", $"{parts[0]}:{parts[1]}:AAAA", api["n1"], "--dir", Path.Combine(root, "x"));
            }
            Assert.Equal(3, forged.ExitCode);
            Assert.Contains("CA pin differs", forged.Stderr);

            foreach (var n in new[] { "n2", "n3" })
            {
                var join = VigilProcess.Run(null, "join", "--token", tokens[n], api["n1"], "--dir", Path.Combine(root, n), "--data-dir", Path.Combine(root, "data"));
                Assert.True(join.ExitCode == 0, join.Stderr);
                var pfx = Path.Combine(root, n, "tls", $"{n}.pfx");
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(pfx));
                Assert.False(File.Exists(Path.Combine(root, n, "tls", "ca.key")));   // the CA key stays where init ran
                processes.Add(StartDaemon(Path.Combine(root, n, $"{n}.json"), Path.Combine(root, $"{n}.log")));
            }
            // A used token does not work twice.
            var again = VigilProcess.Run(null, "join", "--token", tokens["n2"], api["n1"], "--dir", Path.Combine(root, "again"));
            Assert.Equal(3, again.ExitCode);
            Assert.Contains("join token is not valid", again.Stderr);
            Assert.False(File.Exists(Path.Combine(root, "again", "tls", "n2.pfx")));

            // The cluster forms from the joined settings (mutual TLS with the fetched credentials).
            sw.Restart();
            StatusResponse? formed = null;
            while (sw.Elapsed < TimeSpan.FromSeconds(60) && formed is null)
            {
                var r = VigilProcess.Run(null, "status", "--json", "--settings", Path.Combine(root, "n3", "n3.json"));
                if (r.ExitCode == 0 && JsonSerializer.Deserialize<StatusResponse>(r.Stdout, new JsonSerializerOptions(JsonSerializerDefaults.Web)) is { } s
                    && s.Leader is not null && s.Nodes.Count(x => x.Online) == 3) formed = s;
                else Thread.Sleep(300);
            }
            Assert.True(formed is not null, string.Join("\n", Directory.GetFiles(root, "*.log").Select(f => $"{f}:\n{File.ReadAllText(f)}")));

            // A remote user with the API token from init (and no node credentials) reads status and changes the
            // configuration through any member (joined members got the token's hash); node endpoints stay closed.
            var apiToken = init.Stdout.Split("VIGIL_TOKEN=")[1].Split(' ')[0];
            Assert.StartsWith("vigil-api:", apiToken);
            var remote = new Dictionary<string, string> { ["VIGIL_TOKEN"] = apiToken };
            var status = VigilProcess.RunWith(remote, null, "status", "--api", api["n3"]);
            Assert.True(status.ExitCode == 0, status.Stderr);
            Assert.Contains("Online: [ n1 n2 n3 ]", status.Stdout);
            var set = VigilProcess.RunWith(remote, null, "property", "cluster-recheck-interval=7min", "--api", api["n2"]);
            Assert.True(set.ExitCode == 0, set.Stderr + set.Stdout);
            var wrong = VigilProcess.RunWith(new Dictionary<string, string> { ["VIGIL_TOKEN"] = $"vigil-api:nope:{apiToken.Split(':')[2]}" }, null, "status", "--api", api["n1"]);
            Assert.Equal(3, wrong.ExitCode);
            Assert.Contains("needs this node's credentials", wrong.Stderr);
            var noCerts = new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } };
            using (var raw = new HttpClient(noCerts) { Timeout = TimeSpan.FromSeconds(5) })
            {
                raw.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", apiToken.Split(':')[1]);
                using var execute = await raw.PostAsync($"https://{api["n1"]}/v1/node/execute", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
                Assert.Equal(HttpStatusCode.Unauthorized, execute.StatusCode);
            }

            // Remote API tokens are the cluster's: listed, created and revoked with any member's node credentials,
            // and a revoked one is refused by every member, the one 'vigil init' printed included.
            string Settings(string n) => Path.Combine(root, n, $"{n}.json");
            var listed = VigilProcess.Run(null, "api-token", "list", "--settings", Settings("n1"));
            Assert.True(listed.ExitCode == 0, listed.Stderr);
            var initId = listed.Stdout.Split('\n').Single(l => l.Contains("vigil init")).Split(' ')[0];
            Assert.Matches("^[0-9A-F]{12}$", initId);
            var byHolder = VigilProcess.RunWith(remote, null, "api-token", "create", "sneaky", "--api", api["n2"]);
            Assert.Equal(3, byHolder.ExitCode);
            Assert.Contains("needs a node's credentials", byHolder.Stderr);
            var created = VigilProcess.Run(null, "api-token", "create", "ops", "--settings", Settings("n2"));
            Assert.True(created.ExitCode == 0, created.Stderr + created.Stdout);
            var ops = new Dictionary<string, string> { ["VIGIL_TOKEN"] = created.Stdout.Split("VIGIL_TOKEN=")[1].Split('\n')[0].Trim() };
            Assert.True(StatusAnswers(ops, api["n3"], expected: true), "the new token is not accepted by n3");
            var twice = VigilProcess.Run(null, "api-token", "create", "ops", "--settings", Settings("n1"));
            Assert.Equal(3, twice.ExitCode);
            Assert.Contains("exists already", twice.Stderr);
            var unknown = VigilProcess.Run(null, "api-token", "revoke", "nosuch", "--settings", Settings("n1"));
            Assert.Equal(3, unknown.ExitCode);
            Assert.Contains("no API token is named 'nosuch'", unknown.Stderr);
            var revoke = VigilProcess.Run(null, "api-token", "revoke", initId.ToLowerInvariant(), "--settings", Settings("n3"));
            Assert.True(revoke.ExitCode == 0, revoke.Stderr + revoke.Stdout);
            foreach (var n in new[] { "n1", "n2", "n3" })
                Assert.True(StatusAnswers(remote, api[n], expected: false), $"{n} still accepts the revoked init token");
            Assert.True(StatusAnswers(ops, api["n1"], expected: true), "revoking the init token also ended the other one");
            Assert.Equal(0, VigilProcess.Run(null, "api-token", "revoke", "ops", "--settings", Settings("n1")).ExitCode);
            Assert.True(StatusAnswers(ops, api["n2"], expected: false), "n2 still accepts the revoked token 'ops'");
            listed = VigilProcess.Run(null, "api-token", "list", "--settings", Settings("n2"));
            Assert.Equal(2, listed.Stdout.Split('\n').Count(l => l.Contains("revoked")));

            // A new token for n2 can be issued where init ran; it replaces nothing else.
            var reissue = VigilProcess.Run(null, "token", "n2", "--dir", Path.Combine(root, "n1"));
            Assert.Equal(0, reissue.ExitCode);
            Assert.StartsWith("n2:", reissue.Stdout.Trim());
        }
        finally
        {
            foreach (var p in processes) { try { p.Kill(); p.WaitForExit(10_000); } catch (InvalidOperationException) { } p.Dispose(); }
            try { Directory.Delete(root, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>Whether 'vigil status' with <paramref name="env"/>'s token at <paramref name="api"/> comes to answer as expected within 5 s (a member applies a committed change a moment after the leader).</summary>
    private static bool StatusAnswers(Dictionary<string, string> env, string api, bool expected)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            var r = VigilProcess.RunWith(env, null, "status", "--api", api);
            if ((r.ExitCode == 0) == expected && (expected || r.Stderr.Contains("needs this node's credentials"))) return true;
            if (sw.Elapsed > TimeSpan.FromSeconds(5)) return false;
            Thread.Sleep(200);
        }
    }

    private static Process StartDaemon(string settings, string log)
    {
        // Keep the agents' runtime state inside the test folder (as root it would default to /run/vigil/NAME).
        var loaded = NodeSettings.Load(settings);
        (loaded with { RuntimeDirectory = Path.Combine(Path.GetDirectoryName(log)!, "run", loaded.Name) }).Save(settings);
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "vigil.dll"), "daemon", "--settings", settings }) psi.ArgumentList.Add(a);
        var p = Process.Start(psi)!;
        p.StandardInput.Close();
        var writer = new StreamWriter(log, append: true) { AutoFlush = true };
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (writer) writer.WriteLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        return p;
    }
}
