using System.Net;
using Vigil.Config.Crm;
using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Haresources;

/// <summary>
/// Imports Heartbeat v1 <c>/etc/ha.d/haresources</c>: each line "node res1 res2::arg …" becomes a group
/// (started in line order) with a location preference for that node. Heartbeat scripts with a modern
/// OCF equivalent map to it (IPaddr, IPaddr2, Filesystem, …); <c>drbddisk::r0</c> becomes a promotable
/// ocf:linbit:drbd clone that the group follows; anything else is an LSB init script of that name.
/// </summary>
public static class HaresourcesImporter
{
    /// <summary>Heartbeat script → OCF agent and the names of its positional arguments.</summary>
    private static readonly Dictionary<string, (string Type, string[] Params)> Known = new(StringComparer.Ordinal)
    {
        ["IPaddr"] = ("IPaddr", ["ip"]),
        ["IPaddr2"] = ("IPaddr2", ["ip"]),
        ["IPsrcaddr"] = ("IPsrcaddr", ["ipaddress"]),
        ["Filesystem"] = ("Filesystem", ["device", "directory", "fstype", "options"]),
        ["MailTo"] = ("MailTo", ["email", "subject"]),
        ["apache"] = ("apache", ["configfile"]),
        ["LVM"] = ("LVM", ["volgrpname"]),
        ["Xinetd"] = ("Xinetd", ["service"]),
        ["SendArp"] = ("SendArp", ["ip", "nic"]),
        ["Delay"] = ("Delay", ["startdelay", "stopdelay"]),
    };

    /// <summary>Location score for the line's node: with Heartbeat's auto_failback the group returns there.</summary>
    public const int PreferenceScore = 100;

