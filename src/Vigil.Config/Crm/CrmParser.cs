using Vigil.Core;
using Vigil.Core.Model;

namespace Vigil.Config.Crm;

/// <summary>
/// Parses crm shell configuration (what <c>crm configure</c> accepts and <c>crm configure show</c> prints)
/// into the model, generating ids the way crmsh does. Lines that real how-tos contain but crmsh rejects
/// are accepted when their meaning is unambiguous, with a warning that shows the canonical form.
/// </summary>
public sealed partial class CrmParser
{
    private readonly string _source;
    private readonly List<Diagnostic> _diagnostics = [];
    private readonly IdGenerator _ids = new();
    private readonly Dictionary<string, SourceLocation> _definedIds = new(StringComparer.Ordinal);

    // Resources are collected flat and nested after the whole text is read: crmsh allows forward references.
    private readonly List<PendingResource> _resources = [];
    private readonly List<Node> _nodes = [];
    private readonly List<(Constraint Constraint, SourceLocation Where)> _constraints = [];
    private readonly List<PendingSet> _properties = [];
    private readonly List<PendingSet> _rscDefaults = [];
    private readonly List<PendingSet> _opDefaults = [];
    private readonly List<(CrmStatement Statement, int Index)> _fencingStatements = [];
    private readonly List<FencingLevel> _levels = [];

    private CrmParser(string source) => _source = source;

    public static Parsed<Cib> Parse(string text, string source = "<input>")
    {
        var p = new CrmParser(source);
        var statements = CrmLexer.Split(text, source, p._diagnostics);
        foreach (var st in statements)
        {
            try
            {
                p.Statement(st);
            }
            catch (CrmSyntaxException e)
            {
                p._diagnostics.Add(e.Diagnostic);
            }
        }
        var configuration = p.Finish();
        var errors = p._diagnostics.Any(d => d.Severity == Severity.Error);
        return new Parsed<Cib>(errors ? null : new Cib { Configuration = configuration }, p._diagnostics) { Locations = p._definedIds };
    }

    // ----- statements ----------------------------------------------------------------------------

    private static readonly HashSet<string> SessionWords = ["commit", "end", "up", "quit", "exit", "bye", "verify", "show", "cd", "ls", "help", "refresh"];

    private void Statement(CrmStatement st)
    {
        var c = new Cursor(st, this);
        var first = c.Peek!;
        var word = first.Text.ToLowerInvariant();
        // Lines copied from a shell prompt: "crm configure primitive …" or "configure primitive …".
        if (word == "crm")
        {
            c.Next();
            if (c.AtEnd) return;
            if (c.Peek!.Text.ToLowerInvariant() is not ("configure" or "cfg"))
                throw c.Error("VC002", $"'crm {c.Peek.Text}' is a command, not configuration", "only 'crm configure …' lines belong in a configuration file");
            c.Next();
            Warn("VC003", "the 'crm configure' prefix is not part of the configuration language; it was skipped", first,
                $"write the line without it: {string.Join(' ', st.Tokens.Skip(2).Select(Quote))}");
            if (c.AtEnd) return;
            word = c.Peek!.Text.ToLowerInvariant();
        }
        else if (word is "configure" or "cfg")
        {
            c.Next();
            if (c.AtEnd) return;
            word = c.Peek!.Text.ToLowerInvariant();
        }
        if (SessionWords.Contains(word))
        {
            if (word != "commit" && word != "end" && word != "quit" && word != "exit" && word != "up" && word != "bye")
                Info("VC004", $"'{word}' is an interactive crm command; it has no effect in a file", c.Peek!);
            return;
        }
        var kw = c.Next();
        switch (word)
        {
            case "node": ParseNode(c); break;
            case "primitive": ParsePrimitive(c); break;
            case "group": ParseGroup(c); break;
            case "clone": ParseClone(c, legacyMaster: false, kw); break;
            case "ms" or "master": ParseClone(c, legacyMaster: true, kw); break;
            case "location": ParseLocation(c); break;
            case "colocation" or "collocation": ParseColocation(c); break;
            case "order": ParseOrder(c); break;
            case "property": ParseDefaults(c, _properties, "cib-bootstrap-options", AttributeSetKind.ClusterProperties, "property"); break;
            case "rsc_defaults": ParseDefaults(c, _rscDefaults, "rsc-options", AttributeSetKind.Meta, "rsc_defaults"); break;
            case "op_defaults": ParseDefaults(c, _opDefaults, "op-options", AttributeSetKind.Meta, "op_defaults"); break;
            case "fencing_topology": _fencingStatements.Add((st, c.Position)); break;
            case "rsc_template" or "tag" or "rsc_ticket" or "xml" or "role" or "user" or "acl_target" or "acl_group" or "alert" or "schema":
                throw new CrmSyntaxException(Diag(Severity.Error, "VC005", $"'{kw.Text}' is not supported in Vigil's crm syntax yet", kw,
                    "keep this part in CIB XML (vigil config convert --to xml) or leave it out"));
            default:
                throw new CrmSyntaxException(Diag(Severity.Error, "VC006", $"unknown statement '{kw.Text}'", kw,
                    Suggest(kw.Text, ["node", "primitive", "group", "clone", "ms", "location", "colocation", "order", "property", "rsc_defaults", "op_defaults", "fencing_topology"])
                    ?? "a statement starts with node, primitive, group, clone, ms, location, colocation, order, property, rsc_defaults, op_defaults or fencing_topology"));
        }
    }

