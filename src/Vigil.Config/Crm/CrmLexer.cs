using System.Text;
using Vigil.Core;

namespace Vigil.Config.Crm;

/// <summary>A word of crm shell syntax with its place in the source. Quotes are removed from <see cref="Text"/>.</summary>
public sealed record CrmToken(string Text, int Line, int Column, bool Quoted)
{
    /// <summary>For <c>name=value</c> words: the part before the first '=' (unquoted part only).</summary>
    public string? Name { get; init; }
    /// <summary>For <c>name=value</c> words: the value with quotes removed.</summary>
    public string? Value { get; init; }
    public bool IsAssignment => Name is not null;
}

/// <summary>One statement: the words of one logical line (backslash continuations joined).</summary>
public sealed record CrmStatement(IReadOnlyList<CrmToken> Tokens, int Line);

/// <summary>
/// Splits crm shell text into statements and words. A line whose first non-blank character is '#'
/// is a comment (so <c>#uname</c> inside a rule is a word); a trailing backslash continues the line;
/// single and double quotes group words as in the shell.
/// </summary>
public static class CrmLexer
{
    public static List<CrmStatement> Split(string text, string source, List<Diagnostic> diagnostics)
    {
        var statements = new List<CrmStatement>();
        var lines = text.Replace("\r\n", "\n").Replace('\r', '\n').Split('\n');
        var current = new List<CrmToken>();
        int startLine = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            int lineNo = i + 1;
            var trimmed = line.TrimStart(' ', '\t', '\uFEFF');
            if (current.Count == 0 && (trimmed.Length == 0 || trimmed[0] == '#')) continue;
            if (current.Count == 0) startLine = lineNo;
            bool continues = Tokenize(line, lineNo, source, current, diagnostics);
            if (!continues && current.Count > 0)
            {
                statements.Add(new CrmStatement(current, startLine));
                current = [];
            }
        }
        if (current.Count > 0) statements.Add(new CrmStatement(current, startLine));
        return statements;
    }

    /// <summary>Adds the words of one physical line; returns true when it ends with a continuation backslash.</summary>
    private static bool Tokenize(string line, int lineNo, string source, List<CrmToken> tokens, List<Diagnostic> diagnostics)
    {
        int i = 0;
        int n = line.Length;
        // A continuation is a backslash as the last non-blank character outside quotes.
        while (i < n)
        {
            char c = line[i];
            if (c is ' ' or '\t' or '\uFEFF') { i++; continue; }
            if (c == '\\' && line[(i + 1)..].Trim().Length == 0) return true;
            int startCol = i + 1;
            var sb = new StringBuilder();
            bool quoted = false;
            int eqIndex = -1; // index into sb of the first unquoted '='
            while (i < n && line[i] is not (' ' or '\t'))
            {
                c = line[i];
                if (c is '"' or '\'')
                {
                    quoted = true;
                    char q = c;
                    int close = line.IndexOf(q, i + 1);
                    if (close < 0)
                    {
                        diagnostics.Add(new Diagnostic(Severity.Error, "VC001", $"unterminated {(q == '"' ? "double" : "single")} quote",
                            new SourceLocation(source, lineNo, i + 1)) { Hint = $"close the quote with {q} on the same line" });
                        sb.Append(line, i + 1, n - i - 1);
                        i = n;
                        break;
                    }
                    sb.Append(line, i + 1, close - i - 1);
                    i = close + 1;
                    continue;
                }
                if (c == '\\' && i + 1 < n && line[i + 1] is not (' ' or '\t'))
                {
                    // \#uname as the docs write it for bash; an escaped character stands for itself.
                    sb.Append(line[i + 1]);
                    i += 2;
                    continue;
                }
                if (c == '=' && eqIndex < 0 && !quoted) eqIndex = sb.Length;
                sb.Append(c);
                i++;
            }
            var text = sb.ToString();
            string? name = null, value = null;
            if (eqIndex > 0)
            {
                name = text[..eqIndex];
                value = text[(eqIndex + 1)..];
            }
            tokens.Add(new CrmToken(text, lineNo, startCol, quoted) { Name = name, Value = value });
        }
        return false;
    }
}
