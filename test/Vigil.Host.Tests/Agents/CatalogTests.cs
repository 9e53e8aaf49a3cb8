using System.Diagnostics;
using Vigil.Host.Agents;
using Xunit.Abstractions;

namespace Vigil.Host.Tests.Agents;

/// <summary>What is installed: every agent of the resource-agents package, LSB scripts, systemd, built-in agents.</summary>
public sealed class CatalogTests
{
    private readonly ITestOutputHelper _output;

    public CatalogTests(ITestOutputHelper output) => _output = output;

    [Fact]
    public async Task Every_installed_OCF_agent_lists_and_its_meta_data_parses()
    {
        Requires.Root();
        Requires.Program("/usr/lib/ocf/resource.d/heartbeat/IPaddr2", "resource-agents");
        using var h = new AgentHarness();
        var agents = h.Runner.List().Where(a => a.Class == AgentClass.Ocf).ToList();
        // Everything the resource-agents package installs (dpkg -L), not just what a directory scan finds.
        var packaged = Sh.Run("dpkg", "-L", "resource-agents").Split('\n')
            .Where(l => l.StartsWith("/usr/lib/ocf/resource.d/", StringComparison.Ordinal) && l.Count(c => c == '/') == 6)
            .Select(l => l.Split('/')).Where(p => !p[6].StartsWith('.')).Select(p => $"ocf:{p[5]}:{p[6]}").ToHashSet();
        Assert.True(packaged.Count >= 100, $"dpkg lists only {packaged.Count} agents of resource-agents");
        var listed = agents.Select(a => a.ToString()).ToHashSet();
        Assert.Empty(packaged.Except(listed));

        var sw = Stopwatch.StartNew();
        var failures = new System.Collections.Concurrent.ConcurrentBag<string>();
        var parameters = 0;
        await Parallel.ForEachAsync(agents, new ParallelOptions { MaxDegreeOfParallelism = 3 }, async (agent, ct) =>
        {
            var (md, error) = await h.Runner.MetadataAsync(agent, ct);
            if (md is null) failures.Add(error ?? agent.ToString());
            else
            {
                Interlocked.Add(ref parameters, md.Parameters.Count);
                if (!md.HasAction("start") && !md.HasAction("monitor")) failures.Add($"{agent}: no start or monitor action in its meta-data");
            }
        });
        _output.WriteLine($"{agents.Count} OCF agents, {parameters} parameters, meta-data of all in {sw.ElapsedMilliseconds} ms");
        Assert.Empty(failures);
    }

    [Fact]
    public async Task Meta_data_parsing_tolerates_agents_that_break_the_schema()
    {
        // Shaped like ocf:linbit:drbd: a DOCTYPE to an external DTD, parameters without shortdesc, typed defaults like "5s".
        const string xml = """
            <?xml version="1.0"?>
            <!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
            <resource-agent name="drbd">
            <version>1.0</version>
            <longdesc lang="en">Manages a DRBD device.</longdesc>
            <parameters>
            <parameter name="drbd_resource" unique="1" required="1">
            <longdesc lang="en">The name of the drbd resource.</longdesc>
            <content type="string"/>
            </parameter>
            <parameter name="dampen"><content type="integer" default="5s"/></parameter>
            </parameters>
            <actions><action name="start" timeout="240"/><action name="monitor" timeout="20" interval="20" role="Slave"/></actions>
            </resource-agent>
            """;
        Assert.True(MetadataParser.TryParse("WARNING: something odd\n" + xml, out var md, out var error), error);
        Assert.Equal("drbd", md.Name);
        Assert.True(md.Parameter("drbd_resource")!.Required);
        Assert.Equal("", md.Parameter("drbd_resource")!.ShortDescription);
        Assert.Equal("5s", md.Parameter("dampen")!.Default);
        Assert.Equal("Slave", md.Actions.Single(a => a.Name == "monitor").Role);
        await Task.CompletedTask;
    }

    [Fact]
    public async Task An_LSB_init_script_runs_with_its_status_codes_mapped_to_OCF()
    {
        Requires.Root();
        using var init = new TempDir("vigil-init");
        var pidFile = init.File("demo.pid");
        File.WriteAllText(init.File("demo"), $$"""
            #!/bin/sh
            ### BEGIN INIT INFO
            # Provides:          demo
            # Required-Start:    $network
            # Short-Description: Demo service
            # Description:       A demo service for the executor's tests,
            #                    spanning two lines.
            ### END INIT INFO
            PID={{pidFile}}
            case "$1" in
              start) [ -f $PID ] || echo running > $PID; exit 0 ;;
              stop) rm -f $PID; exit 0 ;;
              status) [ -f $PID ] && exit 0; exit 3 ;;
              crash) exit 42 ;;
              *) exit 3 ;;
            esac
            """);
        File.SetUnixFileMode(init.File("demo"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        using var h = new AgentHarness(initDir: init.Path);
        AgentAction A(string action, long interval = 0) => h.Action("lsb:demo", "demo", action, interval);

        Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("start"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("monitor", 15_000))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("start"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("stop"))).Rc);
        Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor", 15_000))).Rc);
        Assert.Equal(OcfCode.ErrGeneric, (await h.Run(A("crash"))).Rc);
        var (md, error) = await h.Runner.MetadataAsync(new AgentId(AgentClass.Lsb, null, "demo"));
        Assert.True(md is not null, error);
        Assert.Equal("Demo service", md.ShortDescription);
        Assert.Equal("A demo service for the executor's tests, spanning two lines.", md.LongDescription);
        // service: picks the init script when there is one.
        Assert.Equal(OcfCode.NotRunning, (await h.Run(h.Action("service:demo", "demo", "monitor"))).Rc);
    }

    [Fact]
    public async Task Systemd_units_give_a_clear_error_where_systemd_is_not_running()
    {
        Requires.Root();
        using var h = new AgentHarness();
        var r = await h.Run(h.Action("systemd:nginx", "web", "start"));
        if (ProcessAgentRunner.SystemdRunning)
        {
            Assert.NotEqual(ExecStatus.NotInstalled, r.Status);
            return;
        }
        Assert.Equal(ExecStatus.NotInstalled, r.Status);
        Assert.Equal(OcfCode.ErrInstalled, r.Rc);
        Assert.Contains("systemd is not running as PID 1", r.ExitReason, StringComparison.Ordinal);
        Assert.Contains("use an lsb: or ocf: agent", r.ExitReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_built_in_vigil_Dummy_agent_runs_in_process_with_a_state_file()
    {
        using var h = new AgentHarness();
        AgentAction A(string action) => h.Action("vigil:Dummy", "vd", action) with { NodeName = "node1" };
        Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("start"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("monitor"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("promote"))).Rc);
        Assert.Equal(OcfCode.RunningPromoted, (await h.Run(A("monitor"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("demote"))).Rc);
        Assert.Equal(OcfCode.Success, (await h.Run(A("stop"))).Rc);
        Assert.Equal(OcfCode.NotRunning, (await h.Run(A("monitor"))).Rc);
        Assert.Equal(OcfCode.ErrUnimplemented, (await h.Run(A("bogus"))).Rc);
        var slow = await h.Run(A("start").WithParameter("delay", "5000") with { Timeout = TimeSpan.FromMilliseconds(200) });
        Assert.Equal(ExecStatus.Timeout, slow.Status);
        var (md, error) = await h.Runner.MetadataAsync(new AgentId(AgentClass.Vigil, null, "Dummy"));
        Assert.True(md is not null, error);
    }
}
