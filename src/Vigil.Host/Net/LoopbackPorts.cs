using System.Net;
using System.Net.Sockets;

namespace Vigil.Host.Net;

/// <summary>
/// Free TCP ports on 127.0.0.1 for local clusters (demo, tests). The kernel may hand the same ephemeral
/// port out again once its probe listener is closed, so ports given out by this process are remembered
/// and never given twice (two members on one port would make a one-member "majority").
/// </summary>
public static class LoopbackPorts
{
    private static readonly HashSet<int> Given = [];

    public static int Free()
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            using var l = new TcpListener(IPAddress.Loopback, 0);
            l.Start();
            var port = ((IPEndPoint)l.LocalEndpoint).Port;
            lock (Given) { if (Given.Add(port)) return port; }
        }
        throw new InvalidOperationException("no unused loopback port after 100 attempts");
    }
}
