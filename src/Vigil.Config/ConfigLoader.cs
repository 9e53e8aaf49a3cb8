using Vigil.Config.Xml;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config;

/// <summary>The single front door for configuration text in any language.</summary>
public static class ConfigLoader
{
    public static Parsed<Cib> Load(string text, string source, ConfigFormat format) => format switch
    {
        ConfigFormat.Xml => CibXmlReader.Read(text, source),
        _ => new Parsed<Cib>(null, [new Diagnostic(Severity.Error, "VC000", $"{format} input is not supported yet", new SourceLocation(source, 0, 0))]),
    };
}
