using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Vigil.Control;

/// <summary>
/// A remote API token as the cluster knows it: the SHA-256 of its secret (never the secret), a name,
/// who issued it and when, and whether (and by whom) it was revoked.
/// </summary>
public sealed record ApiTokenEntry(string Hash, string? Name, string By, long AtUnixSeconds)
{
    public string? RevokedBy { get; init; }
    public long? RevokedAtUnixSeconds { get; init; }
    [JsonIgnore] public bool Revoked => RevokedBy is not null;
    /// <summary>The short id shown and accepted by the CLI: the first 12 hex digits of the hash.</summary>
    [JsonIgnore] public string Id => ShortId(Hash);
    public static string ShortId(string hash) => hash.Length <= 12 ? hash : hash[..12];
}

/// <summary>
/// Issue (<see cref="Revoke"/> false) or revoke a remote API token, by the hash of its secret. Revoking
/// a hash the cluster has no entry for (the token <c>vigil init</c> wrote into the members' files) records
/// it as revoked, so every member refuses it from then on.
/// </summary>
public sealed record ApiTokenCommand(string Hash, string? Name, bool Revoke, string By) : ClusterCommand;

public sealed partial record ClusterState
{
    /// <summary>The snapshot keeps the API tokens in this attribute of the &lt;cib&gt; element (JSON).</summary>
    private const string ApiTokensHeader = "vigil-api-tokens";

    /// <summary>Remote API tokens issued or revoked through the cluster, oldest first.</summary>
    public ImmutableList<ApiTokenEntry> ApiTokens { get; init; } = [];

    /// <summary>What the cluster says of a token's hash: true (issued, in force), false (revoked), null (unknown to it).</summary>
    public bool? ApiTokenInForce(string hash) => ApiTokens.FirstOrDefault(t => t.Hash == hash) is { } t ? !t.Revoked : null;

    private ClusterState ApiToken(ApiTokenCommand c)
    {
        if (string.IsNullOrWhiteSpace(c.Hash)) return this;
        var index = ApiTokens.FindIndex(t => t.Hash == c.Hash);
        if (!c.Revoke)
            return index >= 0 ? this : this with { ApiTokens = ApiTokens.Add(new ApiTokenEntry(c.Hash, c.Name, c.By, c.AtUnixSeconds)) };
        var entry = index >= 0 ? ApiTokens[index] : new ApiTokenEntry(c.Hash, c.Name, "vigil init", 0);
        if (entry.Revoked) return this;
        entry = entry with { RevokedBy = c.By, RevokedAtUnixSeconds = c.AtUnixSeconds };
        return this with { ApiTokens = index >= 0 ? ApiTokens.SetItem(index, entry) : ApiTokens.Add(entry) };
    }

    private string ApiTokensJson() => JsonSerializer.Serialize(ApiTokens, ClusterCommand.Json);

    private static ImmutableList<ApiTokenEntry> ReadApiTokens(string? json)
    {
        if (string.IsNullOrEmpty(json)) return [];
        try { return (JsonSerializer.Deserialize<List<ApiTokenEntry>>(json, ClusterCommand.Json) ?? []).ToImmutableList(); }
        catch (JsonException) { return []; }
    }
}

/// <summary>Finding the token an operator means (pure).</summary>
public static class ApiTokenNames
{
    /// <summary>A name of letters, digits, '.', '_' and '-', at most 64 long; null when valid, else why not.</summary>
    public static string? NameProblem(string? name) =>
        string.IsNullOrEmpty(name) ? "a token needs a name (who or what uses it, e.g. monitoring)"
        : name.Length > 64 ? $"the name '{name[..20]}…' is longer than 64 characters"
        : name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-') ? null
        : $"the name '{name}' may only hold letters, digits, '.', '_' and '-'";

    /// <summary>Whether <paramref name="text"/> is a whole token hash (64 upper-case hex digits), as a member passes a resolved revocation on.</summary>
    public static bool IsFullHash(string? text) => text is { Length: 64 } && text.All(c => char.IsAsciiHexDigitUpper(c) || char.IsAsciiDigit(c));

    /// <summary>
    /// The token <paramref name="idOrName"/> means among <paramref name="known"/>: the one in force with that
    /// name, or else the one whose hash starts with it (at least 6 hex digits, as 'vigil api-token list' shows
    /// 12). Null with <paramref name="error"/> when none or several match.
    /// </summary>
    public static ApiTokenEntry? Resolve(IReadOnlyList<ApiTokenEntry> known, string idOrName, out string? error)
    {
        error = null;
        var named = known.Where(t => !t.Revoked && t.Name == idOrName).ToList();
        if (named.Count == 1) return named[0];
        var prefix = idOrName.ToUpperInvariant();
        var byId = prefix.Length >= 6 && prefix.All(char.IsAsciiHexDigit)
            ? known.Where(t => t.Hash.StartsWith(prefix, StringComparison.Ordinal)).ToList() : [];
        if (byId.Count == 1) return byId[0];
        error = byId.Count > 1
            ? $"'{idOrName}' matches {byId.Count} tokens ({string.Join(", ", byId.Select(t => t.Id))}); give more of the id"
            : $"no API token is named '{idOrName}' or has an id starting with it; 'vigil api-token list' shows them";
        return null;
    }
}
