using System.Net.Sockets;

namespace Vigil.Host.Daemon;

public sealed partial class NodeDaemon
{
    private static readonly int DaemonUid = LocalAccess.EffectiveUid();

    /// <summary>
    /// After binding: the local socket becomes mode 0660, owned by the API group when that group exists (else
    /// only root and the daemon's user can connect). Until then the kernel's default mode (the umask's, without
    /// write for others) already keeps other users out.
    /// </summary>
    private void SecureLocalSocket()
    {
        if (_settings.LocalSocketOrDefault is not { } path || !File.Exists(path)) return;
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.GroupWrite);
        var group = LocalAccess.Group(_settings.ApiGroup);
        if (group is { } g)
        {
            if (!LocalAccess.ChangeGroup(path, g.Gid, out var errno))
                Log($"local API {path}: cannot give it to group '{_settings.ApiGroup}' (errno {errno}): only root and this daemon's user can use it");
            else Log($"local API {path}: root and members of group '{_settings.ApiGroup}'");
        }
        else Log($"local API {path}: root only (no group '{_settings.ApiGroup}' on this host: 'groupadd {_settings.ApiGroup}' and restart to let its members in)");
    }

    /// <summary>
    /// A socket left by a daemon that died is in the way of binding, and is removed. Anything else at that path
    /// is left alone and refused (IOException, which the daemon's start reports): a live daemon's socket, or a
    /// file with content (a wrong 'localSocket' must never delete a file).
    /// </summary>
    private static void RemoveStaleSocket(string path)
    {
        if (!File.Exists(path)) return;
        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"another process listens on the local API socket {path} (is another vigil daemon running with these settings?)");
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused) { }
        }
        if (new FileInfo(path).Length > 0)
            throw new IOException($"{path} is a file, not a socket; it is left alone: set 'localSocket' in the settings to another path");
        File.Delete(path);
    }

    /// <summary>Why the peer on the local socket may not use the API, or null when it may.</summary>
    private string? LocalAccessRefusal(Socket socket)
    {
        if (LocalAccess.PeerCredentials(socket) is not { } peer) return "the caller's credentials are unknown";
        var group = LocalAccess.Group(_settings.ApiGroup);
        if (LocalAccess.Allowed(peer.Uid, peer.Gid, DaemonUid, group, uid => LocalAccess.UserName(uid)))
            return null;
        return $"uid {peer.Uid} ({LocalAccess.UserName(peer.Uid) ?? "unknown user"}, pid {peer.Pid}) is neither root nor in group '{_settings.ApiGroup}'{(group is null ? " (which does not exist)" : "")}";
    }
}
