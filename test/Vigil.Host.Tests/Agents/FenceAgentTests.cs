using Vigil.Host.Agents;

namespace Vigil.Host.Tests.Agents;

/// <summary>fence_dummy from the fence-agents package, driven through stdin exactly as the fencer does.</summary>
public sealed class FenceAgentTests
{
    [Fact]
    public async Task Fence_dummy_goes_through_every_action_it_supports()
    {
        Requires.Root();
        Requires.Program("/usr/sbin/fence_dummy", "fence-agents");
        using var h = new AgentHarness();
        var statusFile = h.Dir.File("plug.status");
        File.WriteAllText(statusFile, "on"); // the agent compares "on" exactly: no newline
        var fencer = new FenceRunner(h.Runner);
        var device = new FenceDevice("st-dummy", "fence_dummy")
        {
            Parameters = new Dictionary<string, string> { ["status_file"] = statusFile, ["pcmk_host_list"] = "node2" },
        };

        var status = await fencer.RunAsync(device, "status", "node2");
        Assert.Equal(FenceOutcome.Success, status.Outcome);
        Assert.Contains("Status: ON", status.Agent.Stdout, StringComparison.Ordinal);
        Assert.Equal(FenceOutcome.Success, (await fencer.RunAsync(device, "off", "node2")).Outcome);
        Assert.Equal("off", File.ReadAllText(statusFile).Trim());
        var off = await fencer.RunAsync(device, "status", "node2");
        Assert.Equal(FenceOutcome.Off, off.Outcome);
        Assert.Equal(2, off.Agent.RawExitCode);
        Assert.Equal(OcfCode.NotRunning, off.Agent.Rc);
        Assert.Equal(FenceOutcome.Success, (await fencer.RunAsync(device, "on", "node2")).Outcome);
        Assert.Equal("on", File.ReadAllText(statusFile).Trim());
        Assert.Equal(FenceOutcome.Success, (await fencer.RunAsync(device, "reboot", "node2")).Outcome);
        Assert.Equal(FenceOutcome.Success, (await fencer.RunAsync(device, "monitor", null)).Outcome);
        var list = await fencer.RunAsync(device, "list", null);
        Assert.Equal(FenceOutcome.Failed, list.Outcome);
        Assert.Contains("Unrecognised action", list.Agent.ExitReason ?? list.Agent.Stderr, StringComparison.OrdinalIgnoreCase);

        var (md, error) = await h.Runner.MetadataAsync(new AgentId(AgentClass.Stonith, null, "fence_dummy"));
        Assert.True(md is not null, error);
        Assert.NotNull(md.Parameter("status_file"));
        Assert.True(md.HasAction("off"));
    }

    [Fact]
    public async Task A_fence_agent_that_cannot_finish_is_killed_at_its_timeout()
    {
        Requires.Root();
        Requires.Program("/usr/sbin/fence_dummy", "fence-agents");
        using var h = new AgentHarness();
        var fencer = new FenceRunner(h.Runner);
        // type=fail never powers off; the agent would wait ~20 s on its own.
        var device = new FenceDevice("st-fail", "fence_dummy")
        {
            Parameters = new Dictionary<string, string> { ["type"] = "fail", ["pcmk_reboot_timeout"] = "2s" },
        };
        var r = await fencer.RunAsync(device, "reboot", "node2");
        Assert.Equal(FenceOutcome.TimedOut, r.Outcome);
        Assert.True(r.Agent.Duration < TimeSpan.FromSeconds(4), $"took {r.Agent.Duration}");
        Assert.False(r.Succeeded);
    }

    [Fact]
    public async Task Fence_device_secrets_never_appear_in_results_even_when_the_agent_echoes_them()
    {
        Requires.Root();
        Requires.Program("/usr/sbin/fence_dummy", "fence-agents");
        using var h = new AgentHarness();
        var statusFile = h.Dir.File("plug.status");
        File.WriteAllText(statusFile, "on");
        var device = new FenceDevice("st-secret", "fence_dummy")
        {
            // fence_dummy does not know 'password' and prints the whole unknown option on stderr.
            Parameters = new Dictionary<string, string> { ["status_file"] = statusFile, ["password"] = "hunter2-very-secret" },
        };
        var r = await new FenceRunner(h.Runner).RunAsync(device, "status", "node2");
        Assert.Equal(FenceOutcome.Success, r.Outcome);
        Assert.DoesNotContain("hunter2-very-secret", r.Agent.Stderr + r.Agent.Stdout + r.Agent.ExitReason, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", FenceArgs.Redacted(FenceArgs.Build(device, "status", "node2")), StringComparison.Ordinal);
    }
}
