using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Vigil.Host.Security;

/// <summary>
/// The cluster's trust: a CA created by 'vigil init' and one certificate per node, signed by it.
/// Peers authenticate each other with these (mutual TLS on Raft and on the API); a certificate from
/// another CA, or one whose name is not a configured member, is refused.
/// Files: ca.crt (public), ca.key (only where 'vigil init' ran), NODE.pfx (the node's key, mode 0600).
/// </summary>
public sealed class ClusterCredentials : IDisposable
{
    public X509Certificate2 Ca { get; }
    public X509Certificate2 Node { get; }
    private readonly HashSet<string> _members;

    private ClusterCredentials(X509Certificate2 ca, X509Certificate2 node, IEnumerable<string> members)
    {
        Ca = ca;
        Node = node;
        _members = new HashSet<string>(members, StringComparer.Ordinal);
    }

    /// <summary>Creates a CA and credentials for every node in <paramref name="directory"/>.</summary>
    public static void CreateCluster(string directory, IEnumerable<string> nodes, string clusterName)
    {
        Directory.CreateDirectory(directory);
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caReq = new CertificateRequest($"CN=Vigil cluster CA {clusterName}", caKey, HashAlgorithmName.SHA256);
        caReq.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caReq.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        var now = DateTimeOffset.UtcNow;
        using var ca = caReq.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        File.WriteAllText(Path.Combine(directory, "ca.crt"), ca.ExportCertificatePem());
        WritePrivate(Path.Combine(directory, "ca.key"), System.Text.Encoding.ASCII.GetBytes(caKey.ExportPkcs8PrivateKeyPem()));
        foreach (var node in nodes)
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var req = new CertificateRequest($"CN={node}", key, HashAlgorithmName.SHA256);
            req.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
            req.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
            req.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1"), new Oid("1.3.6.1.5.5.7.3.2")], false));
            var san = new SubjectAlternativeNameBuilder();
            san.AddDnsName(node);
            req.CertificateExtensions.Add(san.Build());
            var serial = RandomNumberGenerator.GetBytes(16);
            using var signed = req.Create(ca, now.AddMinutes(-5), now.AddYears(5), serial);
            using var withKey = signed.CopyWithPrivateKey(key);
            WritePrivate(Path.Combine(directory, $"{node}.pfx"), withKey.Export(X509ContentType.Pfx));
        }
    }

    /// <summary>Writes a secret file readable by its owner only (mode 0600 before any byte is written).</summary>
    public static void WritePrivate(string path, byte[] content)
    {
        using (File.Create(path)) { }
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllBytes(path, content);
    }

    /// <summary>Loads this node's credentials; throws <see cref="CryptographicException"/> or IOException with the file named.</summary>
    public static ClusterCredentials Load(string directory, string node, IEnumerable<string> members)
    {
        var ca = X509Certificate2.CreateFromPem(File.ReadAllText(Path.Combine(directory, "ca.crt")));
        var cert = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(directory, $"{node}.pfx"), null);
        return new ClusterCredentials(ca, cert, members);
    }

    /// <summary>Why a peer's certificate is not acceptable, or null when it is.</summary>
    public string? Reject(X509Certificate? presented)
    {
        if (presented is null) return "no certificate presented";
        if (NotIssuedBy(Ca, presented) is { } why) return why;
        using var cert = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        var name = cert.GetNameInfo(X509NameType.SimpleName, false);
        if (!_members.Contains(name)) return $"certificate name '{name}' is not a member of this cluster";
        return null;
    }

    /// <summary>Why <paramref name="presented"/> is not issued by <paramref name="ca"/>, or null when it is.</summary>
    public static string? NotIssuedBy(X509Certificate2 ca, X509Certificate? presented)
    {
        if (presented is null) return "no certificate presented";
        using var cert = X509CertificateLoader.LoadCertificate(presented.GetRawCertData());
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(cert) ? null
            : $"certificate '{cert.Subject}' is not issued by this cluster's CA ({string.Join(", ", chain.ChainStatus.Select(s => s.Status))})";
    }

    public SslServerAuthenticationOptions ServerOptions(Action<string> onReject) => new()
    {
        ServerCertificate = Node,
        ClientCertificateRequired = true,
        RemoteCertificateValidationCallback = (_, cert, _, _) => Check(cert, onReject),
    };

    public SslClientAuthenticationOptions ClientOptions(Action<string> onReject) => new()
    {
        TargetHost = "vigil",
        ClientCertificates = [Node],
        RemoteCertificateValidationCallback = (_, cert, _, _) => Check(cert, onReject),
    };

    private bool Check(X509Certificate? cert, Action<string> onReject)
    {
        var why = Reject(cert);
        if (why is not null) onReject(why);
        return why is null;
    }

    /// <summary>An HTTP handler that presents this node's certificate and accepts only cluster members.</summary>
    public SocketsHttpHandler HttpHandler(Action<string> onReject) => new()
    {
        SslOptions = ClientOptions(onReject),
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
    };

    public void Dispose()
    {
        Ca.Dispose();
        Node.Dispose();
    }
}
