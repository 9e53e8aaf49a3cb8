using System.Diagnostics;
using System.Text.RegularExpressions;
using Vigil.Control;
using Vigil.Core.Model;

namespace Vigil.Tests;

/// <summary>`vigil configure` with changed parameters in a running 3-process cluster on 127.0.0.1.</summary>
[Collection("cluster")]
public class ParameterChangeTests
{
    private static string Crm(string fake, string stickiness, string eFake = "1") => $"""
        property stonith-enabled=false
        primitive d vigil:Dummy params fake={fake} meta resource-stickiness={stickiness} op monitor interval=2s
        primitive e vigil:Dummy params fake={eFake} meta resource-stickiness=100 op monitor interval=2s
        """;

    /// <summary>The replicated state as a node serves it (null when it does not answer).</summary>
    private static ClusterState? State(LocalCluster c, string node)
    {
        var target = c.Target(node);
        using var http = target.Client(TimeSpan.FromSeconds(2));
        try { return ClusterState.FromSnapshot(http.GetStringAsync(target.Url("/v1/cib")).GetAwaiter().GetResult()); }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return null; }
    }

    private static LrmOp? Op(ClusterState s, string node, string rsc, string id) =>
        s.Nodes.FirstOrDefault(n => n.Uname == node)?.Resources.FirstOrDefault(r => r.Id == rsc)?.Ops.FirstOrDefault(o => o.Id == id);

    /// <summary>Running where it was started, and its recurring monitor recorded after that start: nothing left to do.</summary>
    private static bool Settled(ClusterState s, string node, string rsc, int afterCallId) =>
        Op(s, node, rsc, $"{rsc}_last_0") is { Operation: "start" } start && start.CallId > afterCallId
        && Op(s, node, rsc, $"{rsc}_monitor_2000") is { } monitor && monitor.CallId > start.CallId;

    /// <summary>How often the leaders dispatched <paramref name="task"/> of <paramref name="rsc"/>, from every node's log.</summary>
    private static int Dispatched(LocalCluster c, string task, string rsc) =>
        c.Members.Keys.Select(n => Path.Combine(c.Dir, $"{n}.log")).Where(File.Exists)
            .Sum(f => Regex.Count(File.ReadAllText(f), $@": dispatch {task} {rsc} on "));

    private static ClusterState WaitForState(LocalCluster c, Func<ClusterState, bool> condition, TimeSpan within, string what)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < within)
        {
            if (c.Status("n1")?.Leader is { } leader && State(c, leader) is { } s && condition(s)) return s;
            Thread.Sleep(100);
        }
        throw new TimeoutException($"{what} did not happen within {within}; logs in {c.Dir}:\n{c.Logs()}");
    }

    [Fact]
    public void A_changed_parameter_restarts_the_resource_once_in_place_and_other_changes_restart_nothing()
    {
        using var c = new LocalCluster(3);
        c.StartAll();
        c.WaitFor(s => s.Leader is not null && s.Nodes.Count(n => n.Online) == 3, TimeSpan.FromSeconds(60), "cluster formation");
        ClusterTests.Configure(c, "n1", Crm("1", "100"), 0);
        var status = c.WaitFor(s => s.Resources.Count == 2 && s.Resources.All(r => r.Role == "Started" && r.Nodes.Count == 1), TimeSpan.FromSeconds(30), "d and e start");
        string dNode = status.Resources.Single(r => r.Id == "d").Nodes[0], eNode = status.Resources.Single(r => r.Id == "e").Nodes[0];
        var before = WaitForState(c, s => Settled(s, dNode, "d", 0) && Settled(s, eNode, "e", 0), TimeSpan.FromSeconds(20), "monitors recorded");
        var dStart = Op(before, dNode, "d", "d_last_0")!;
        var eStart = Op(before, eNode, "e", "e_last_0")!;
        Assert.NotNull(dStart.Attribute("op-digest"));
        var (dStarts, dStops, eStarts) = (Dispatched(c, "start", "d"), Dispatched(c, "stop", "d"), Dispatched(c, "start", "e"));

        // A parameter of d changes: d restarts where it runs, once, and records the new digest.
        ClusterTests.Configure(c, "n2", Crm("2", "100"), 0);
        var after = WaitForState(c, s => Settled(s, dNode, "d", dStart.CallId), TimeSpan.FromSeconds(20), "d restarted");
        var restarted = Op(after, dNode, "d", "d_last_0")!;
        Assert.NotEqual(dStart.Attribute("op-digest"), restarted.Attribute("op-digest"));
        Thread.Sleep(2500);   // a restart loop would dispatch again within this time (the monitor interval is 2 s)
        var quiet = State(c, c.Status("n1")!.Leader!)!;
        Assert.Equal(restarted.CallId, Op(quiet, dNode, "d", "d_last_0")!.CallId);
        Assert.Equal((dStarts + 1, dStops + 1, eStarts), (Dispatched(c, "start", "d"), Dispatched(c, "stop", "d"), Dispatched(c, "start", "e")));
        Assert.Equal(eStart.CallId, Op(quiet, eNode, "e", "e_last_0")!.CallId);

        // A meta attribute only: nothing restarts.
        var version = c.Status("n1")!.Version;
        ClusterTests.Configure(c, "n3", Crm("2", "200"), 0);
        c.WaitFor(s => s.Version > version, TimeSpan.FromSeconds(10), "the meta change is committed");
        Thread.Sleep(2500);
        var meta = State(c, c.Status("n1")!.Leader!)!;
        Assert.Equal("200", meta.Configuration.AllResources().OfType<Primitive>().Single(p => p.Id == "d").MetaAttributes.Get("resource-stickiness"));
        Assert.Equal(restarted.CallId, Op(meta, dNode, "d", "d_last_0")!.CallId);
        Assert.Equal(eStart.CallId, Op(meta, eNode, "e", "e_last_0")!.CallId);
        Assert.Equal((dStarts + 1, dStops + 1, eStarts), (Dispatched(c, "start", "d"), Dispatched(c, "stop", "d"), Dispatched(c, "start", "e")));
    }
}
