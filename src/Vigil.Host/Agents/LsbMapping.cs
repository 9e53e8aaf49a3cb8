using System.Security;
using System.Text;

namespace Vigil.Host.Agents;

/// <summary>LSB init scripts as Pacemaker runs them (services_lsb.c), pure.</summary>
public static class LsbMapping
{
    /// <summary>The init-script action for an OCF-style action: monitor (probe or recurring) runs <c>status</c>.</summary>
    public static string ScriptAction(string action) => action == "monitor" ? "status" : action;

    /// <summary>Maps an init script's exit code to the OCF code (services__lsb2ocf).</summary>
    public static int ToOcf(string action, int exitCode)
    {
        if (action is "monitor" or "status")
        {
            return exitCode switch
            {
                0 => OcfCode.Success,
                // 1: dead, pid file exists; 2: dead, lock file exists; 3: not running.
                1 or 2 or 3 => OcfCode.NotRunning,
                150 => OcfCode.ErrInstalled,
                151 => OcfCode.ErrPerm,
                _ => OcfCode.ErrGeneric,
            };
        }
        return exitCode is >= 0 and <= 7 ? exitCode : OcfCode.ErrGeneric;
    }

    /// <summary>The fields of the <c>### BEGIN INIT INFO</c> block (continuation lines joined).</summary>
    public static Dictionary<string, string> InitInfo(string script)
    {
        var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        bool inside = false;
        string? last = null;
        foreach (var raw in script.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("### BEGIN INIT INFO", StringComparison.Ordinal)) { inside = true; continue; }
            if (!inside) continue;
            if (line.StartsWith("### END INIT INFO", StringComparison.Ordinal)) break;
            if (!line.StartsWith('#')) break;
            var body = line[1..];
            // "#<TAB>text" or "#  text" continues the previous field (LSB: Description may span lines).
            if (last is not null && body.Length > 1 && (body[0] == '\t' || body.StartsWith("  ", StringComparison.Ordinal)))
            {
                fields[last] = fields[last] + " " + body.Trim();
                continue;
            }
            var colon = body.IndexOf(':');
            if (colon <= 0) continue;
            last = body[..colon].Trim();
            fields[last] = body[(colon + 1)..].Trim();
        }
        return fields;
    }

    /// <summary>Meta-data synthesised from the init header, like crm_resource --show-metadata lsb:NAME.</summary>
    public static AgentMetadata Metadata(string type, string script)
    {
        var info = InitInfo(script);
        info.TryGetValue("Short-Description", out var shortDesc);
        info.TryGetValue("Description", out var longDesc);
        AgentActionInfo A(string name, string? interval = null) => new(name) { Timeout = "15s", Interval = interval };
        return new AgentMetadata(type)
        {
            Version = "0.1",
            OcfVersion = "1.1",
            ShortDescription = shortDesc ?? type,
            LongDescription = longDesc ?? shortDesc ?? type,
            Actions = [A("meta-data"), A("start"), A("stop"), A("status"), A("restart"), A("force-reload"), A("monitor", "15s")],
        };
    }

    /// <summary>The synthesised meta-data as OCF XML (for <c>vigil agent run lsb:X meta-data</c>).</summary>
    public static string MetadataXml(string type, string script)
    {
        var md = Metadata(type, script);
        var info = InitInfo(script);
        var sb = new StringBuilder();
        sb.Append("<?xml version=\"1.0\"?>\n");
        sb.Append($"<resource-agent name=\"{Esc(type)}\" version=\"0.1\">\n  <version>1.1</version>\n");
        sb.Append($"  <longdesc lang=\"en\">{Esc(md.LongDescription)}</longdesc>\n");
        sb.Append($"  <shortdesc lang=\"en\">{Esc(md.ShortDescription)}</shortdesc>\n");
        sb.Append("  <parameters/>\n  <actions>\n");
        foreach (var a in md.Actions)
            sb.Append($"    <action name=\"{a.Name}\" timeout=\"{a.Timeout}\"{(a.Interval is null ? "" : $" interval=\"{a.Interval}\"")}/>\n");
        sb.Append("  </actions>\n  <special tag=\"LSB\">\n");
        foreach (var (k, v) in info)
            sb.Append($"    <{Esc(k.ToLowerInvariant())}>{Esc(v)}</{Esc(k.ToLowerInvariant())}>\n");
        sb.Append("  </special>\n</resource-agent>\n");
        return sb.ToString();
    }

    private static string Esc(string s) => SecurityElement.Escape(s) ?? "";
}
