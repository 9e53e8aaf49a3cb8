using Vigil.SystemTests.Testbed;
using Xunit.Abstractions;

namespace Vigil.SystemTests;

public sealed class ClusterInNamespacesTests(ITestOutputHelper output)
{
    [Fact]
    public void Three_nodes_in_namespaces_form_a_cluster_and_the_floating_ip_answers_the_client()
    {
        using var bed = new Testbed.Testbed(3, output.WriteLine);
        var holder = Scenario.Form(bed, TimeSpan.FromSeconds(60));

        using var probe = new VipProbe(bed, Testbed.Testbed.Vip, deadlineSeconds: 30);
        var reply = probe.FirstReplyAfter(Testbed.Testbed.PreciseNow(), TimeSpan.FromSeconds(10));
        Assert.True(reply is not null, $"the floating IP does not answer the client\n{bed.Diagnostics()}");
        // The answer comes from the node the cluster says runs the group, and from no other.
        Assert.Equal(bed.NodeMac(holder), bed.ClientArp(Testbed.Testbed.Vip));
        foreach (var n in bed.Names.Where(n => n != holder))
            Assert.DoesNotContain(Testbed.Testbed.Vip, Sh.Must("ip", "-n", bed.NodeNs(n), "-4", "addr", "show", "dev", "eth0"));
        Assert.Empty(bed.DoubleActivity());
        // The witness recorded the starts on the holder.
        var events = UniquenessChecker.Parse(File.ReadAllLines(bed.SideChannel), bed.SideChannel);
        Assert.Contains(events, e => e is { Kind: "start", Resource: "vip" } && e.Node == holder);
        Assert.Contains(events, e => e is { Kind: "start", Resource: "dummy" } && e.Node == holder);
    }

    [Fact]
    public void Teardown_removes_every_namespace_and_process_of_the_testbed()
    {
        string id;
        List<string> namespaces;
        using (var bed = new Testbed.Testbed(2, output.WriteLine))
        {
            id = bed.Id;
            bed.StartAll();
            namespaces = Sh.Must("ip", "netns", "list").Split('\n').Where(l => l.StartsWith(id + "-", StringComparison.Ordinal)).ToList();
            Assert.Equal(3, namespaces.Count);
        }
        Assert.DoesNotContain(Sh.Must("ip", "netns", "list").Split('\n'), l => l.StartsWith(id + "-", StringComparison.Ordinal));
        Assert.False(Directory.Exists(Path.Combine(Path.GetTempPath(), id)));
    }
}