    // ----- helpers shared by the statement parsers -----------------------------------------------

    private string DefineId(CrmToken token, string what)
    {
        var id = token.Text;
        if (!IsValidId(id))
            throw new CrmSyntaxException(Diag(Severity.Error, "VC010", $"'{id}' is not a valid {what} id", token,
                "ids start with a letter or '_' and contain letters, digits, '-', '_', '.' or ':'"));
        var loc = Loc(token);
        if (!_ids.Claim(id) || _definedIds.ContainsKey(id))
        {
            var previous = _definedIds.TryGetValue(id, out var p) ? $" (first defined at {p})" : "";
            throw new CrmSyntaxException(Diag(Severity.Error, "VC011", $"the id '{id}' is already used{previous}", token,
                "every node, resource, constraint and attribute set needs its own id; rename one of them"));
        }
        _definedIds[id] = loc;
        return id;
    }

    public static bool IsValidId(string id)
    {
        if (id.Length == 0) return false;
        if (!(char.IsLetter(id[0]) || id[0] == '_' || char.IsDigit(id[0]))) return false;
        foreach (var ch in id)
            if (!(char.IsLetterOrDigit(ch) || ch is '-' or '_' or '.' or ':')) return false;
        return true;
    }

    private static string Quote(CrmToken t)
    {
        if (t.IsAssignment)
        {
            var v = t.Value!;
            return v.Length == 0 || v.Any(char.IsWhiteSpace) ? $"{t.Name}=\"{v}\"" : $"{t.Name}={v}";
        }
        return t.Text.Any(char.IsWhiteSpace) ? $"\"{t.Text}\"" : t.Text;
    }

    internal SourceLocation Loc(CrmToken t) => new(_source, t.Line, t.Column);

    internal Diagnostic Diag(Severity severity, string code, string message, CrmToken at, string? hint = null) =>
        new(severity, code, message, Loc(at)) { Hint = hint };

    private void Warn(string code, string message, CrmToken at, string? hint = null) => _diagnostics.Add(Diag(Severity.Warning, code, message, at, hint));
    private void Info(string code, string message, CrmToken at, string? hint = null) => _diagnostics.Add(Diag(Severity.Info, code, message, at, hint));
    private void Error(string code, string message, CrmToken at, string? hint = null) => _diagnostics.Add(Diag(Severity.Error, code, message, at, hint));

    /// <summary>"did you mean X?" for a word within two edits of a known one.</summary>
    public static string? Suggest(string word, IEnumerable<string> known)
    {
        string? best = null;
        int bestDistance = 3;
        foreach (var k in known)
        {
            var d = Levenshtein(word.ToLowerInvariant(), k.ToLowerInvariant());
            if (d < bestDistance) { bestDistance = d; best = k; }
        }
        return best is null ? null : $"did you mean '{best}'?";
    }

    public static int Levenshtein(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}

internal sealed class CrmSyntaxException(Diagnostic diagnostic) : Exception(diagnostic.Message)
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}

/// <summary>A read position in one statement.</summary>
internal sealed class Cursor(CrmStatement statement, CrmParser parser)
{
    private readonly IReadOnlyList<CrmToken> _tokens = statement.Tokens;
    public int Position { get; set; }
    public bool AtEnd => Position >= _tokens.Count;
    public CrmToken? Peek => AtEnd ? null : _tokens[Position];
    public CrmToken? PeekAt(int offset) => Position + offset < _tokens.Count ? _tokens[Position + offset] : null;
    public CrmToken Last => _tokens[^1];
    public CrmStatement Statement => statement;

    public CrmToken Next() => _tokens[Position++];

    public CrmToken Expect(string what, string hint)
    {
        if (AtEnd) throw Error("VC012", $"expected {what} at the end of the line", hint, atEnd: true);
        return Next();
    }

    public CrmSyntaxException Error(string code, string message, string? hint = null, bool atEnd = false)
    {
        var at = AtEnd || atEnd ? _tokens[^1] with { Column = _tokens[^1].Column + _tokens[^1].Text.Length } : _tokens[Position];
        return new CrmSyntaxException(parser.Diag(Severity.Error, code, message, at, hint));
    }

    public CrmSyntaxException ErrorAt(CrmToken at, string code, string message, string? hint = null) =>
        new(parser.Diag(Severity.Error, code, message, at, hint));
}
