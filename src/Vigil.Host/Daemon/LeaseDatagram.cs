using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Vigil.Host.Daemon;

/// <summary>
/// The lease-round datagrams (<see cref="Vigil.Control.LeaseRounds"/>): one UDP datagram each way per member and round
/// instead of an HTTPS request. Both are authenticated by a key the answering member derives from a secret of its own
/// daemon for the asking member (<see cref="PairKey"/>) and hands it only over mutual TLS, so neither a stranger nor
/// another member can make a node count a round it did not have. Layout: 'V', kind (1 request, 2 answer, 3 bound request:
/// one sent while the sender's contact is bound by its counted rounds, the only kind a receiver notes), sequence
/// number (8 bytes, big-endian), sender's name (a length byte, UTF-8), for a request the sender's boot id (likewise),
/// then the first 16 bytes of HMAC-SHA256 over all of it — for an answer, over all of it followed by the asker's boot
/// id, so an answer to an earlier boot of the asker does not count for this one.
/// </summary>
public static class LeaseDatagram
{
    public const int MacLength = 16;
    public const int MaxLength = 2 + 8 + 1 + 255 + 1 + 255 + MacLength;
    private const byte Magic = (byte)'V';
    private const byte Request = 1;
    private const byte Answer = 2;
    private const byte BoundRequest = 3;

    /// <summary>The key member <paramref name="asker"/> uses with the member whose daemon secret is <paramref name="secret"/>.</summary>
    public static byte[] PairKey(ReadOnlySpan<byte> secret, string asker) =>
        HMACSHA256.HashData(secret, Encoding.UTF8.GetBytes("vigil lease round key\0" + asker));

    /// <summary>
    /// A lease request from <paramref name="from"/> (boot <paramref name="boot"/>); its length in <paramref name="buffer"/>.
    /// <paramref name="bound"/>: the sender's contact is bound by its counted rounds from now on in this boot, so a receipt
    /// of this request may bound its lease.
    /// </summary>
    public static int WriteRequest(Span<byte> buffer, ReadOnlySpan<byte> key, long seq, string from, string boot, bool bound)
    {
        var n = Header(buffer, bound ? BoundRequest : Request, seq, from);
        n += Text(buffer[n..], boot);
        return Sign(buffer, n, key, null);
    }

    /// <summary>The answer of <paramref name="from"/> to request <paramref name="seq"/> of a member of boot <paramref name="askerBoot"/>.</summary>
    public static int WriteAnswer(Span<byte> buffer, ReadOnlySpan<byte> key, long seq, string from, string askerBoot)
    {
        var n = Header(buffer, Answer, seq, from);
        return Sign(buffer, n, key, askerBoot);
    }

    /// <summary>What a datagram says before its authentication is checked: its kind, number, sender and (requests) boot id.</summary>
    public readonly record struct Parsed(bool IsRequest, long Seq, string From, string? Boot, int SignedLength)
    {
        /// <summary>A request sent while its sender's contact was bound by its counted rounds (see <see cref="WriteRequest"/>).</summary>
        public bool Bound { get; init; }
    }

    /// <summary>The datagram's fields, or null when it is not a well-formed lease datagram (garbage, truncated, too long).</summary>
    public static Parsed? Parse(ReadOnlySpan<byte> d)
    {
        if (d.Length < 2 + 8 + 1 + MacLength || d[0] != Magic || d[1] is not (Request or Answer or BoundRequest)) return null;
        var request = d[1] != Answer;
        var seq = BinaryPrimitives.ReadInt64BigEndian(d[2..]);
        var at = 10;
        if (ReadText(d, ref at) is not { } from) return null;
        string? boot = null;
        if (request && (boot = ReadText(d, ref at)) is null) return null;
        if (at + MacLength != d.Length || from.Length == 0 || boot?.Length == 0) return null;
        return new Parsed(request, seq, from, boot, at) { Bound = d[1] == BoundRequest };
    }

    /// <summary>Whether the datagram's tag is right for <paramref name="key"/> (answers: with the asker's own boot id).</summary>
    public static bool Authentic(ReadOnlySpan<byte> d, Parsed p, ReadOnlySpan<byte> key, string? askerBoot)
    {
        Span<byte> mac = stackalloc byte[32];
        Mac(d[..p.SignedLength], key, p.IsRequest ? null : askerBoot, mac);
        return CryptographicOperations.FixedTimeEquals(mac[..MacLength], d.Slice(p.SignedLength, MacLength));
    }

    private static int Header(Span<byte> b, byte kind, long seq, string from)
    {
        b[0] = Magic;
        b[1] = kind;
        BinaryPrimitives.WriteInt64BigEndian(b[2..], seq);
        return 10 + Text(b[10..], from);
    }

    private static int Text(Span<byte> b, string s)
    {
        var n = Encoding.UTF8.GetBytes(s, b[1..]);
        if (n > 255) throw new ArgumentException($"'{s}' is longer than 255 bytes", nameof(s));
        b[0] = (byte)n;
        return 1 + n;
    }

    private static string? ReadText(ReadOnlySpan<byte> d, ref int at)
    {
        if (at >= d.Length) return null;
        var n = d[at];
        if (at + 1 + n > d.Length) return null;
        try { return new UTF8Encoding(false, true).GetString(d.Slice(at + 1, n)); }
        catch (DecoderFallbackException) { return null; }
        finally { at += 1 + n; }
    }

    private static int Sign(Span<byte> b, int n, ReadOnlySpan<byte> key, string? askerBoot)
    {
        Span<byte> mac = stackalloc byte[32];
        Mac(b[..n], key, askerBoot, mac);
        mac[..MacLength].CopyTo(b[n..]);
        return n + MacLength;
    }

    private static void Mac(ReadOnlySpan<byte> signed, ReadOnlySpan<byte> key, string? askerBoot, Span<byte> mac)
    {
        if (askerBoot is null) { HMACSHA256.HashData(key, signed, mac); return; }
        using var h = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);
        h.AppendData(signed);
        h.AppendData(Encoding.UTF8.GetBytes(askerBoot));
        h.GetHashAndReset(mac);
    }
}
