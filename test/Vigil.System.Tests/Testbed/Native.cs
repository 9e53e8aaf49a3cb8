using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vigil.SystemTests.Testbed;

/// <summary>The few system calls the testbed needs: signals by pid, and sockets inside a network namespace.</summary>
public static partial class Native
{
    public const int SigKill = 9, SigTerm = 15, SigCont = 18, SigStop = 19;
    private const int CloneNewNet = 0x40000000;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillSys(int pid, int sig);

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(int fd, int nstype);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint GetEuid();

    /// <summary>Sends a signal; false when the process is gone already.</summary>
    public static bool Signal(int pid, int sig) => KillSys(pid, sig) == 0;

    /// <summary>
    /// A TCP socket that lives in the network namespace <paramref name="netns"/> (a name from 'ip netns'):
    /// created on a short-lived thread that joined the namespace; the socket keeps its namespace after the
    /// thread ends, so the test process talks to the nodes without any address outside the namespaces.
    /// </summary>
    public static Socket SocketIn(string netns)
    {
        Socket? socket = null;
        Exception? error = null;
        var t = new Thread(() =>
        {
            try
            {
                using var ns = File.OpenHandle($"/run/netns/{netns}", FileMode.Open, FileAccess.Read);
                if (SetNs((int)ns.DangerousGetHandle(), CloneNewNet) != 0)
                    throw new IOException($"setns({netns}) failed: errno {Marshal.GetLastPInvokeError()}");
                socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or SocketException) { error = e; }
        });
        t.Start();
        t.Join();
        return socket ?? throw new IOException($"cannot open a socket in network namespace {netns}: {error?.Message}", error);
    }
}
