namespace Vigil.Core;

public enum Severity
{
    Info,
    Warning,
    Error,
}

/// <summary>Where something is: a file (or "-"/"&lt;input&gt;"), 1-based line and column; 0 when unknown.</summary>
public readonly record struct SourceLocation(string Source, int Line, int Column)
{
    public static readonly SourceLocation None = new("", 0, 0);

    public override string ToString() =>
        Line <= 0 ? Source : Column <= 0 ? $"{Source}:{Line}" : $"{Source}:{Line}:{Column}";
}

/// <summary>
/// One finding about user input: what is wrong, where, and what to do instead. Codes are stable
/// (documented in the README) so scripts can match them.
/// </summary>
public sealed record Diagnostic(Severity Severity, string Code, string Message, SourceLocation Location)
{
    /// <summary>What to write instead, when there is one answer.</summary>
    public string? Hint { get; init; }

    public override string ToString()
    {
        var sev = Severity switch { Severity.Error => "error", Severity.Warning => "warning", _ => "info" };
        var loc = Location.Source.Length == 0 && Location.Line == 0 ? "" : $"{Location}: ";
        var hint = Hint is null ? "" : $"\n  hint: {Hint}";
        return $"{loc}{sev} {Code}: {Message}{hint}";
    }
}

/// <summary>A value with the diagnostics found while producing it. Value is null only when errors made it impossible.</summary>
public sealed record Parsed<T>(T? Value, IReadOnlyList<Diagnostic> Diagnostics) where T : class
{
    /// <summary>Where each id was defined, so later checks can point at the source.</summary>
    public IReadOnlyDictionary<string, SourceLocation> Locations { get; init; } = new Dictionary<string, SourceLocation>();

    public bool HasErrors => Diagnostics.Any(d => d.Severity == Severity.Error);
    public bool HasWarnings => Diagnostics.Any(d => d.Severity == Severity.Warning);
}
