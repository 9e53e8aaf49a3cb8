using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Vigil.SystemTests.Testbed;

/// <summary>
/// The user's view: a client in the bridge namespace pings the floating IP every 50 ms ('ping -D' stamps
/// each reply with the wall clock). Bounded by ping's own deadline; killed on dispose.
/// </summary>
public sealed class VipProbe : IDisposable
{
    private readonly Process _ping;
    private readonly ConcurrentQueue<double> _replies = new();

    public VipProbe(Testbed bed, string ip, int deadlineSeconds = 300)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in new[] { "netns", "exec", bed.BridgeNs, "ping", "-n", "-D", "-i", "0.05", "-W", "1", "-w", deadlineSeconds.ToString(CultureInfo.InvariantCulture), ip })
            psi.ArgumentList.Add(a);
        _ping = Process.Start(psi) ?? throw new InvalidOperationException("cannot start ping");
        _ping.StandardInput.Close();
        _ping.OutputDataReceived += (_, e) =>
        {
            // "[1764590000.123456] 64 bytes from 10.250.0.100: icmp_seq=3 ttl=64 time=0.05 ms"
            if (e.Data is { } line && line.StartsWith('[') && line.Contains(" bytes from ", StringComparison.Ordinal)
                && double.TryParse(line[1..line.IndexOf(']', StringComparison.Ordinal)], NumberStyles.Float, CultureInfo.InvariantCulture, out var t))
                _replies.Enqueue(t);
        };
        _ping.ErrorDataReceived += (_, _) => { };
        _ping.BeginOutputReadLine();
        _ping.BeginErrorReadLine();
    }

    /// <summary>The first reply stamped after <paramref name="t0"/>, waiting at most <paramref name="within"/>.</summary>
    public double? FirstReplyAfter(double t0, TimeSpan within)
    {
        var sw = Stopwatch.StartNew();
        while (true)
        {
            foreach (var t in _replies)
                if (t > t0) return t;
            if (sw.Elapsed > within || _ping.HasExited) return null;
            Thread.Sleep(10);
        }
    }

    public void Dispose()
    {
        try { if (!_ping.HasExited) _ping.Kill(); _ping.WaitForExit(2000); }
        catch (InvalidOperationException) { }
        _ping.Dispose();
    }
}
