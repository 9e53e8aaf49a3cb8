using Vigil.Host.Agents;
using Xunit.Abstractions;

namespace Vigil.Host.Tests.Agents;

/// <summary>Process groups, timeouts and output capture, with small agents the test writes into a private OCF root.</summary>
public sealed class ProcessHandlingTests : IDisposable
{
    private readonly TempDir _root = new("vigil-ocf");
    private readonly ITestOutputHelper _output;

    private const string TestAgent = """
#!/bin/bash
# A misbehaving agent for the executor's tests.
pids="$OCF_RESKEY_pids"
case "$1" in
    hang)
        sleep 300 &
        echo $! >> "$pids"
        sh -c 'sleep 301' &
        echo $! >> "$pids"
        echo $$ >> "$pids"
        echo "about to hang" >&2
        sleep 302 ;;
    background)
        # A child that inherits stdout/stderr and outlives the agent (like IPaddr2's send_arp).
        sleep 3 &
        echo $! >> "$pids"
        echo "started in the background"
        echo "ocf-exit-reason:nothing wrong" >&2
        exit 0 ;;
    fail)
        echo "first line" >&2
        echo "ocf-exit-reason:old reason" >&2
        echo "ocf-exit-reason:disk on fire" >&2
        echo "more noise" >&2
        exit 1 ;;
    noisy)
        i=0
        while [ $i -lt 20000 ]; do echo "noise line $i of the stderr flood" >&2; i=$((i + 1)); done
        exit 0 ;;
    env) env | sort; exit 0 ;;
    score) . "${OCF_ROOT}/lib/heartbeat/ocf-shellfuncs"; ocf_promotion_score -v "$OCF_RESKEY_score"; exit $? ;;
    meta-data) echo '<?xml version="1.0"?><resource-agent name="Test"><version>1.1</version><parameters/><actions/></resource-agent>'; exit 0 ;;
    *) exit 3 ;;
esac
""";

