using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Vigil.Host.Daemon;

/// <summary>
/// Who may use a node's local API socket: root, the daemon's own user, and members of the API group
/// ('vigil' unless the settings name another). The socket file is mode 0660 and owned by that group, so
/// the kernel already refuses everyone else; the daemon checks the caller's credentials (SO_PEERCRED) as well.
/// Users and groups come from /etc/passwd and /etc/group (local accounts, as on a cluster node).
/// </summary>
public static partial class LocalAccess
{
    /// <summary>A group's id and its listed members, or null when no such group exists.</summary>
    public static (int Gid, IReadOnlyList<string> Members)? Group(string name, string groupFile = "/etc/group")
    {
        if (!File.Exists(groupFile)) return null;
        foreach (var line in File.ReadLines(groupFile))
        {
            var f = line.Split(':');
            if (f.Length >= 4 && f[0] == name && int.TryParse(f[2], out var gid))
                return (gid, f[3].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        }
        return null;
    }

    /// <summary>The user name of <paramref name="uid"/>, if /etc/passwd has it.</summary>
    public static string? UserName(int uid, string passwdFile = "/etc/passwd")
    {
        if (!File.Exists(passwdFile)) return null;
        foreach (var line in File.ReadLines(passwdFile))
        {
            var f = line.Split(':');
            if (f.Length >= 4 && int.TryParse(f[2], out var u) && u == uid) return f[0];
        }
        return null;
    }

    /// <summary>Whether a caller with these credentials may use the local API (pure apart from the lookups passed in).</summary>
    public static bool Allowed(int uid, int gid, int daemonUid, (int Gid, IReadOnlyList<string> Members)? group, Func<int, string?> userName) =>
        uid == 0 || uid == daemonUid
        || (group is { } g && (gid == g.Gid || (userName(uid) is { } user && g.Members.Contains(user, StringComparer.Ordinal))));

    /// <summary>The connected peer's process credentials (Linux SO_PEERCRED), or null when unavailable.</summary>
    public static (int Pid, int Uid, int Gid)? PeerCredentials(Socket socket)
    {
        const int SolSocket = 1, SoPeerCred = 17;
        var buf = new byte[12];
        try
        {
            if (socket.GetRawSocketOption(SolSocket, SoPeerCred, buf) < 12) return null;
        }
        catch (SocketException) { return null; }
        return (BitConverter.ToInt32(buf, 0), BitConverter.ToInt32(buf, 4), BitConverter.ToInt32(buf, 8));
    }

    /// <summary>Gives the socket file to <paramref name="gid"/> (owner unchanged); false with errno on failure.</summary>
    public static bool ChangeGroup(string path, int gid, out int errno)
    {
        var rc = Chown(path, -1, gid);
        errno = rc == 0 ? 0 : Marshal.GetLastPInvokeError();
        return rc == 0;
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Chown(string path, int owner, int group);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial int EffectiveUid();
}
