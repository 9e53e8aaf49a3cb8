using System.Runtime.InteropServices;

namespace Vigil.Host.Daemon;

/// <summary>The configured watchdog device cannot be opened (the daemon then does not start).</summary>
public sealed class WatchdogException(string message) : IOException(message);

/// <summary>
/// A Linux watchdog device (<c>/dev/watchdog</c>: a hardware timer, or the <c>softdog</c> module): once opened,
/// the kernel or the hardware resets the host unless something is written to it within its timeout. The daemon
/// feeds it while the node may keep its resources, so a node that must fence itself is reset even when the
/// daemon cannot act any more: it hangs, is paused (SIGSTOP), or a stop outlasts the lease. A clean stop of the
/// daemon writes the magic 'V' before closing, which disarms drivers that allow it; after a crash or a
/// self-fence nothing is written and the host resets when the timeout runs out.
/// </summary>
public sealed partial class Watchdog : IDisposable
{
    private const int OpenWriteOnly = 0x1, OpenAppend = 0x400, OpenCloseOnExec = 0x80000;
    /// <summary>WDIOC_SETTIMEOUT, _IOWR('W', 6, int).</summary>
    private const nuint SetTimeoutRequest = 0xC0045706;
    private static readonly byte[] Keepalive = "."u8.ToArray();
    private static readonly byte[] MagicClose = "V"u8.ToArray();
    private int _fd;
    private readonly Lock _lock = new();

    private Watchdog(int fd, string path, int? timeoutSeconds)
    {
        _fd = fd;
        Path = path;
        TimeoutSeconds = timeoutSeconds;
    }

    public string Path { get; }

    /// <summary>The timeout the device accepted, or null when it is not a watchdog device (it refused the ioctl: a plain file, as in tests).</summary>
    public int? TimeoutSeconds { get; }

    /// <summary>Opens (and so arms) the device and asks it for <paramref name="timeoutSeconds"/>; feeds it once.</summary>
    public static Watchdog Open(string path, int timeoutSeconds)
    {
        var fd = OpenFile(path, OpenWriteOnly | OpenAppend | OpenCloseOnExec);
        if (fd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new WatchdogException($"cannot open the watchdog device {path}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno}); " +
                "load a watchdog driver (e.g. 'modprobe softdog'), make sure no other program (watchdog, sbd) holds it, or remove WatchdogDevice from the settings");
        }
        var timeout = timeoutSeconds;
        var dog = new Watchdog(fd, path, Ioctl(fd, SetTimeoutRequest, ref timeout) == 0 ? timeout : null);
        dog.Feed();
        return dog;
    }

    /// <summary>Restarts the device's timer; false once the device is closed or a write failed.</summary>
    public bool Feed() => Write(Keepalive);

    /// <summary>A clean stop: the magic close, then close. Never called on a self-fence.</summary>
    public void Disarm()
    {
        Write(MagicClose);
        Dispose();
    }

    /// <summary>Closes without the magic close: an armed device keeps counting.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_fd < 0) return;
            Close(_fd);
            _fd = -1;
        }
    }

    private bool Write(byte[] data)
    {
        lock (_lock)
        {
            return _fd >= 0 && WriteFile(_fd, data, data.Length) == data.Length;
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenFile(string path, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint WriteFile(int fd, byte[] data, nint count);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    private static partial int Ioctl(int fd, nuint request, ref int value);
}
