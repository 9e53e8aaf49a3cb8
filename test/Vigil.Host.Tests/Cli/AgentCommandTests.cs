using System.CommandLine;
using Vigil.Cli;
using Vigil.Host.Agents;

namespace Vigil.Host.Tests.Cli;

/// <summary><c>vigil agent …</c> end to end, in-process, with its output captured.</summary>
public sealed class AgentCommandTests : IDisposable
{
    private readonly TempDir _root = new("vigil-cli");
    private readonly ExecutorPaths _paths;

    public AgentCommandTests()
    {
        // A private OCF root: the real agents by symlink, plus a broken one.
        var rd = Path.Combine(_root.Path, "resource.d");
        Directory.CreateDirectory(Path.Combine(rd, "test"));
        Directory.CreateSymbolicLink(Path.Combine(rd, "heartbeat"), "/usr/lib/ocf/resource.d/heartbeat");
        Directory.CreateSymbolicLink(Path.Combine(_root.Path, "lib"), "/usr/lib/ocf/lib");
        var broken = Path.Combine(rd, "test", "Broken");
        File.WriteAllText(broken, "#!/bin/sh\n[ \"$1\" = meta-data ] && { echo '<resource-agent name=\"Broken\"><parameters>'; exit 0; }\nsleep 5\n");
        File.SetUnixFileMode(broken, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _paths = new ExecutorPaths { OcfRoot = _root.Path, NativeStateDir = Path.Combine(_root.Path, "native") };
    }

    public void Dispose() => _root.Dispose();

    private (int Rc, string Out, string Err) Vigil(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        var root = new RootCommand("test");
        root.Subcommands.Add(AgentCommands.Build(o, e, _paths));
        var rc = root.Parse(args).Invoke(new InvocationConfiguration { Output = o, Error = e });
        var err = e.ToString();
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal); // never a stack trace
        return (rc, o.ToString(), err);
    }

