using Vigil.Config;
using Vigil.Config.Xml;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Tests;

public class SeedTests
{
    public static TheoryData<string> Seeds => new() { "seed-001.crm", "seed-002.crm", "seed-002.haresources", "seed-003.haresources" };

    private static Parsed<Cib> Load(string name) =>
        ConfigLoader.Load(TestFiles.Example(name), name, ConfigFormats.Detect(name, TestFiles.Example(name)));

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Seed_configuration_loads_without_errors(string name)
    {
        var loaded = Load(name);
        Assert.False(loaded.HasErrors, string.Join("\n", loaded.Diagnostics));
        Assert.NotNull(loaded.Value);
        Assert.NotEmpty(loaded.Value!.Configuration.Resources);
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Exported_xml_of_the_seed_passes_pacemakers_crm_verify(string name)
    {
        var cib = Load(name).Value!;
        var xml = CibXmlWriter.Write(cib);
        var (rc, output) = TestFiles.CrmVerify(xml);
        Assert.True(rc == 0, $"crm_verify exit {rc}:\n{output}\n{xml}");
    }

    [Theory]
    [InlineData("seed-001.crm")]
    [InlineData("seed-002.crm")]
    public void Crm_round_trip_of_the_seed_is_stable(string name)
    {
        var first = ConfigLoader.Write(Load(name).Value!, ConfigFormat.Crm).Text;
        var reparsed = ConfigLoader.Load(first, "first", ConfigFormat.Crm);
        Assert.False(reparsed.HasErrors, string.Join("\n", reparsed.Diagnostics) + "\n" + first);
        var second = ConfigLoader.Write(reparsed.Value!, ConfigFormat.Crm).Text;
        Assert.Equal(first, second);
        // And the meaning is the same: both produce identical XML.
        Assert.Equal(CibXmlWriter.Write(Load(name).Value!), CibXmlWriter.Write(reparsed.Value!));
    }

    [Fact]
    public void Seed_001_has_the_structure_the_howto_describes()
    {
        var c = Load("seed-001.crm").Value!.Configuration;
        var ms = Assert.IsType<Clone>(c.Resources.Single(r => r.Id == "ms_drbd"));
        Assert.True(ms.IsPromotable);
        Assert.True(ms.IsLegacyMaster);
        var group = Assert.IsType<Group>(c.Resources.Single(r => r.Id == "lvm_grp"));
        Assert.Equal(["fs_kvm_res", "res_virtdom_debian9"], group.Children.Select(x => x.Id));
        var col = Assert.IsType<ColocationConstraint>(c.Constraints.Single(k => k.Id == "apache-deps"));
        Assert.Equal(("ms_drbd", "Master", "lvm_grp"), (col.Resource, col.ResourceRole, col.WithResource));
        var loc = Assert.IsType<LocationConstraint>(c.Constraints.Single(k => k.Id == "drbd_on_node1"));
        var rule = Assert.Single(loc.Rules);
        Assert.Equal("master", rule.Role);
        Assert.Equal(100, rule.Score!.Value.Value);
        Assert.Equal("false", c.Property("stonith-enabled"));
    }

    [Fact]
    public void Haresources_of_seed_002_becomes_a_group_following_a_promoted_drbd_clone()
    {
        var c = Load("seed-002.haresources").Value!.Configuration;
        var group = Assert.Single(c.Resources.OfType<Group>());
        Assert.Equal(["ocf:heartbeat:IPaddr", "ocf:heartbeat:Filesystem", "lsb:rc.httpd"], group.Children.Select(p => p.Agent));
        var ip = group.Children[0].InstanceAttributes.Flatten();
        Assert.Equal("192.168.10.190", ip["ip"]);
        Assert.Equal("24", ip["cidr_netmask"]);
        var fs = group.Children[1].InstanceAttributes.Flatten();
        Assert.Equal(("/dev/drbd0", "/claster/drbd0", "ext4"), (fs["device"], fs["directory"], fs["fstype"]));
        var drbd = Assert.Single(c.Resources.OfType<Clone>());
        Assert.True(drbd.IsPromotable);
        Assert.Equal("r0", drbd.Child.InstanceAttributes.Get("drbd_resource"));
        var loc = Assert.Single(c.Constraints.OfType<LocationConstraint>());
        Assert.Equal((group.Id, "node1"), (loc.Resource, loc.Node));
        Assert.Contains(c.Constraints.OfType<OrderConstraint>(), o => o.First == drbd.Id && o.FirstAction == "promote" && o.Then == group.Id);
    }

    [Fact]
    public void Haresources_of_seed_003_gives_each_line_a_group_on_its_node()
    {
        var c = Load("seed-003.haresources").Value!.Configuration;
        Assert.Equal(["skylla", "charybda"], c.Nodes.Select(n => n.Uname));
        var groups = c.Resources.OfType<Group>().ToList();
        Assert.Equal(4, groups.Count);
        var prefs = c.Constraints.OfType<LocationConstraint>().Select(l => l.Node).ToList();
        Assert.Equal(["skylla", "skylla", "charybda", "charybda"], prefs);
    }
}
