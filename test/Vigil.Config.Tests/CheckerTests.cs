using Vigil.Config;
using Vigil.Config.Validation;
using Vigil.Core;

namespace Vigil.Config.Tests;

public class CheckerTests
{
    private const string NoFencing = "property stonith-enabled=false\n";

    private static IReadOnlyList<Diagnostic> Check(string crm, IAgentCatalog? agents = null) =>
        ConfigLoader.Load(crm, "t.crm", ConfigFormat.Crm, agents).Diagnostics;

    private static void AssertHas(IReadOnlyList<Diagnostic> ds, string code, Severity severity)
    {
        Assert.True(ds.Any(d => d.Code == code && d.Severity == severity), $"expected {severity} {code}, got:\n{string.Join("\n", ds)}");
    }

    [Fact]
    public void Fencing_enabled_without_a_device_is_an_error_like_crm_verify()
    {
        AssertHas(Check("primitive a ocf:heartbeat:Dummy"), "VV060", Severity.Error);
        Assert.DoesNotContain(Check("primitive a ocf:heartbeat:Dummy\nprimitive f stonith:fence_dummy"), d => d.Code == "VV060");
    }

    [Fact]
    public void Lease_self_fencing_replaces_a_device_unless_nodes_without_quorum_keep_running()
    {
        var lease = Check("property stonith-watchdog-timeout=5s\nprimitive a ocf:heartbeat:Dummy");
        Assert.DoesNotContain(lease, d => d.Code == "VV060" || d.Code == "VV067");
        AssertHas(Check("property stonith-watchdog-timeout=5s no-quorum-policy=freeze\nprimitive a ocf:heartbeat:Dummy"), "VV067", Severity.Warning);
        AssertHas(Check("property stonith-watchdog-timeout=0\nprimitive a ocf:heartbeat:Dummy"), "VV060", Severity.Error);
        Assert.DoesNotContain(Check("property stonith-watchdog-timeout=0\nprimitive a ocf:heartbeat:Dummy"), d => d.Code == "VV068");
        AssertHas(Check("property stonith-watchdog-timeout=-1\nprimitive a ocf:heartbeat:Dummy"), "VV068", Severity.Warning);
    }

    [Fact]
    public void Disabled_fencing_and_ignored_quorum_are_warned_about()
    {
        var ds = Check(NoFencing + "property no-quorum-policy=ignore\nprimitive a ocf:heartbeat:Dummy");
        AssertHas(ds, "VV061", Severity.Warning);
        AssertHas(ds, "VV062", Severity.Warning);
        Assert.DoesNotContain(ds, d => d.Severity == Severity.Error);
    }

    [Fact]
    public void A_mandatory_order_loop_is_an_error()
    {
        var ds = Check(NoFencing + "primitive a ocf:heartbeat:Dummy\nprimitive b ocf:heartbeat:Dummy\nprimitive c ocf:heartbeat:Dummy\n" +
                       "order o1 Mandatory: a b\norder o2 Mandatory: b c\norder o3 Mandatory: c a");
        var d = ds.Single(x => x.Code == "VV051");
        Assert.Contains("a → b → c → a", d.Message);
    }

    [Fact]
    public void An_optional_order_does_not_close_a_loop()
    {
        var ds = Check(NoFencing + "primitive a ocf:heartbeat:Dummy\nprimitive b ocf:heartbeat:Dummy\norder o1 Mandatory: a b\norder o2 Optional: b a");
        Assert.DoesNotContain(ds, x => x.Code == "VV051");
    }

    [Fact]
    public void Contradicting_colocations_are_an_error()
    {
        var ds = Check(NoFencing + "primitive a ocf:heartbeat:Dummy\nprimitive b ocf:heartbeat:Dummy\ncolocation c1 inf: a b\ncolocation c2 -inf: b a");
        AssertHas(ds, "VV052", Severity.Error);
    }

    [Fact]
    public void Two_monitors_with_the_same_interval_are_an_error()
    {
        var ds = Check(NoFencing + "primitive a ocf:heartbeat:Dummy op monitor interval=10s op monitor interval=10 timeout=5s");
        AssertHas(ds, "VV023", Severity.Error);
    }

