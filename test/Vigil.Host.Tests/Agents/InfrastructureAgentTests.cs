using Vigil.Host.Agents;
using Xunit.Abstractions;

namespace Vigil.Host.Tests.Agents;

/// <summary>Agents that change the host: IPaddr2 in a network namespace the test creates, Filesystem on a loop device.</summary>
public sealed class InfrastructureAgentTests
{
    private readonly ITestOutputHelper _output;

    public InfrastructureAgentTests(ITestOutputHelper output) => _output = output;

    /// <summary>Processes whose command line contains every one of <paramref name="parts"/>.</summary>
    private static List<int> FindProcesses(params string[] parts)
    {
        var found = new List<int>();
        foreach (var dir in Directory.GetDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (parts.All(p => cmd.Contains(p, StringComparison.Ordinal)) && Sh.Alive(pid)) found.Add(pid);
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return found;
    }
    [Fact]
    public async Task Heartbeat_IPaddr2_adds_and_removes_an_address_on_a_veth_inside_a_namespace_without_waiting_for_send_arp()
    {
        Requires.Root();
        var tag = Guid.NewGuid().ToString("N")[..6];
        string nsA = $"vigil-a-{tag}", nsB = $"vigil-b-{tag}", vethA = $"vga{tag}", vethB = $"vgb{tag}";
        try
        {
            Sh.Run("ip", "netns", "add", nsA);
            Sh.Run("ip", "netns", "add", nsB);
            Sh.Run("ip", "link", "add", vethA, "type", "veth", "peer", "name", vethB);
            Sh.Run("ip", "link", "set", vethA, "netns", nsA);
            Sh.Run("ip", "link", "set", vethB, "netns", nsB);
            Sh.Run("ip", "-n", nsA, "addr", "add", "10.250.0.1/24", "dev", vethA);
            Sh.Run("ip", "-n", nsB, "addr", "add", "10.250.0.2/24", "dev", vethB);
            foreach (var (ns, dev) in new[] { (nsA, vethA), (nsB, vethB) })
            {
                Sh.Run("ip", "-n", ns, "link", "set", "lo", "up");
                Sh.Run("ip", "-n", ns, "link", "set", dev, "up");
            }

            using var h = new AgentHarness(netns: nsA);
            var rsc = "ip" + tag;
            AgentAction A(string action, long interval = 0) => h.Action("ocf:heartbeat:IPaddr2", rsc, action, interval,
                ("ip", "10.250.0.100"), ("cidr_netmask", "24"));

            Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor"))).Rc);
            Assert.Equal(OcfCode.Success, (await h.Run(A("validate-all"))).Rc);
            var start = await h.Run(A("start"));
            Assert.True(start.Rc == OcfCode.Success, $"IPaddr2 start rc {start.Rc}: {start.Stderr}");
            // send_arp stays in the background for ~1 s holding the agent's output; completion is decided on exit,
            // so start returns while send_arp still runs, and it is not killed.
            // (Under load the backgrounded subshell may not have exec'd send_arp yet: look for up to 1 s.)
            var sendArp = FindProcesses("send_arp", "10.250.0.100");
            for (int i = 0; i < 20 && sendArp.Count == 0; i++)
            {
                await Task.Delay(50);
                sendArp = FindProcesses("send_arp", "10.250.0.100");
            }
            _output.WriteLine($"IPaddr2 start: {start.Duration.TotalMilliseconds:F0} ms; send_arp still running: {sendArp.Count}\n{start.Stderr}");
            Assert.NotEmpty(sendArp);
            Assert.True(start.Duration < TimeSpan.FromSeconds(5), $"start took {start.Duration.TotalMilliseconds} ms");
            Assert.Contains("10.250.0.100/24", Sh.Run("ip", "-n", nsA, "addr", "show", "dev", vethA), StringComparison.Ordinal);
            Assert.Equal(OcfCode.Success, (await h.Run(A("monitor", 30_000))).Rc);
            var (pingRc, pingOut) = Sh.TryRun("ip", "netns", "exec", nsB, "ping", "-c", "1", "-W", "2", "10.250.0.100");
            Assert.True(pingRc == 0, $"the address is not reachable from the peer namespace: {pingOut}");
            Assert.Equal(OcfCode.Success, (await h.Run(A("stop"))).Rc);
            Assert.DoesNotContain("10.250.0.100", Sh.Run("ip", "-n", nsA, "addr", "show", "dev", vethA), StringComparison.Ordinal);
            Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor", 30_000))).Rc);
        }
        finally
        {
            Sh.TryRun("ip", "netns", "del", nsA);
            Sh.TryRun("ip", "netns", "del", nsB);
        }
    }

    [Fact]
    public async Task Heartbeat_Filesystem_mounts_checks_and_unmounts_ext4_on_a_loop_device()
    {
        Requires.Root();
        Requires.Program("/usr/sbin/mkfs.ext4", "e2fsprogs");
        Requires.Program("/usr/sbin/modprobe", "kmod");
        using var dir = new TempDir("vigil-fs");
        var image = dir.File("ext4.img");
        var mnt = dir.File("mnt");
        Directory.CreateDirectory(mnt);
        string? loop = null;
        try
        {
            using (var f = File.Create(image)) f.SetLength(32 << 20);
            Sh.Run("mkfs.ext4", "-q", "-F", image);
            loop = Sh.Run("losetup", "-f", "--show", image).Trim();
            using var h = new AgentHarness();
            var rsc = "fs" + Guid.NewGuid().ToString("N")[..6];
            AgentAction A(string action, long interval = 0, int? level = null) => h.Action("ocf:heartbeat:Filesystem", rsc, action, interval,
                ("device", loop), ("directory", mnt), ("fstype", "ext4")) with { Timeout = TimeSpan.FromSeconds(60), CheckLevel = level };

            Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor"))).Rc);
            var start = await h.Run(A("start"));
            Assert.True(start.Rc == OcfCode.Success, $"Filesystem start rc {start.Rc}: {start.ExitReason} {start.Stderr}");
            Assert.Contains(mnt, File.ReadAllText("/proc/mounts"), StringComparison.Ordinal);
            Assert.Equal(OcfCode.Success, (await h.Run(A("monitor", 20_000))).Rc);
            Assert.Equal(OcfCode.Success, (await h.Run(A("monitor", 20_000, 10))).Rc);
            Assert.Equal(OcfCode.Success, (await h.Run(A("monitor", 20_000, 20))).Rc);
            Assert.Equal(OcfCode.Success, (await h.Run(A("start"))).Rc);
            Assert.Equal(OcfCode.Success, (await h.Run(A("stop"))).Rc);
            Assert.DoesNotContain(mnt, File.ReadAllText("/proc/mounts"), StringComparison.Ordinal);
            Assert.Equal(OcfCode.Success, (await h.Run(A("stop"))).Rc);
            Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor", 20_000))).Rc);

            var noDevice = await h.Run(h.Action("ocf:heartbeat:Filesystem", rsc, "start", 0, ("directory", mnt), ("fstype", "ext4")));
            Assert.Equal(OcfCode.ErrConfigured, noDevice.Rc);
            Assert.Equal(Recovery.Fatal, ResultMapping.Remap(h.Action("ocf:heartbeat:Filesystem", rsc, "start"), noDevice).Recovery);
        }
        finally
        {
            if (File.ReadAllText("/proc/mounts").Contains(mnt, StringComparison.Ordinal)) Sh.TryRun("umount", "-l", mnt);
            if (loop is not null) Sh.TryRun("losetup", "-d", loop);
        }
    }
}
