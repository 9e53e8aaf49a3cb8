using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using Vigil.Host.Daemon;

namespace Vigil.Host.Security;

/// <summary>
/// A one-time token that lets a planned member fetch its credentials from a node that holds them
/// (the one where 'vigil init' ran): <c>NODE:SECRET:CAPIN</c>. The pin (SHA-256 of the cluster CA)
/// lets the joining node check it talks to the right cluster before it sends the secret.
/// </summary>
public sealed record JoinToken(string Node, string Secret, string CaPin)
{
    public override string ToString() => $"{Node}:{Secret}:{CaPin}";

    public static bool TryParse(string text, out JoinToken? token, out string? error)
    {
        token = null;
        var parts = (text ?? "").Trim().Split(':');
        if (parts.Length != 3 || parts.Any(p => p.Length == 0))
        {
            error = "a join token has three parts NODE:SECRET:CAPIN (as 'vigil init' or 'vigil token' printed it)";
            return false;
        }
        token = new JoinToken(parts[0], parts[1], parts[2]);
        error = null;
        return true;
    }
}

/// <summary>The join tokens a node holds: only their hashes, in TLSDIR/join-tokens.json; each works once.</summary>
public static class JoinTokens
{
    public const string FileName = "join-tokens.json";
    private static readonly object Gate = new();

    /// <summary>The pin of a CA certificate: base64url of SHA-256 over its DER encoding.</summary>
    public static string Pin(X509Certificate2 ca) => Base64Url(SHA256.HashData(ca.RawData));

    /// <summary>A new token for <paramref name="node"/>, whose credentials must be in <paramref name="tlsDirectory"/>; replaces an older one.</summary>
    public static JoinToken Issue(string tlsDirectory, string node)
    {
        if (!File.Exists(Path.Combine(tlsDirectory, $"{node}.pfx")))
            throw new IOException($"{tlsDirectory} holds no credentials for '{node}' ({node}.pfx); issue its token where 'vigil init' ran");
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(tlsDirectory, "ca.crt")));
        var secret = Base64Url(RandomNumberGenerator.GetBytes(24));
        lock (Gate)
        {
            var hashes = Read(tlsDirectory);
            hashes[node] = Hash(secret);
            Write(tlsDirectory, hashes);
        }
        return new JoinToken(node, secret, Pin(ca));
    }

    /// <summary>Whether the secret is the current token of <paramref name="node"/>; a valid token is used up.</summary>
    public static bool Redeem(string tlsDirectory, string node, string secret)
    {
        lock (Gate)
        {
            var hashes = Read(tlsDirectory);
            if (!hashes.TryGetValue(node, out var expected)) return false;
            var given = Encoding.ASCII.GetBytes(Hash(secret));
            if (!CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(expected))) return false;
            hashes.Remove(node);
            Write(tlsDirectory, hashes);
            return true;
        }
    }

    /// <summary>The node name of remote API tokens: <c>vigil-api:SECRET:CAPIN</c> (not a valid member name, so never a join token).</summary>
    public const string ApiTokenName = "vigil-api";
    private const string ApiFileName = "api-tokens.json";

    /// <summary>
    /// A new token for remote API users (status, configure, operate from a machine without node
    /// credentials). It is kept as a hash next to the join tokens and handed to members as they join;
    /// it works until the file is removed.
    /// </summary>
    public static JoinToken IssueApi(string tlsDirectory)
    {
        using var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(tlsDirectory, "ca.crt")));
        var token = NewApi(ca, out var hash);
        lock (Gate)
        {
            var hashes = ApiHashes(tlsDirectory).ToList();
            hashes.Add(hash);
            WriteApiHashes(tlsDirectory, hashes);
        }
        return token;
    }

    /// <summary>
    /// A new remote API token for the cluster whose CA is <paramref name="ca"/>, kept nowhere: the caller
    /// records <paramref name="hash"/> (the cluster's replicated token list) and hands the token out once.
    /// </summary>
    public static JoinToken NewApi(X509Certificate2 ca, out string hash)
    {
        var secret = Base64Url(RandomNumberGenerator.GetBytes(24));
        hash = Hash(secret);
        return new JoinToken(ApiTokenName, secret, Pin(ca));
    }

    /// <summary>The hash by which a remote API token's secret is recorded (hex SHA-256).</summary>
    public static string HashOf(string secret) => Hash(secret);

    /// <summary>The hashes of the remote API tokens this node accepts.</summary>
    public static IReadOnlyList<string> ApiHashes(string tlsDirectory)
    {
        var path = Path.Combine(tlsDirectory, ApiFileName);
        if (!File.Exists(path)) return [];
        try { return JsonSerializer.Deserialize<List<string>>(File.ReadAllText(path), WireJson.Plain) ?? []; }
        catch (JsonException) { return []; }
    }

    public static void WriteApiHashes(string tlsDirectory, IEnumerable<string> hashes) =>
        WritePrivateJson(Path.Combine(tlsDirectory, ApiFileName), hashes.Distinct().ToList());

    /// <summary>Whether <paramref name="secret"/> is a remote API token of this cluster (compared in constant time).</summary>
    public static bool IsApiToken(string tlsDirectory, string secret)
    {
        var given = Encoding.ASCII.GetBytes(Hash(secret));
        var ok = false;
        foreach (var h in ApiHashes(tlsDirectory))
            ok |= CryptographicOperations.FixedTimeEquals(given, Encoding.ASCII.GetBytes(h));
        return ok;
    }

    private static string Hash(string secret) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static Dictionary<string, string> Read(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return new(StringComparer.Ordinal);
        try { return JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(path), WireJson.Plain) ?? new(StringComparer.Ordinal); }
        catch (JsonException) { return new(StringComparer.Ordinal); }
    }

    private static void Write(string dir, Dictionary<string, string> hashes) => WritePrivateJson(Path.Combine(dir, FileName), hashes);

    private static void WritePrivateJson<T>(string path, T value)
    {
        ClusterCredentials.WritePrivate(path + ".tmp", Encoding.UTF8.GetBytes(JsonSerializer.Serialize(value, WireJson.Plain)));
        File.Move(path + ".tmp", path, overwrite: true);
    }
}
