using System.Xml;
using System.Xml.Linq;

namespace Vigil.Host.Agents;

/// <summary>One parameter an agent declares in its meta-data.</summary>
public sealed record AgentParameter(string Name)
{
    public bool Required { get; init; }
    public bool Unique { get; init; }
    public string? UniqueGroup { get; init; }
    public bool Reloadable { get; init; }
    public bool Deprecated { get; init; }
    /// <summary>Content type as declared (string, boolean, integer, select, second, …); only a hint.</summary>
    public string Type { get; init; } = "string";
    public string? Default { get; init; }
    public IReadOnlyList<string> Options { get; init; } = [];
    public string ShortDescription { get; init; } = "";
    public string LongDescription { get; init; } = "";
}

/// <summary>One action an agent declares, with its hints (Pacemaker never reads these timeouts itself).</summary>
public sealed record AgentActionInfo(string Name)
{
    public string? Timeout { get; init; }
    public string? Interval { get; init; }
    public string? Depth { get; init; }
    public string? Role { get; init; }
    public string? StartDelay { get; init; }
    /// <summary>Fence agents: <c>automatic="1"</c> on <c>on</c> means unfencing.</summary>
    public bool Automatic { get; init; }
}

/// <summary>What an agent says about itself (OCF 1.0/1.1 meta-data, fence-agent meta-data, or synthesised for LSB).</summary>
public sealed record AgentMetadata(string Name)
{
    public string? Version { get; init; }
    public string? OcfVersion { get; init; }
    public string ShortDescription { get; init; } = "";
    public string LongDescription { get; init; } = "";
    public IReadOnlyList<AgentParameter> Parameters { get; init; } = [];
    public IReadOnlyList<AgentActionInfo> Actions { get; init; } = [];

    public AgentParameter? Parameter(string name) => Parameters.FirstOrDefault(p => p.Name == name);
    public bool HasAction(string name) => Actions.Any(a => a.Name == name);
}

/// <summary>
/// Lenient meta-data parsing: accepts OCF 1.0 and 1.1, fence-agent meta-data, and the schema-breaking
/// agents that exist in the wild (ocf:linbit:drbd has parameters without shortdesc). External DTDs
/// are never resolved. Only unreadable XML or a wrong root element is an error.
/// </summary>
public static class MetadataParser
{
    public static bool TryParse(string text, out AgentMetadata metadata, out string error)
    {
        metadata = new AgentMetadata("");
        error = "";
        // Some agents print a warning before the XML; start at the declaration or the root element.
        int start = text.IndexOf("<?xml", StringComparison.Ordinal);
        if (start < 0) start = text.IndexOf("<resource-agent", StringComparison.Ordinal);
        if (start < 0)
        {
            error = text.Trim().Length == 0 ? "the agent printed no meta-data" : "the output contains no <resource-agent> element";
            return false;
        }
        XDocument doc;
        try
        {
            var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null, IgnoreComments = true };
            using var reader = XmlReader.Create(new StringReader(text[start..]), settings);
            doc = XDocument.Load(reader, LoadOptions.SetLineInfo);
        }
        catch (XmlException e)
        {
            error = $"the meta-data is not well-formed XML (line {e.LineNumber}, column {e.LinePosition}): {e.Message}";
            return false;
        }
        var root = doc.Root;
        if (root is null || root.Name.LocalName != "resource-agent")
        {
            error = $"the meta-data root element is <{root?.Name.LocalName}>, expected <resource-agent>";
            return false;
        }
        var parameters = new List<AgentParameter>();
        foreach (var p in root.Element("parameters")?.Elements("parameter") ?? [])
        {
            var name = (string?)p.Attribute("name");
            if (string.IsNullOrEmpty(name)) continue;
            var content = p.Element("content");
            parameters.Add(new AgentParameter(name)
            {
                Required = IsOne((string?)p.Attribute("required")),
                Unique = IsOne((string?)p.Attribute("unique")),
                UniqueGroup = (string?)p.Attribute("unique-group"),
                Reloadable = IsOne((string?)p.Attribute("reloadable")),
                Deprecated = IsOne((string?)p.Attribute("deprecated")) || p.Element("deprecated") is not null,
                Type = (string?)content?.Attribute("type") ?? "string",
                Default = (string?)content?.Attribute("default"),
                Options = content?.Elements("option").Select(o => (string?)o.Attribute("value")).OfType<string>().ToList() ?? [],
                ShortDescription = Desc(p, "shortdesc"),
                LongDescription = Desc(p, "longdesc"),
            });
        }
        var actions = new List<AgentActionInfo>();
        foreach (var a in root.Element("actions")?.Elements("action") ?? [])
        {
            var name = (string?)a.Attribute("name");
            if (string.IsNullOrEmpty(name)) continue;
            actions.Add(new AgentActionInfo(name)
            {
                Timeout = (string?)a.Attribute("timeout"),
                Interval = (string?)a.Attribute("interval"),
                Depth = (string?)a.Attribute("depth"),
                Role = (string?)a.Attribute("role"),
                StartDelay = (string?)a.Attribute("start-delay"),
                Automatic = IsOne((string?)a.Attribute("automatic")),
            });
        }
        metadata = new AgentMetadata((string?)root.Attribute("name") ?? "")
        {
            Version = (string?)root.Attribute("version"),
            OcfVersion = root.Element("version")?.Value.Trim(),
            ShortDescription = Desc(root, "shortdesc") is { Length: > 0 } sd ? sd : ((string?)root.Attribute("shortdesc") ?? ""),
            LongDescription = Desc(root, "longdesc"),
            Parameters = parameters,
            Actions = actions,
        };
        return true;
    }

    private static bool IsOne(string? v) => v is not null && (v.Trim() == "1" || v.Trim().Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>The English description (or the first one), whitespace collapsed.</summary>
    private static string Desc(XElement parent, string name)
    {
        var all = parent.Elements(name).ToList();
        if (all.Count == 0) return "";
        var en = all.FirstOrDefault(e => ((string?)e.Attribute("lang") ?? "en") == "en") ?? all[0];
        return string.Join(' ', en.Value.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
    }

    /// <summary>Required parameters of <paramref name="md"/> missing from <paramref name="given"/>.</summary>
    public static IReadOnlyList<AgentParameter> MissingRequired(AgentMetadata md, IReadOnlyDictionary<string, string> given) =>
        md.Parameters.Where(p => p.Required && !p.Deprecated && !given.ContainsKey(p.Name)).ToList();
}
