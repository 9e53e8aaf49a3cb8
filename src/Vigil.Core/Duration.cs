using System.Globalization;

namespace Vigil.Core;

/// <summary>
/// Pacemaker time specifications: "30", "30s", "500ms", "1min", "5m", "2h", "10us" (crm_get_msec: a
/// bare number is seconds) and ISO 8601 durations such as "PT10M" or "P1DT2H".
/// </summary>
public static class Duration
{
    /// <summary>The duration when <paramref name="text"/> is one longer than zero, else null (unset, 0, negative or not a duration).</summary>
    public static TimeSpan? Positive(string? text) => TryParse(text, out var t) && t > TimeSpan.Zero ? t : null;

    public static bool TryParse(string? text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var t = text.Trim();
        if (t.StartsWith('P') || t.StartsWith('p')) return TryParseIso(t[1..], out value);
        int i = 0;
        while (i < t.Length && (char.IsAsciiDigit(t[i]) || t[i] == '.' || (i == 0 && (t[i] == '+' || t[i] == '-')))) i++;
        if (i == 0) return false;
        if (!double.TryParse(t[..i], NumberStyles.Float, CultureInfo.InvariantCulture, out var number) || number < 0) return false;
        var unit = t[i..].Trim().ToLowerInvariant();
        double ms = unit switch
        {
            "" or "s" or "sec" or "secs" or "second" or "seconds" => number * 1000,
            "ms" or "msec" or "msecs" => number,
            "us" or "usec" or "usecs" => number / 1000,
            "m" or "min" or "mins" or "minute" or "minutes" => number * 60_000,
            "h" or "hr" or "hrs" or "hour" or "hours" => number * 3_600_000,
            _ => double.NaN,
        };
        if (double.IsNaN(ms) || ms > TimeSpan.MaxValue.TotalMilliseconds / 2) return false;
        value = TimeSpan.FromMilliseconds(Math.Round(ms));
        return true;
    }

    private static bool TryParseIso(string t, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        bool inTime = false;
        long totalSeconds = 0;
        int start = 0;
        if (t.Length == 0) return false;
        for (int i = 0; i < t.Length; i++)
        {
            char c = char.ToUpperInvariant(t[i]);
            if (c == 'T') { if (inTime || i != start) return false; inTime = true; start = i + 1; continue; }
            if (char.IsAsciiDigit(c)) continue;
            if (i == start) return false;
            if (!long.TryParse(t[start..i], NumberStyles.None, CultureInfo.InvariantCulture, out var n)) return false;
            long factor = (c, inTime) switch
            {
                ('Y', false) => 365L * 86400,
                ('M', false) => 30L * 86400,
                ('W', false) => 7L * 86400,
                ('D', false) => 86400,
                ('H', _) => 3600,   // Pacemaker also reads P40S and P2H without the T
                ('M', true) => 60,
                ('S', _) => 1,
                _ => -1,
            };
            if (factor < 0) return false;
            totalSeconds += n * factor;
            start = i + 1;
        }
        if (start != t.Length) return false;
        value = TimeSpan.FromSeconds(totalSeconds);
        return true;
    }

    /// <summary>Milliseconds, the unit the OCF environment and operation keys use.</summary>
    public static long ToMilliseconds(TimeSpan value) => (long)value.TotalMilliseconds;

    /// <summary>Short human form used in generated ids and the crm shell: 0, 30s, 1min, 500ms.</summary>
    public static string ToShort(TimeSpan value)
    {
        long ms = (long)value.TotalMilliseconds;
        if (ms == 0) return "0";
        if (ms % 60_000 == 0 && ms >= 60_000 && ms % 3_600_000 != 0) return $"{ms / 60_000}min";
        if (ms % 3_600_000 == 0) return $"{ms / 3_600_000}h";
        if (ms % 1000 == 0) return $"{ms / 1000}s";
        return $"{ms}ms";
    }
}