    public static Parsed<Cib> Import(string text, string source = "<input>")
    {
        var diagnostics = new List<Diagnostic>();
        var ids = new IdGenerator();
        var nodes = new List<Node>();
        var resources = new List<Resource>();
        var constraints = new List<Constraint>();
        var lines = JoinLines(text);
        foreach (var (line, lineNo) in lines)
        {
            var words = SplitWords(line);
            if (words.Count == 0) continue;
            var (nodeName, nodeCol) = words[0];
            if (!nodeName.All(ch => char.IsLetterOrDigit(ch) || ch is '-' or '.' or '_'))
            {
                diagnostics.Add(new Diagnostic(Severity.Error, "VH001", $"'{nodeName}' is not a node name", new SourceLocation(source, lineNo, nodeCol))
                {
                    Hint = "each haresources line starts with the name of the node that normally runs it: node1 IPaddr::10.0.0.10/24 apache",
                });
                continue;
            }
            if (!nodes.Any(n => n.Uname == nodeName))
            {
                ids.Claim(nodeName);
                nodes.Add(new Node(nodeName, nodeName));
            }
            if (words.Count == 1)
            {
                diagnostics.Add(new Diagnostic(Severity.Warning, "VH002", $"the line for '{nodeName}' names no resources", new SourceLocation(source, lineNo, nodeCol))
                {
                    Hint = "add resources after the node name or remove the line",
                });
                continue;
            }
            // Resolve words into (script, args) items.
            var items = new List<(string Script, List<string> Args, int Col, string Text)>();
            for (int i = 1; i < words.Count; i++)
            {
                var (word, col) = words[i];
                var parts = word.Split("::");
                if (parts.Length == 1 && IPAddress.TryParse(word.Split('/')[0], out _) && word.Contains('.'))
                {
                    items.Add(("IPaddr", [word], col, word));
                    continue;
                }
                if (parts.Length == 1 && word.Contains('/') && items.Count > 0)
                {
                    var prev = items[^1];
                    diagnostics.Add(new Diagnostic(Severity.Warning, "VH003",
                        $"'{word}' cannot be a script name; read as the argument of '{prev.Script}'", new SourceLocation(source, lineNo, col))
                    {
                        Hint = $"write {prev.Text}::{word}",
                    });
                    prev.Args.Add(word);
                    items[^1] = prev with { Text = $"{prev.Text}::{word}" };
                    continue;
                }
                if (parts[0].Length == 0 || parts.Any(p => p.Length == 0))
                {
                    diagnostics.Add(new Diagnostic(Severity.Error, "VH004", $"'{word}' has an empty part between '::'", new SourceLocation(source, lineNo, col))
                    {
                        Hint = "write script::arg1::arg2",
                    });
                    continue;
                }
                items.Add((parts[0], parts.Skip(1).ToList(), col, word));
            }

            var members = new List<Primitive>();
            var drbd = new List<Clone>();
            for (int itemIndex = 0; itemIndex < items.Count; itemIndex++)
            {
                var (script, args, col, _) = items[itemIndex];
                var loc = new SourceLocation(source, lineNo, col);
                if (script == "drbddisk" && args.Count == 1 && !args[0].Contains('/'))
                {
                    var res = args[0];
                    var pid = ids.Next($"drbd_{res}");
                    var prim = new Primitive(pid, "ocf", "linbit", "drbd")
                    {
                        InstanceAttributes = [Set(ids, AttributeSetKind.Instance, pid, "instance_attributes", [("drbd_resource", res)])],
                        Operations =
                        [
                            new Operation(ids.Next($"{pid}-monitor-29s"), "monitor", "29s") { Attributes = [new("role", "Promoted")] },
                            new Operation(ids.Next($"{pid}-monitor-31s"), "monitor", "31s") { Attributes = [new("role", "Unpromoted")] },
                        ],
                    };
                    var cid = ids.Next($"ms_drbd_{res}");
                    drbd.Add(new Clone(cid, prim)
                    {
                        MetaAttributes = [Set(ids, AttributeSetKind.Meta, cid, "meta_attributes",
                            [("promotable", "true"), ("promoted-max", "1"), ("promoted-node-max", "1"), ("clone-max", "2"), ("clone-node-max", "1"), ("notify", "true")])],
                    });
                    diagnostics.Add(new Diagnostic(Severity.Info, "VH010",
                        $"drbddisk::{res} became the promotable clone '{cid}' of ocf:linbit:drbd; the group runs where it is promoted, after the promotion", loc));
                    continue;
                }
                string cls = "lsb", type = script;
                string? provider = null;
                var pairs = new List<(string, string)>();
                if (Known.TryGetValue(script, out var known))
                {
                    cls = "ocf"; provider = "heartbeat"; type = known.Type;
                    var names = known.Params;
                    if ((script is "IPaddr" or "IPaddr2") && args.Count >= 1)
                    {
                        // IPaddr::10.0.0.10/24/eth0/10.0.0.255
                        var ipParts = args[0].Split('/');
                        string[] ipNames = ["ip", "cidr_netmask", "nic", "broadcast"];
                        for (int k = 0; k < ipParts.Length && k < ipNames.Length; k++) pairs.Add((ipNames[k], ipParts[k]));
                        args = args.Skip(1).ToList();
                        names = [];
                    }
                    for (int k = 0; k < args.Count; k++)
                    {
                        if (k < names.Length) pairs.Add((names[k], args[k]));
                        else diagnostics.Add(new Diagnostic(Severity.Warning, "VH005", $"{script} takes {names.Length} argument(s); '{args[k]}' was ignored", loc));
                    }
                    if (script == "Filesystem" && pairs.Any(p => p.Item1 == "options" && p.Item2 == "defaults"))
                        pairs.RemoveAll(p => p.Item1 == "options");
                }
                else
                {
                    if (args.Count > 0)
                    {
                        diagnostics.Add(new Diagnostic(Severity.Warning, "VH006",
                            $"'{script}' is taken as the init script /etc/init.d/{script}, which receives no arguments; '{string.Join("::", args)}' is kept as parameters 1, 2, … but not passed", loc)
                        {
                            Hint = $"replace it with an OCF agent that takes parameters, e.g. primitive {script} ocf:heartbeat:<agent> params …",
                        });
                        for (int k = 0; k < args.Count; k++) pairs.Add(((k + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), args[k]));
                    }
                    else if (!script.Contains('.') && itemIndex > 0)
                    {
                        var prevText = items[itemIndex - 1].Text;
                        diagnostics.Add(new Diagnostic(Severity.Info, "VH007",
                            $"'{script}' is read as its own init script /etc/init.d/{script}", loc)
                        {
                            Hint = $"if it is an argument of the resource before it, write {prevText}::{script}",
                        });
                    }
                }
                var baseId = args.Count > 0 || pairs.Count > 0 ? $"{type}_{pairs.Select(p => p.Item2).FirstOrDefault() ?? args[0]}" : type;
                var id = ids.Next(SanitizeId(baseId));
                var monitorInterval = cls == "lsb" ? "30s" : "10s";
                members.Add(new Primitive(id, cls, provider, type)
                {
                    InstanceAttributes = pairs.Count == 0 ? [] : [Set(ids, AttributeSetKind.Instance, id, "instance_attributes", pairs)],
                    Operations = [new Operation(ids.Next($"{id}-monitor-{monitorInterval}"), "monitor", monitorInterval)],
                });
            }

            resources.AddRange(drbd);
            if (members.Count > 0)
            {
                var gid = ids.Next($"group_{nodeName}");
                resources.Add(new Group(gid) { Children = members });
                foreach (var ms in drbd)
                {
                    constraints.Add(new ColocationConstraint(ids.Next($"{gid}-with-{ms.Id}"))
                    {
                        Score = Score.Infinity, Resource = gid, WithResource = ms.Id, WithResourceRole = "Promoted",
                    });
                    constraints.Add(new OrderConstraint(ids.Next($"{gid}-after-{ms.Id}"))
                    {
                        Kind = "Mandatory", First = ms.Id, FirstAction = "promote", Then = gid, ThenAction = "start",
                    });
                }
                constraints.Add(new LocationConstraint(ids.Next($"{gid}-prefers-{nodeName}")) { Resource = gid, Score = new Score(PreferenceScore), Node = nodeName });
            }
            else
            {
                foreach (var ms in drbd)
                    constraints.Add(new LocationConstraint(ids.Next($"{ms.Id}-prefers-{nodeName}")) { Resource = ms.Id, Role = "Promoted", Score = new Score(PreferenceScore), Node = nodeName });
            }
        }
        if (nodes.Count == 0)
        {
            diagnostics.Add(new Diagnostic(Severity.Error, "VH008", "no haresources lines found", new SourceLocation(source, 0, 0))
            {
                Hint = "a line reads: <node> <resource> [<resource>::<arg> …], e.g. node1 IPaddr::192.168.10.190/24 apache",
            });
            return new Parsed<Cib>(null, diagnostics);
        }
        diagnostics.Add(new Diagnostic(Severity.Warning, "VH009",
            "Heartbeat v1 ran two-node clusters without fencing or quorum; the import sets stonith-enabled=false and no-quorum-policy=ignore, so this cluster can split-brain",
            new SourceLocation(source, 0, 0))
        {
            Hint = "configure a fence device and set stonith-enabled=true, or add a witness",
        });
        var props = Set(ids, AttributeSetKind.ClusterProperties, "cib-bootstrap", "options", [("stonith-enabled", "false"), ("no-quorum-policy", "ignore")]);
        var config = new Configuration { Nodes = nodes, Resources = resources, Constraints = constraints, Properties = [props] };
        var errors = diagnostics.Any(d => d.Severity == Severity.Error);
        return new Parsed<Cib>(errors ? null : new Cib { Configuration = config }, diagnostics);
    }