    [Fact]
    public void Run_prints_the_OCF_result_and_exits_with_the_OCF_code()
    {
        Requires.Root();
        var state = Path.Combine(_root.Path, "d.state");
        var start = Vigil("agent", "run", "ocf:heartbeat:Dummy", "start", "-r", "cli1", "--param", $"state={state}");
        Assert.Equal(0, start.Rc);
        Assert.Contains("ocf:heartbeat:Dummy start (cli1): 0 OCF_SUCCESS (ok)", start.Out, StringComparison.Ordinal);
        Assert.Contains("duration:", start.Out, StringComparison.Ordinal);
        Assert.Equal(0, Vigil("agent", "run", "ocf:heartbeat:Dummy", "stop", "-r", "cli1", "--param", $"state={state}").Rc);
        var monitor = Vigil("agent", "run", "ocf:heartbeat:Dummy", "monitor", "-r", "cli1", "--param", $"state={state}", "--interval", "10s");
        Assert.Equal(7, monitor.Rc);
        Assert.Contains("7 OCF_NOT_RUNNING", monitor.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_of_the_built_in_agent_promotes_and_reports_8()
    {
        Assert.Equal(0, Vigil("agent", "run", "vigil:Dummy", "start", "-r", "b1").Rc);
        Assert.Equal(0, Vigil("agent", "run", "vigil:Dummy", "promote", "-r", "b1").Rc);
        var m = Vigil("agent", "run", "vigil:Dummy", "monitor", "-r", "b1");
        Assert.Equal(8, m.Rc);
        Assert.Contains("8 OCF_RUNNING_PROMOTED", m.Out, StringComparison.Ordinal);
        Assert.Equal(0, Vigil("agent", "run", "vigil:Dummy", "stop", "-r", "b1").Rc);
    }

    [Fact]
    public void An_unknown_agent_says_where_it_looked_and_what_to_run()
    {
        var r = Vigil("agent", "run", "ocf:heartbeat:NoSuchAgent", "start");
        Assert.Equal(OcfCode.ErrInstalled, r.Rc);
        Assert.Contains("heartbeat/NoSuchAgent does not exist", r.Err, StringComparison.Ordinal);
        Assert.Contains("vigil agent list", r.Err, StringComparison.Ordinal);
        var provider = Vigil("agent", "info", "ocf:nobody:Thing");
        Assert.Equal(OcfCode.ErrInstalled, provider.Rc);
        Assert.Contains("no OCF provider 'nobody'", provider.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_required_parameter_names_it_and_shows_how_to_add_it()
    {
        var r = Vigil("agent", "run", "ocf:heartbeat:IPaddr2", "start");
        Assert.Equal(OcfCode.ErrConfigured, r.Rc);
        Assert.Contains("needs parameter 'ip'", r.Err, StringComparison.Ordinal);
        Assert.Contains("--param ip=VALUE", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Unreadable_meta_data_is_reported_with_its_position_and_a_way_out()
    {
        var info = Vigil("agent", "info", "ocf:test:Broken");
        Assert.Equal(1, info.Rc);
        Assert.Contains("ocf:test:Broken: unreadable meta-data", info.Err, StringComparison.Ordinal);
        Assert.Contains("line", info.Err, StringComparison.Ordinal);
        var run = Vigil("agent", "run", "ocf:test:Broken", "start");
        Assert.Equal(1, run.Rc);
        Assert.Contains("--no-check", run.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ocf:Dummy", "needs a provider")]
    [InlineData("nonsense", "unknown agent class")]
    public void A_malformed_agent_name_is_a_usage_error(string name, string message)
    {
        var r = Vigil("agent", "run", name, "start");
        Assert.Equal(ExitCodes.Usage, r.Rc);
        Assert.Contains(message, r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_bad_option_is_reported_at_once()
    {
        var r = Vigil("agent", "run", "vigil:Dummy", "start", "--param", "novalue", "--timeout", "soon", "--interval", "often");
        Assert.Equal(ExitCodes.Usage, r.Rc);
        Assert.Contains("--param 'novalue' is not NAME=VALUE", r.Err, StringComparison.Ordinal);
        Assert.Contains("--timeout 'soon' is not a duration", r.Err, StringComparison.Ordinal);
        Assert.Contains("--interval 'often' is not a duration", r.Err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_timeout_kills_the_agent_and_exits_124()
    {
        var r = Vigil("agent", "run", "ocf:test:Broken", "start", "--no-check", "--timeout", "300ms");
        Assert.Equal(AgentCommands.TimedOut, r.Rc);
        Assert.Contains("timed out", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void Info_lists_parameters_from_the_meta_data_with_required_ones_first()
    {
        var r = Vigil("agent", "info", "ocf:heartbeat:IPaddr2");
        Assert.Equal(0, r.Rc);
        var lines = r.Out.Split('\n');
        var first = lines.SkipWhile(l => !l.StartsWith("Parameters", StringComparison.Ordinal)).Skip(1).First();
        Assert.StartsWith("  * ip ", first, StringComparison.Ordinal);
        Assert.Contains("cidr_netmask", r.Out, StringComparison.Ordinal);
        Assert.Contains("monitor", r.Out, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fence_agent_runs_from_the_command_line_and_exits_2_when_the_target_is_off()
    {
        Requires.Root();
        Requires.Program("/usr/sbin/fence_dummy", "fence-agents");
        var status = Path.Combine(_root.Path, "plug");
        File.WriteAllText(status, "off");
        var r = Vigil("agent", "run", "stonith:fence_dummy", "status", "--target", "node2", "--param", $"status_file={status}", "--param", "passwd=topsecret1");
        Assert.Equal(2, r.Rc);
        Assert.Contains("stonith:fence_dummy status (fence_dummy): 2 off", r.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("topsecret1", r.Out + r.Err, StringComparison.Ordinal);
        Assert.Equal(0, Vigil("agent", "run", "stonith:fence_dummy", "on", "--target", "node2", "--param", $"status_file={status}").Rc);
        Assert.Equal(0, Vigil("agent", "run", "stonith:fence_dummy", "status", "--target", "node2", "--param", $"status_file={status}").Rc);
    }

    [Fact]
    public void List_shows_installed_and_built_in_agents()
    {
        var r = Vigil("agent", "list");
        Assert.Equal(0, r.Rc);
        Assert.Contains("ocf:heartbeat:Dummy\n", r.Out, StringComparison.Ordinal);
        Assert.Contains("ocf:test:Broken\n", r.Out, StringComparison.Ordinal);
        Assert.Contains("vigil:Dummy\n", r.Out, StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Usage, Vigil("agent", "list", "--class", "bogus").Rc);
    }
}
