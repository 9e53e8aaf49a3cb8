using System.Globalization;

namespace Vigil.SystemTests.Testbed;

/// <summary>
/// The testbed's power switch as a fence device: stonith:fence_vtb (installed in every node's fence-agent
/// folder) asks the testbed to power a node off by writing a request file outside the cluster, and waits
/// until the testbed has pulled the node's cable and killed its processes (or finds it already off). With
/// the parameter refuse=REASON it is a broken switch: monitor works, every off/reboot fails with REASON.
/// </summary>
public sealed partial class Testbed
{
    private Thread? _fencer;
    private volatile bool _fencerStop;
    private readonly object _power = new();

    public string FenceAgentDir => Path.Combine(Dir, "fence-agents");
    public string FenceRequests => Path.Combine(Dir, "fence-requests");

    /// <summary>The crm line of the testbed's fence device.</summary>
    public string FenceDevice => FenceVtb("");

    /// <summary>The crm line of a fence_vtb device that never powers a node off and answers every off/reboot with "Failed: <paramref name="reason"/>".</summary>
    public string BrokenFenceDevice(string reason) => FenceVtb($" refuse=\"{reason}\"");

    private string FenceVtb(string more) =>
        $"primitive fence stonith:fence_vtb params pcmk_host_list=\"{string.Join(' ', Names)}\" requests=\"{FenceRequests}\"{more} op monitor interval=30s";

    private const string Agent = """
        #!/bin/sh
        # fence_vtb: the testbed's power switch (see Fencer.cs); fence-agent protocol on stdin.
        while IFS='=' read -r k v; do
            case "$k" in action) action=$v ;; nodename) node=$v ;; requests) dir=$v ;; refuse) refuse=$v ;; esac
        done
        case "$action" in
            monitor|status|on) [ -d "$dir" ] && exit 0; echo "Failed: no request folder $dir" >&2; exit 1 ;;
            off|reboot)
                [ -n "$refuse" ] && { echo "Failed: $refuse" >&2; exit 1; }
                f="$dir/$node"
                echo "$action" > "$f.tmp" && mv "$f.tmp" "$f"
                i=0
                while [ -e "$f" ]; do
                    i=$((i + 1)); [ "$i" -gt 1500 ] && { echo "Failed: the testbed did not power off $node" >&2; exit 1; }
                    sleep 0.02
                done
                exit 0 ;;
            *) echo "Failed: unsupported action $action" >&2; exit 1 ;;
        esac
        """;

    /// <summary>Installs fence_vtb and starts serving its requests (until dispose).</summary>
    public void StartFencer()
    {
        Directory.CreateDirectory(FenceAgentDir);
        Directory.CreateDirectory(FenceRequests);
        var path = Path.Combine(FenceAgentDir, "fence_vtb");
        File.WriteAllText(path, Agent + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _fencer = new Thread(ServeFencing) { IsBackground = true, Name = "testbed fencer" };
        _fencer.Start();
    }

    /// <summary>Makes an installed fence agent (Debian's /usr/sbin/fence_dummy) available to the nodes, next to fence_vtb.</summary>
    public void InstallFenceAgent(string path)
    {
        Directory.CreateDirectory(FenceAgentDir);
        File.CreateSymbolicLink(Path.Combine(FenceAgentDir, Path.GetFileName(path)), path);
    }

    private void StopFencer()
    {
        _fencerStop = true;
        _fencer?.Join(2000);
    }

    private void ServeFencing()
    {
        while (!_fencerStop)
        {
            foreach (var request in Directory.Exists(FenceRequests) ? Directory.GetFiles(FenceRequests).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal)) : [])
            {
                var node = Path.GetFileName(request);
                if (!Names.Contains(node)) { File.Delete(request); continue; }
                lock (_power)
                {
                    bool running = _daemons.ContainsKey(node);
                    if (running) PowerOff(node);
                    AppendSide(node, "fenced", "*");
                    Log($"{node}: fenced by the cluster ({(running ? "powered off now" : "was already off")})");
                }
                File.Delete(request);
            }
            Thread.Sleep(20);
        }
    }

    /// <summary>Seconds since <paramref name="t0"/> when the side channel first recorded a fencing of <paramref name="node"/>, if it did.</summary>
    public double? FencedAfter(string node, double t0)
    {
        foreach (var line in File.ReadLines(SideChannel))
        {
            var parts = line.Split(' ');
            if (parts.Length >= 3 && parts[1] == node && parts[2] == "fenced"
                && double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var t) && t >= t0)
                return t - t0;
        }
        return null;
    }
}
