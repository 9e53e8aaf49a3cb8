using Vigil.Config;
using Vigil.Core;

namespace Vigil.Config.Tests;

/// <summary>Every malformed input gets an error that names the place and says what to write instead.</summary>
public class BadInputTests
{
    private static Diagnostic SingleError(string text, ConfigFormat format = ConfigFormat.Crm)
    {
        var loaded = ConfigLoader.Load(text, "t.crm", format);
        Assert.Null(loaded.Value);
        return loaded.Diagnostics.First(d => d.Severity == Severity.Error);
    }

    [Theory]
    [InlineData("primitive p ocf:heartbeat:Dummy params a=\"unterminated", "VC001", 1, 42)]
    [InlineData("primitve p ocf:heartbeat:Dummy", "VC006", 1, 1)]
    [InlineData("primitive p ocf:Dummy", "VC018", 1, 13)]
    [InlineData("primitive p bogus:x:Dummy", "VC019", 1, 13)]
    [InlineData("primitive p ocf:heartbeat:Dummy\nprimitive p ocf:heartbeat:Dummy", "VC011", 2, 11)]
    [InlineData("primitive p ocf:heartbeat:Dummy op monitor intervl=10s", "VC024", 1, 44)]
    [InlineData("group g a b", "VC034", 1, 9)]
    [InlineData("primitive a ocf:heartbeat:Dummy\nlocation l a node1", "VC043", 2, 14)]
    [InlineData("primitive a ocf:heartbeat:Dummy\nlocation l a rule 10: #uname equals n1", "VC053", 2, 30)]
    [InlineData("primitive a ocf:heartbeat:Dummy\nlocation l a rule 10: #uname eq n1 and x eq 1 or y eq 2", "VC051", 2, 47)]
    [InlineData("primitive a ocf:heartbeat:Dummy\ncolocation c inf: a", "VC066", 2, 20)]
    [InlineData("primitive a ocf:heartbeat:Dummy\norder o Sometimes: a a", "VC068", 2, 9)]
    [InlineData("primitive a ocf:heartbeat:Dummy op monitor interval=abc", "VC021", 1, 44)]
    [InlineData("primitive a ocf:heartbeat:Dummy op monitor on-fail=explode", "VC023", 1, 44)]
    [InlineData("primitive a ocf:heartbeat:Dummy\nprimitive b ocf:heartbeat:Dummy\nclone c a b", "VC032", 3, 11)]
    [InlineData("primitive a ocf:heartbeat:Dummy\ngroup g a\ngroup h a", "VC036", 3, 9)]
    public void Malformed_crm_gives_an_error_at_the_right_place(string text, string code, int line, int column)
    {
        var loaded = ConfigLoader.Load(text, "t.crm", ConfigFormat.Crm);
        var d = loaded.Diagnostics.FirstOrDefault(x => x.Code == code);
        Assert.True(d is not null, $"expected {code}, got:\n{string.Join("\n", loaded.Diagnostics)}");
        if (line > 0) Assert.Equal((line, column), (d!.Location.Line, d.Location.Column));
        Assert.False(string.IsNullOrWhiteSpace(d!.Hint ?? (d.Severity == Severity.Warning ? "w" : null)), $"{code} has no hint");
    }

    [Fact]
    public void Every_error_in_a_file_is_reported_at_once()
    {
        var text = "primitve a ocf:heartbeat:Dummy\nprimitive b ocf:Dummy\nlocation l c 100: n1\n";
        var loaded = ConfigLoader.Load(text, "t.crm", ConfigFormat.Crm);
        var codes = loaded.Diagnostics.Where(d => d.Severity == Severity.Error).Select(d => d.Code).ToList();
        Assert.Contains("VC006", codes);
        Assert.Contains("VC018", codes);
    }

    [Fact]
    public void A_reference_to_a_missing_resource_suggests_the_closest_name()
    {
        var loaded = ConfigLoader.Load("property stonith-enabled=false\nprimitive web ocf:heartbeat:Dummy\nlocation l wbe 100: n1", "t.crm", ConfigFormat.Crm);
        var d = loaded.Diagnostics.Single(x => x.Code == "VV040");
        Assert.Contains("wbe", d.Message);
        Assert.Contains("web", d.Hint);
        Assert.Equal(3, d.Location.Line);
    }