    public ProcessHandlingTests(ITestOutputHelper output)
    {
        _output = output;
        var dir = Path.Combine(_root.Path, "resource.d", "test");
        Directory.CreateDirectory(dir);
        var agent = Path.Combine(dir, "Test");
        File.WriteAllText(agent, TestAgent);
        File.SetUnixFileMode(agent, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.CreateSymbolicLink(Path.Combine(_root.Path, "lib"), "/usr/lib/ocf/lib");
    }

    public void Dispose() => _root.Dispose();

    private static List<int> Pids(string file) =>
        File.Exists(file) ? File.ReadAllLines(file).Where(l => l.Length > 0).Select(int.Parse).ToList() : [];

    [Fact]
    public async Task A_hanging_agent_is_killed_with_all_its_children_at_the_timeout()
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path);
        var pids = h.Dir.File("pids");
        var a = h.Action("ocf:test:Test", "hang1", "hang", 0, ("pids", pids)) with { Timeout = TimeSpan.FromSeconds(1) };
        var r = await h.Run(a);
        try
        {
            Assert.Equal(ExecStatus.Timeout, r.Status);
            _output.WriteLine($"hanging agent: timeout 1000 ms, returned after {r.Duration.TotalMilliseconds:F0} ms");
            Assert.True(r.Duration >= TimeSpan.FromSeconds(1) && r.Duration < TimeSpan.FromSeconds(3), $"took {r.Duration}");
            Assert.Contains("timed out after 1000 ms", r.ExitReason, StringComparison.Ordinal);
            Assert.Contains("about to hang", r.Stderr, StringComparison.Ordinal);
            var children = Pids(pids);
            Assert.Equal(3, children.Count);
            var deadline = DateTime.UtcNow.AddSeconds(5);
            while (children.Any(Sh.Alive) && DateTime.UtcNow < deadline) await Task.Delay(50);
            Assert.All(children, pid => Assert.False(Sh.Alive(pid), $"process {pid} of the agent's group survived the timeout"));
            Assert.Equal(Recovery.Soft, ResultMapping.Remap(a, r).Recovery);
        }
        finally
        {
            foreach (var pid in Pids(pids).Where(Sh.Alive)) ProcessRunner.KillGroup(pid);
        }
    }

    [Fact]
    public async Task An_agent_that_leaves_a_background_child_holding_its_output_completes_when_it_exits()
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path);
        var pids = h.Dir.File("pids");
        var r = await h.Run(h.Action("ocf:test:Test", "bg1", "background", 0, ("pids", pids)));
        try
        {
            Assert.Equal(OcfCode.Success, r.Rc);
            _output.WriteLine($"agent with a 3 s background child holding its output: completed in {r.Duration.TotalMilliseconds:F0} ms");
            Assert.True(r.Duration < TimeSpan.FromSeconds(2), $"took {r.Duration}: the executor waited for the background child");
            Assert.Contains("started in the background", r.Stdout, StringComparison.Ordinal);
            // A successful action's group is left alone: the child (send_arp for IPaddr2) keeps running.
            var child = Assert.Single(Pids(pids));
            Assert.True(Sh.Alive(child), "the background child was killed after a successful exit");
            // Exit reasons are only surfaced for failures.
            Assert.Null(r.ExitReason);
        }
        finally
        {
            foreach (var pid in Pids(pids).Where(Sh.Alive)) ProcessRunner.KillGroup(pid);
        }
    }

    [Fact]
    public async Task The_last_exit_reason_on_stderr_is_reported_for_a_failure()
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path);
        var r = await h.Run(h.Action("ocf:test:Test", "fail1", "fail"));
        Assert.Equal(OcfCode.ErrGeneric, r.Rc);
        Assert.Equal("disk on fire", r.ExitReason);
        Assert.Equal("more noise", r.StderrTail(1)[0]);
    }

    [Fact]
    public async Task Stderr_capture_is_bounded_and_keeps_the_tail()
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path);
        var r = await h.Run(h.Action("ocf:test:Test", "noisy1", "noisy"));
        Assert.Equal(OcfCode.Success, r.Rc);
        Assert.True(r.OutputTruncated);
        Assert.True(r.Stderr.Length <= 64 << 10);
        Assert.EndsWith("noise line 19999 of the stderr flood\n", r.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_agent_sees_the_environment_Pacemaker_would_give_it()
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path);
        var a = h.Action("ocf:test:Test", "db:1", "env", 30_000, ("ip", "10.250.0.9"), ("cidr-netmask", "24"))
            .WithMeta(CloneMeta.For(1, 2, promotedMax: 1)).WithMeta("role", "Promoted") with { CheckLevel = 10, TargetRc = 8 };
        var r = await h.Run(a);
        var env = r.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1]);
        Assert.Equal(_root.Path, env["OCF_ROOT"]);
        Assert.Equal("1", env["OCF_RA_VERSION_MAJOR"]);
        Assert.Equal("1", env["OCF_RA_VERSION_MINOR"]);
        Assert.Equal("ocf-exit-reason:", env["OCF_EXIT_REASON_PREFIX"]);
        Assert.Equal("db:1", env["OCF_RESOURCE_INSTANCE"]);
        Assert.Equal("Test", env["OCF_RESOURCE_TYPE"]);
        Assert.Equal("test", env["OCF_RESOURCE_PROVIDER"]);
        Assert.Equal("10.250.0.9", env["OCF_RESKEY_ip"]);
        Assert.Equal("24", env["OCF_RESKEY_cidr-netmask"]);
        Assert.Equal("30000", env["OCF_RESKEY_CRM_meta_interval"]);
        Assert.Equal("20000", env["OCF_RESKEY_CRM_meta_timeout"]);
        Assert.Equal("env", env["OCF_RESKEY_CRM_meta_name"]);
        Assert.Equal("Promoted", env["OCF_RESKEY_CRM_meta_role"]);
        Assert.Equal("8", env["OCF_RESKEY_CRM_meta_op_target_rc"]);
        Assert.Equal("1", env["OCF_RESKEY_CRM_meta_promoted_max"]);
        Assert.Equal("1", env["OCF_RESKEY_CRM_meta_master_max"]);
        Assert.Equal("2", env["OCF_RESKEY_CRM_meta_clone_max"]);
        Assert.Equal("10", env["OCF_CHECK_LEVEL"]);
        Assert.Equal("node1", env["OCF_RESKEY_CRM_meta_on_node"]);
        Assert.Equal(h.Shims.Directory, env["HA_SBIN_DIR"]);
        Assert.StartsWith(h.Shims.Directory + ":", env["PATH"], StringComparison.Ordinal);
        Assert.Equal("none", env["HA_LOGFACILITY"]);
        Assert.False(env.ContainsKey("HOME"), "the agent inherited the executor's own environment");
    }

    [Theory]
    [InlineData("3.16.1", "crm_attribute")]
    [InlineData("3.0.0", "crm_master")]
    public async Task Promotion_scores_set_through_ocf_promotion_score_reach_the_store_by_either_tool(string featureSet, string tool)
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path);
        // ocf_promotion_score picks crm_attribute -p from feature set 3.10.0 on, else crm_master -l reboot (drbd, older agents).
        var r = await h.Run(h.Action("ocf:test:Test", "ms:1", "score", 0, ("score", "7"), ("crm_feature_set", featureSet)));
        Assert.True(r.Rc == 0, r.Stderr);
        Assert.Equal("7", h.Store.Get("node1", "master-ms"));
        var call = Assert.Single(h.Shims.Log);
        Assert.Equal(tool, call.Tool);
        Assert.Equal("reboot", call.Lifetime);
    }

    [Fact]
    public async Task The_shims_answer_queries_from_the_attribute_store()
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path);
        var env = new Dictionary<string, string>(OcfEnvironment.Base(h.Paths)) { ["OCF_RESOURCE_INSTANCE"] = "web:0" };
        var runner = new ProcessRunner(h.Dir.File("sh"));
        async Task<ProcessOutcome> Sh(string script) => await runner.RunAsync(new ProcessSpec("/bin/sh", ["-c", script], env, TimeSpan.FromSeconds(10)));

        Assert.Equal("node1\n", (await Sh("crm_node -n")).Stdout);
        Assert.Equal(105, (await Sh("crm_attribute -p -G -q")).ExitCode);
        Assert.Equal(0, (await Sh("crm_attribute --promotion -v 7 && crm_master -l reboot -v 9 && attrd_updater -n pingd -U 3 -d 0")).ExitCode);
        h.Shims.Pump();
        Assert.Equal("9", h.Store.Get("node1", "master-web"));
        Assert.Equal("3", h.Store.Get("node1", "pingd"));
        Assert.Equal("9\n", (await Sh("crm_attribute --promotion -G -q")).Stdout);
        Assert.Equal("name=\"pingd\" host=\"node1\" value=\"3\"\n", (await Sh("attrd_updater -Q -n pingd")).Stdout);
        Assert.Equal("scope=status  name=pingd value=3\n", (await Sh("crm_attribute -N node1 -n pingd -G -l reboot")).Stdout);
        Assert.Equal(0, (await Sh("$HA_SBIN_DIR/crm_attribute --name=other --update=x --node=node2 && crm_attribute -p -D")).ExitCode);
        h.Shims.Pump();
        Assert.Equal("x", h.Store.Get("node2", "other"));
        Assert.Null(h.Store.Get("node1", "master-web"));
        Assert.Equal("Pacemaker 2.1.5\n", (await Sh("pacemakerd -$")).Stdout);
        h.Shims.SetRunning("web", ["node1"]);
        Assert.Equal("resource web is running on: node1\n", (await Sh("crm_resource --resource web --locate")).Stdout);
    }

    [Fact]
    public async Task Dampened_attributes_become_visible_on_time_while_the_pump_runs()
    {
        Requires.Root();
        using var h = new AgentHarness(ocfRoot: _root.Path, shimTime: TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var pump = h.Shims.PumpLoopAsync(TimeSpan.FromMilliseconds(50), stop.Token);
        var env = new Dictionary<string, string>(OcfEnvironment.Base(h.Paths)) { ["OCF_RESOURCE_INSTANCE"] = "p" };
        var sw = System.Diagnostics.Stopwatch.StartNew();
        var r = await new ProcessRunner(h.Dir.File("sh")).RunAsync(new ProcessSpec("/bin/sh", ["-c", "attrd_updater -n load -U 3 -d 1s"], env, TimeSpan.FromSeconds(10)));
        Assert.Equal(0, r.ExitCode);
        if (sw.Elapsed < TimeSpan.FromMilliseconds(800)) Assert.Null(h.Store.Get("node1", "load"));
        while (h.Store.Get("node1", "load") is null && sw.Elapsed < TimeSpan.FromSeconds(5)) await Task.Delay(20);
        Assert.Equal("3", h.Store.Get("node1", "load"));
        Assert.True(sw.Elapsed >= TimeSpan.FromSeconds(1) && sw.Elapsed < TimeSpan.FromSeconds(3), $"visible after {sw.ElapsedMilliseconds} ms");
        await stop.CancelAsync();
        await pump;
    }
}