    private static AttributeSet Set(IdGenerator ids, AttributeSetKind kind, string owner, string suffix, IEnumerable<(string Name, string Value)> pairs)
    {
        var setId = ids.Next($"{owner}-{suffix}");
        return new AttributeSet(kind, setId) { Pairs = pairs.Select(p => new NvPair(ids.Next($"{setId}-{p.Name}"), p.Name, p.Value)).ToList() };
    }

    private static string SanitizeId(string id)
    {
        var chars = id.Select(ch => char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.' ? ch : '_').ToArray();
        var s = string.Join('_', new string(chars).Split('_', StringSplitOptions.RemoveEmptyEntries));
        return s.Length == 0 || !char.IsLetter(s[0]) ? "r_" + s : s;
    }

    private static List<(string Line, int LineNo)> JoinLines(string text)
    {
        var result = new List<(string, int)>();
        var raw = text.Replace("\r\n", "\n").Split('\n');
        string? pending = null;
        int start = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            var line = raw[i];
            var trimmed = line.Trim();
            if (pending is null && (trimmed.Length == 0 || trimmed.StartsWith('#'))) continue;
            if (pending is null) start = i + 1;
            var cont = trimmed.EndsWith('\\');
            var body = cont ? line[..line.LastIndexOf('\\')] : line;
            pending = pending is null ? body : pending + " " + body;
            if (!cont) { result.Add((pending, start)); pending = null; }
        }
        if (pending is not null) result.Add((pending, start));
        return result;
    }

    private static List<(string Word, int Col)> SplitWords(string line)
    {
        var words = new List<(string, int)>();
        int i = 0;
        while (i < line.Length)
        {
            if (char.IsWhiteSpace(line[i])) { i++; continue; }
            int s = i;
            while (i < line.Length && !char.IsWhiteSpace(line[i])) i++;
            words.Add((line[s..i], s + 1));
        }
        return words;
    }
}
