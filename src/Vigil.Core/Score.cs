using System.Globalization;

namespace Vigil.Core;

/// <summary>
/// A Pacemaker score: an integer clamped to ±1,000,000, where ±1,000,000 means ±INFINITY.
/// Addition saturates the way Pacemaker's <c>pcmk__add_scores</c> does: -INFINITY wins over
/// everything (a ban beats a mandatory preference), then +INFINITY, otherwise the clamped sum.
/// </summary>
public readonly record struct Score : IComparable<Score>
{
    public const int InfinityValue = 1_000_000;

    public static readonly Score Zero = new(0);
    public static readonly Score Infinity = new(InfinityValue);
    public static readonly Score MinusInfinity = new(-InfinityValue);

    public int Value { get; }

    public Score(long value) => Value = (int)Math.Clamp(value, -InfinityValue, InfinityValue);

    public bool IsInfinity => Value == InfinityValue;
    public bool IsMinusInfinity => Value == -InfinityValue;

    public static Score operator +(Score a, Score b)
    {
        if (a.IsMinusInfinity || b.IsMinusInfinity) return MinusInfinity;
        if (a.IsInfinity || b.IsInfinity) return Infinity;
        return new Score((long)a.Value + b.Value);
    }

    public static Score operator -(Score a) => new(-(long)a.Value);

    public static bool operator <(Score a, Score b) => a.Value < b.Value;
    public static bool operator >(Score a, Score b) => a.Value > b.Value;
    public static bool operator <=(Score a, Score b) => a.Value <= b.Value;
    public static bool operator >=(Score a, Score b) => a.Value >= b.Value;

    public int CompareTo(Score other) => Value.CompareTo(other.Value);

    /// <summary>Parses INFINITY, +INFINITY, -INFINITY, inf, +inf, -inf and integers (clamped).
    /// Pacemaker's node-health colours (red, yellow, green) are accepted too.</summary>
    public static bool TryParse(string? text, out Score score)
    {
        score = Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        switch (t.ToLowerInvariant())
        {
            case "infinity" or "+infinity" or "inf" or "+inf":
                score = Infinity; return true;
            case "-infinity" or "-inf":
                score = MinusInfinity; return true;
            case "red":
                score = MinusInfinity; return true;
            case "yellow" or "green":
                score = Zero; return true;
        }
        // Pacemaker's char2score uses strtol-like parsing: a leading number is taken.
        if (long.TryParse(t, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var v))
        {
            score = new Score(v);
            return true;
        }
        if (t.Length > 18 && (t.TrimStart('+', '-').All(char.IsAsciiDigit)))
        {
            score = t.StartsWith('-') ? MinusInfinity : Infinity;
            return true;
        }
        return false;
    }

    public static Score Parse(string text) =>
        TryParse(text, out var s) ? s : throw new FormatException($"'{text}' is not a score (an integer, INFINITY or -INFINITY)");

    /// <summary>The CIB spelling: INFINITY, -INFINITY or the integer.</summary>
    public override string ToString() => Value switch
    {
        InfinityValue => "INFINITY",
        -InfinityValue => "-INFINITY",
        _ => Value.ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>The crm shell spelling: inf, -inf or the integer.</summary>
    public string ToCrm() => Value switch
    {
        InfinityValue => "inf",
        -InfinityValue => "-inf",
        _ => Value.ToString(CultureInfo.InvariantCulture),
    };

    public static implicit operator Score(int value) => new(value);
}
