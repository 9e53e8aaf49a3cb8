using Vigil.Config.Crm;
using Vigil.Config.Haresources;
using Vigil.Config.Validation;
using Vigil.Config.Xml;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config;

/// <summary>The single front door for configuration text in any language.</summary>
public static class ConfigLoader
{
    /// <summary>Parses only: syntax and structure.</summary>
    public static Parsed<Cib> Parse(string text, string source, ConfigFormat format) => format switch
    {
        ConfigFormat.Xml => CibXmlReader.Read(text, source),
        ConfigFormat.Haresources => HaresourcesImporter.Import(text, source),
        _ => CrmParser.Parse(text, source),
    };

    /// <summary>Parses and checks (like crm_verify): all diagnostics of both steps, errors first by position.</summary>
    public static Parsed<Cib> Load(string text, string source, ConfigFormat format, IAgentCatalog? agents = null)
    {
        var parsed = Parse(text, source, format);
        if (parsed.Value is null) return parsed;
        var checks = ConfigChecker.Check(parsed.Value.Configuration, source, parsed.Locations, agents);
        var all = parsed.Diagnostics.Concat(checks)
            .OrderBy(d => d.Location.Line).ThenBy(d => d.Location.Column).ToList();
        var hasErrors = all.Any(d => d.Severity == Severity.Error);
        return new Parsed<Cib>(hasErrors ? null : parsed.Value, all) { Locations = parsed.Locations };
    }

    /// <summary>Writes the configuration in the given language (crm or xml).</summary>
    public static (string Text, IReadOnlyList<Diagnostic> Diagnostics) Write(Cib cib, ConfigFormat format) => format switch
    {
        ConfigFormat.Xml => (CibXmlWriter.Write(cib), []),
        ConfigFormat.Crm => CrmWriter.Write(cib.Configuration),
        _ => throw new ArgumentException("haresources can be imported but not written", nameof(format)),
    };
}