    [Fact]
    public void Bad_property_values_and_typos_are_reported()
    {
        var ds = Check("property stonith-enabled=maybe no-quorum-policy=panic stonith-enabeld=false\nprimitive f stonith:fence_dummy");
        Assert.Equal(2, ds.Count(d => d.Code == "VV010"));
        var typo = ds.Single(d => d.Code == "VV012");
        Assert.Contains("stonith-enabled", typo.Hint);
    }

    [Fact]
    public void Promoted_role_on_a_plain_resource_never_applies_and_says_so()
    {
        var ds = Check(NoFencing + "primitive a ocf:heartbeat:Dummy\nprimitive b ocf:heartbeat:Dummy\ncolocation c inf: a b:Promoted");
        AssertHas(ds, "VV042", Severity.Warning);
    }

    [Fact]
    public void Fencing_levels_must_name_configured_devices()
    {
        var ds = Check("node n1\nprimitive f stonith:fence_dummy\nfencing_topology n1: f,g");
        var d = ds.Single(x => x.Code == "VV064");
        Assert.Contains("'g'", d.Message);
    }

    [Fact]
    public void Duplicate_ids_in_xml_are_found()
    {
        var xml = "<cib><configuration><crm_config><cluster_property_set id=\"o\"><nvpair id=\"o-1\" name=\"stonith-enabled\" value=\"false\"/></cluster_property_set></crm_config>" +
                  "<resources><primitive id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/><primitive id=\"a\" class=\"ocf\" provider=\"heartbeat\" type=\"Dummy\"/></resources></configuration></cib>";
        var ds = ConfigLoader.Load(xml, "t.xml", ConfigFormat.Xml).Diagnostics;
        var d = ds.Single(x => x.Code == "VV001");
        Assert.Equal(1, d.Location.Line);
    }

    private sealed class FixedCatalog : IAgentCatalog
    {
        public AgentLookup Find(string cls, string? provider, string type) => (cls, provider, type) switch
        {
            ("ocf", "heartbeat", "IPaddr2") => new AgentLookup(AgentLookupStatus.Found, new AgentDescription("ocf:heartbeat:IPaddr2",
                [new AgentParameter("ip") { Required = true }, new AgentParameter("cidr_netmask"), new AgentParameter("nic")])),
            ("ocf", "linbit", "drbd") => new AgentLookup(AgentLookupStatus.MetadataUnreadable, Reason: "meta-data lacks <shortdesc>"),
            _ => new AgentLookup(AgentLookupStatus.NotInstalled),
        };
    }

    [Fact]
    public void Agent_parameters_are_checked_against_meta_data()
    {
        var ds = Check(NoFencing + "primitive ip ocf:heartbeat:IPaddr2 params cidr_netmsk=24", new FixedCatalog());
        AssertHas(ds, "VV032", Severity.Error);
        var unknown = ds.Single(d => d.Code == "VV033");
        Assert.Contains("cidr_netmask", unknown.Hint);
    }

    [Fact]
    public void Missing_and_unreadable_agents_are_warnings_not_errors()
    {
        var ds = Check(NoFencing + "primitive w lsb:rc.httpd\nprimitive d ocf:linbit:drbd params drbd_resource=r0", new FixedCatalog());
        AssertHas(ds, "VV030", Severity.Warning);
        AssertHas(ds, "VV031", Severity.Warning);
        Assert.DoesNotContain(ds, d => d.Severity == Severity.Error);
    }

    [Fact]
    public void Legacy_properties_move_to_their_modern_place()
    {
        var loaded = ConfigLoader.Load("property default-resource-stickiness=100 expected-quorum-votes=2 stonith-enabled=false\nprimitive a ocf:heartbeat:Dummy", "t", ConfigFormat.Crm);
        var c = loaded.Value!.Configuration;
        Assert.Null(c.Property("expected-quorum-votes"));
        Assert.Equal("100", Vigil.Core.Model.AttributeSets.Get(c.ResourceDefaults, "resource-stickiness"));
        Assert.Contains(loaded.Diagnostics, d => d.Code == "VC083");
    }
}
