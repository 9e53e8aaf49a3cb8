namespace Vigil.Config;

/// <summary>The configuration languages Vigil reads and writes.</summary>
public enum ConfigFormat
{
    /// <summary>crm shell syntax (crmsh's <c>crm configure</c> language).</summary>
    Crm,
    /// <summary>Pacemaker CIB XML.</summary>
    Xml,
    /// <summary>Heartbeat v1 <c>/etc/ha.d/haresources</c> lines (import only).</summary>
    Haresources,
}

public static class ConfigFormats
{
    public static bool TryParse(string? text, out ConfigFormat format)
    {
        switch (text?.Trim().ToLowerInvariant())
        {
            case "crm": format = ConfigFormat.Crm; return true;
            case "xml" or "cib": format = ConfigFormat.Xml; return true;
            case "haresources": format = ConfigFormat.Haresources; return true;
            default: format = ConfigFormat.Crm; return false;
        }
    }

    /// <summary>Guesses the language from the file name and its first non-blank character.</summary>
    public static ConfigFormat Detect(string source, string text)
    {
        var name = source.Replace('\\', '/');
        name = name[(name.LastIndexOf('/') + 1)..];
        if (name.Equals("haresources", StringComparison.OrdinalIgnoreCase) || name.EndsWith(".haresources", StringComparison.OrdinalIgnoreCase))
            return ConfigFormat.Haresources;
        if (name.EndsWith(".xml", StringComparison.OrdinalIgnoreCase)) return ConfigFormat.Xml;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c) || c == '\uFEFF') continue;
            return c == '<' ? ConfigFormat.Xml : ConfigFormat.Crm;
        }
        return ConfigFormat.Crm;
    }
}
