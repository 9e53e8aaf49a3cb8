using Vigil.Config.Xml;
using Vigil.Core.Model;

namespace Vigil.Scheduler.Tests;

/// <summary>Small CIBs written inline for unit tests.</summary>
internal static class Cibs
{
    public static Cib Parse(string xml)
    {
        var parsed = CibXmlReader.Read(xml, "test.xml");
        return parsed.Value ?? throw new InvalidOperationException(string.Join("; ", parsed.Diagnostics));
    }

    public static string Node(string id) => $"""<node id="{id}" uname="{id}" type="member"/>""";

    public static string OnlineState(string id, string lrm = "", string attrs = "") =>
        $"""<node_state id="{id}" uname="{id}" in_ccm="true" crmd="online" join="member" expected="member">{(attrs.Length > 0 ? $"<transient_attributes id=\"{id}\"><instance_attributes id=\"st-{id}\">{attrs}</instance_attributes></transient_attributes>" : "")}<lrm id="{id}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>""";

    public static string LostState(string id, string lrm = "") =>
        $"""<node_state id="{id}" uname="{id}" in_ccm="false" crmd="offline" join="down" expected="member"><lrm id="{id}"><lrm_resources>{lrm}</lrm_resources></lrm></node_state>""";

    /// <summary>Pacemaker's op-digest of an empty parameter set (" &lt;parameters/&gt;\n"): the history of a resource without parameters.</summary>
    public const string NoParametersDigest = "f2317cad3d54cec5d7d7aa7d0bf35cf8";

    /// <summary>History of a resource that was started successfully (rc=0) on a node.</summary>
    public static string Running(string rsc, string node, int callId = 2, string type = "Dummy") =>
        $"""<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="{type}"><lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" transition-key="1:1:0:abc" transition-magic="0:0;1:1:0:abc" call-id="{callId}" rc-code="0" op-status="0" interval="0" on_node="{node}" op-digest="{NoParametersDigest}"/></lrm_resource>""";

    /// <summary>History of a recurring monitor that found the resource dead (rc=7) after a start.</summary>
    public static string FailedMonitor(string rsc, string node) =>
        $"""<lrm_resource id="{rsc}" class="ocf" provider="heartbeat" type="Dummy"><lrm_rsc_op id="{rsc}_last_0" operation_key="{rsc}_start_0" operation="start" transition-key="1:1:0:abc" transition-magic="0:0;1:1:0:abc" call-id="2" rc-code="0" op-status="0" interval="0" on_node="{node}" op-digest="{NoParametersDigest}"/><lrm_rsc_op id="{rsc}_last_failure_0" operation_key="{rsc}_monitor_10000" operation="monitor" transition-key="2:1:0:abc" transition-magic="0:7;2:1:0:abc" call-id="3" rc-code="7" op-status="0" interval="10000" on_node="{node}"/></lrm_resource>""";

    public static string Primitive(string id, string meta = "", string type = "Dummy", string cls = "ocf") =>
        $"""<primitive id="{id}" class="{cls}" {(cls == "ocf" ? "provider=\"heartbeat\"" : "")} type="{type}">{(meta.Length > 0 ? $"<meta_attributes id=\"{id}-meta\">{meta}</meta_attributes>" : "")}</primitive>""";

    public static string Nv(string name, string value) => $"""<nvpair id="nv-{name}-{value}-{Guid.NewGuid():N}" name="{name}" value="{value}"/>""";

    public static string Cib(string nodes, string resources, string constraints = "", string status = "", string properties = "", bool quorum = true, string rscDefaults = "", string schema = "pacemaker-3.0") =>
        $"""
        <cib validate-with="{schema}" epoch="1" num_updates="1" admin_epoch="0" have-quorum="{(quorum ? "1" : "0")}" dc-uuid="n1">
          <configuration>
            <crm_config><cluster_property_set id="opts">{properties}</cluster_property_set></crm_config>
            <nodes>{nodes}</nodes>
            <resources>{resources}</resources>
            <constraints>{constraints}</constraints>{(rscDefaults.Length > 0 ? $"<rsc_defaults><meta_attributes id=\"rsc-defaults\">{rscDefaults}</meta_attributes></rsc_defaults>" : "")}
          </configuration>
          <status>{status}</status>
        </cib>
        """;

    public static IReadOnlyList<string> Record(string xml) =>
        RecordWriter.Lines(Scheduler.Run(Parse(xml), Corpus.Now), withOrderings: true);
}
