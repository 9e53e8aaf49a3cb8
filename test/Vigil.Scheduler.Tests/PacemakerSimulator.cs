using System.Diagnostics;
using System.Globalization;
using System.Xml.Linq;

namespace Vigil.Scheduler.Tests;

/// <summary>
/// Pacemaker's scheduler as a live oracle: runs Debian's <c>crm_simulate</c> (package
/// <c>pacemaker-cli-utils</c>, installed by <c>scripts/deps.sh</c>) on one CIB and turns its XML result and
/// transition graph into the N, P, T and F lines <see cref="RecordWriter"/> prints for Vigil. Anonymous
/// clone instance numbers are dropped, as <see cref="RecordWriter"/> drops them.
/// </summary>
internal static class PacemakerSimulator
{
    public const string Binary = "crm_simulate";

    /// <summary>One call costs about 70 ms on a 2-core machine; a hung one is killed after this.</summary>
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    public static IReadOnlyList<string> Record(string cibXml, DateTimeOffset now)
    {
        var dir = Directory.CreateTempSubdirectory("vigil-pcmk-");
        try
        {
            var input = Path.Combine(dir.FullName, "in.xml");
            var graph = Path.Combine(dir.FullName, "graph.xml");
            File.WriteAllText(input, cibXml);
            var psi = new ProcessStartInfo(Binary)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[] { "--simulate", "--xml-file", input, "--output-as=xml", "--save-graph", graph,
                         "--set-datetime", now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture) })
                psi.ArgumentList.Add(a);
            psi.Environment["LC_ALL"] = "C";
            // crm_simulate wants a writable shadow directory; the temporary folder keeps runs apart.
            psi.Environment["CIB_shadow_dir"] = dir.FullName;
            using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {Binary}");
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            if (!p.WaitForExit(Timeout))
            {
                p.Kill(entireProcessTree: true);
                throw new TimeoutException($"{Binary} did not finish within {Timeout.TotalSeconds} s");
            }
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"{Binary} exited with {p.ExitCode}: {stderr.Result.Trim()} {stdout.Result.Trim()}");
            return Lines(XElement.Parse(stdout.Result), XElement.Load(graph));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Whether crm_simulate can be started at all (for a clear failure message).</summary>
    public static string? Missing()
    {
        var path = System.Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var d in path.Split(':').Concat(["/usr/sbin", "/usr/bin"]))
            if (d.Length > 0 && File.Exists(Path.Combine(d, Binary))) return null;
        return $"{Binary} is not installed: install Debian's pacemaker-cli-utils (./test.sh does, as root)";
    }

    private static List<string> Lines(XElement result, XElement graph)
    {
        var anonymous = new HashSet<string>(StringComparer.Ordinal);
        foreach (var section in new[] { "cluster_status", "revised_cluster_status" })
            if (result.Element(section) is { } st) AddAnonymous(st, anonymous);
        string Name(string? id)
        {
            if (id is null) return "-";
            var colon = id.IndexOf(':', StringComparison.Ordinal);
            return colon > 0 && anonymous.Contains(id[..colon]) && int.TryParse(id.AsSpan(colon + 1), out _) ? id[..colon] : id;
        }
        var lines = new List<string>();
        var revised = result.Element("revised_cluster_status") ?? throw new InvalidOperationException("no revised_cluster_status in the crm_simulate result");
        foreach (var n in revised.Element("nodes")?.Elements("node") ?? [])
        {
            var flags = new List<string> { (string?)n.Attribute("online") == "true" ? "online" : "offline" };
            foreach (var f in new[] { "standby", "maintenance", "unclean", "shutdown", "pending" })
                if ((string?)n.Attribute(f) == "true") flags.Add(f);
            lines.Add($"N|{n.Attribute("name")?.Value}|{string.Join(',', flags)}");
        }
        foreach (var r in revised.Element("resources")?.Descendants("resource") ?? [])
        {
            var flags = new List<string>();
            foreach (var (attr, value, flag) in new[] { ("failed", "true", "failed"), ("managed", "false", "unmanaged"), ("blocked", "true", "blocked"), ("orphaned", "true", "orphaned") })
                if ((string?)r.Attribute(attr) == value) flags.Add(flag);
            var head = $"P|{Name((string?)r.Attribute("id"))}|{r.Attribute("role")?.Value}|";
            var nodes = r.Elements("node").Select(x => x.Attribute("name")?.Value).ToList();
            if (nodes.Count == 0) lines.Add(head + "-|" + string.Join(',', flags));
            foreach (var node in nodes) lines.Add(head + node + "|" + string.Join(',', flags));
        }
        foreach (var a in result.Element("actions")?.Elements() ?? [])
        {
            if (a.Name == "node_action") lines.Add($"T|{a.Attribute("task")?.Value}|node|{a.Attribute("node")?.Value}|-|-|-");
            if (a.Name != "rsc_action") continue;
            string V(string name) => (string?)a.Attribute(name) ?? "-";
            var from = (string?)a.Attribute("source") ?? V("node");
            lines.Add($"T|{V("action")}|{Name((string?)a.Attribute("resource"))}|{from}|{V("dest")}|{V("role")}|{V("next-role")}"
                + ((string?)a.Attribute("blocked") == "true" ? "|blocked" : ""));
        }
        // Only the actions themselves: a synapse's inputs repeat the actions it waits for.
        foreach (var e in graph.Elements("synapse").Elements("action_set").Elements("crm_event").Where(e => (string?)e.Attribute("operation") == "stonith"))
        {
            var action = e.Element("attributes")?.Attribute("CRM_meta_stonith_action")?.Value ?? "reboot";
            lines.Add($"F|{e.Attribute("on_node")?.Value}|{action}");
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Primitive, group and clone ids under anonymous (unique=false) clones.</summary>
    private static void AddAnonymous(XElement status, HashSet<string> into)
    {
        foreach (var clone in status.Descendants("clone").Where(c => (string?)c.Attribute("unique") == "false"))
        {
            into.Add(clone.Attribute("id")!.Value);
            foreach (var d in clone.Descendants().Where(d => d.Name == "resource" || d.Name == "group"))
                if ((string?)d.Attribute("id") is { } id) into.Add(id.Split(':')[0]);
        }
    }
}
