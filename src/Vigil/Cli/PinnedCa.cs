using System.Security.Cryptography.X509Certificates;
using Vigil.Host.Security;

namespace Vigil.Cli;

/// <summary>The cluster CA as a client without credentials gets it: fetched from a node, accepted only when it matches a token's pin.</summary>
internal static class PinnedCa
{
    /// <summary>The CA at <paramref name="address"/> if its pin is <paramref name="pin"/>; else null and why (<paramref name="wrongCa"/>: it answered with another CA).</summary>
    public static X509Certificate2? Fetch(string address, string pin, TimeSpan timeout, out string? problem, out bool wrongCa)
    {
        wrongCa = false;
        try
        {
            using var open = new HttpClient(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, _, _, _) => true } }) { Timeout = timeout };
            var ca = X509Certificate2.CreateFromPem(open.GetStringAsync($"https://{address}/v1/join/ca").GetAwaiter().GetResult());
            if (JoinTokens.Pin(ca) == pin) { problem = null; return ca; }
            ca.Dispose();
            wrongCa = true;
            problem = $"the cluster at {address} is not the one this token was issued for (CA pin differs): wrong address, or someone in between";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Security.Cryptography.CryptographicException)
        {
            problem = $"no cluster CA from {address} ({e.Message})";
        }
        return null;
    }

    /// <summary>A client that talks only to servers holding a certificate of <paramref name="ca"/> (null: to none).</summary>
    public static HttpClient Client(X509Certificate2? ca, TimeSpan timeout) =>
        new(new SocketsHttpHandler { SslOptions = { RemoteCertificateValidationCallback = (_, cert, _, _) => ca is not null && ClusterCredentials.NotIssuedBy(ca, cert) is null } }, disposeHandler: true)
        { Timeout = timeout };
}