    [Theory]
    [InlineData("<cib><configuration><resources><primitive class=\"ocf\" type=\"Dummy\" provider=\"heartbeat\"/></resources></configuration></cib>", "VX004")]
    [InlineData("<cib><configuration><resources></configuration></cib>", "VX001")]
    [InlineData("<nodes/>", "VX002")]
    [InlineData("<cib/>", "VX003")]
    [InlineData("<!DOCTYPE cib [<!ENTITY x \"y\">]><cib/>", "VX001")]
    [InlineData("<cib><configuration><constraints><rsc_location id=\"l\" rsc=\"a\" score=\"lots\" node=\"n\"/></constraints></configuration></cib>", "VX005")]
    [InlineData("<cib><configuration><resources><clone id=\"c\"/></resources></configuration></cib>", "VX013")]
    public void Malformed_xml_gives_an_error_with_its_code(string xml, string code)
    {
        var d = SingleError(xml, ConfigFormat.Xml);
        Assert.Equal(code, d.Code);
    }

    [Fact]
    public void An_xml_syntax_error_names_line_and_column()
    {
        var d = SingleError("<cib>\n  <configuration>\n    <nodes>\n  </configuration>\n</cib>", ConfigFormat.Xml);
        Assert.Equal("VX001", d.Code);
        Assert.Equal(4, d.Location.Line);
    }

    [Fact]
    public void Unknown_xml_elements_are_reported_not_silently_dropped()
    {
        var loaded = ConfigLoader.Parse("<cib><configuration><resources><primitve id=\"x\"/></resources></configuration></cib>", "t.xml", ConfigFormat.Xml);
        var d = Assert.Single(loaded.Diagnostics, x => x.Code == "VX099");
        Assert.Contains("primitve", d.Message);
    }

    [Fact]
    public void The_howto_location_line_crmsh_rejects_is_read_with_a_warning_showing_the_canonical_form()
    {
        var loaded = ConfigLoader.Parse("primitive a ocf:heartbeat:Dummy\ngroup my_services a\nlocation prefer-node1 my_services rule 50: node1", "t.crm", ConfigFormat.Crm);
        Assert.False(loaded.HasErrors, string.Join("\n", loaded.Diagnostics));
        var w = Assert.Single(loaded.Diagnostics, d => d.Code == "VC047");
        Assert.Contains("location prefer-node1 my_services 50: node1", w.Hint);
        var loc = Assert.IsType<Vigil.Core.Model.LocationConstraint>(loaded.Value!.Configuration.Constraints.Single());
        Assert.Equal(("node1", 50), (loc.Node, loc.Score!.Value.Value));
    }

    [Fact]
    public void Crm_configure_prefix_copied_from_a_shell_is_accepted_with_a_warning()
    {
        var loaded = ConfigLoader.Parse("crm configure primitive ClusterIP ocf:heartbeat:IPaddr2 params ip=192.168.10.190 cidr_netmask=24 op monitor interval=30s", "t.crm", ConfigFormat.Crm);
        Assert.False(loaded.HasErrors);
        Assert.Contains(loaded.Diagnostics, d => d.Code == "VC003");
        Assert.Equal("ClusterIP", loaded.Value!.Configuration.Resources.Single().Id);
    }

    [Fact]
    public void Shell_escaped_uname_reads_like_the_prompt_form()
    {
        var a = ConfigLoader.Parse("primitive a ocf:heartbeat:Dummy\nlocation l a rule 10: \\#uname eq n1", "t", ConfigFormat.Crm);
        var b = ConfigLoader.Parse("primitive a ocf:heartbeat:Dummy\nlocation l a rule 10: #uname eq n1", "t", ConfigFormat.Crm);
        Assert.Equal(Vigil.Config.Xml.CibXmlWriter.Write(b.Value!), Vigil.Config.Xml.CibXmlWriter.Write(a.Value!));
    }

    [Fact]
    public void Repeated_property_lines_merge_and_a_changed_value_warns()
    {
        var loaded = ConfigLoader.Parse("property stonith-enabled=false\nproperty no-quorum-policy=ignore\nproperty stonith-enabled=true", "t", ConfigFormat.Crm);
        var set = Assert.Single(loaded.Value!.Configuration.Properties);
        Assert.Equal("true", set.Get("stonith-enabled"));
        Assert.Equal("ignore", set.Get("no-quorum-policy"));
        Assert.Contains(loaded.Diagnostics, d => d.Code == "VC026");
    }
}
