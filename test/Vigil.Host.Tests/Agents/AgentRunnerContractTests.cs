using Vigil.Host.Agents;

namespace Vigil.Host.Tests.Agents;

/// <summary>
/// The contract every <see cref="IAgentRunner"/> keeps, run against the real and the simulated
/// implementation so simulation results carry over to real agents.
/// </summary>
public abstract class AgentRunnerContract
{
    protected abstract IAgentRunner Runner { get; }
    protected abstract AgentAction Action(string resource, string action);

    private async Task<int> Rc(string rsc, string action) => (await Runner.RunAsync(Action(rsc, action))).Rc;

    [Fact]
    public async Task A_resource_starts_is_monitored_and_stops_idempotently()
    {
        var rsc = "c" + Guid.NewGuid().ToString("N")[..6];
        Assert.Equal(OcfCode.NotRunning, await Rc(rsc, "monitor"));
        Assert.Equal(OcfCode.Success, await Rc(rsc, "start"));
        Assert.Equal(OcfCode.Success, await Rc(rsc, "start"));
        Assert.Equal(OcfCode.Success, await Rc(rsc, "monitor"));
        Assert.Equal(OcfCode.Success, await Rc(rsc, "stop"));
        Assert.Equal(OcfCode.Success, await Rc(rsc, "stop"));
        Assert.Equal(OcfCode.NotRunning, await Rc(rsc, "monitor"));
    }

    [Fact]
    public async Task Unknown_actions_are_unimplemented() =>
        Assert.Equal(OcfCode.ErrUnimplemented, await Rc("c" + Guid.NewGuid().ToString("N")[..6], "frobnicate"));

    [Fact]
    public async Task Meta_data_parses()
    {
        var r = await Runner.RunAsync(Action("md", "meta-data"));
        Assert.Equal(OcfCode.Success, r.Rc);
        Assert.True(MetadataParser.TryParse(r.Stdout, out var md, out var error), error);
        Assert.True(md.HasAction("start"));
    }

    [Fact]
    public async Task Results_are_values_not_exceptions_even_for_a_missing_agent()
    {
        var missing = Action("x", "start") with { Agent = new AgentId(AgentClass.Ocf, "nobody", "Nothing") };
        var r = await Runner.RunAsync(missing);
        Assert.NotEqual(OcfCode.Success, r.Rc);
    }
}

public sealed class ScriptedRunnerContractTests : AgentRunnerContract
{
    private readonly ScriptedAgentRunner _runner = new ScriptedAgentRunner().Script("x", "start", OcfCode.ErrInstalled, "not installed");
    protected override IAgentRunner Runner => _runner;
    protected override AgentAction Action(string resource, string action) => new(new AgentId(AgentClass.Ocf, "heartbeat", "Dummy"), resource, action);
}

public sealed class ProcessRunnerContractTests : AgentRunnerContract, IDisposable
{
    private readonly AgentHarness _h = new();
    protected override IAgentRunner Runner
    {
        get { Requires.Root(); return _h.Runner; }
    }
    protected override AgentAction Action(string resource, string action) =>
        _h.Action("ocf:heartbeat:Dummy", resource, action, 0, ("state", _h.Dir.File(resource + ".state")));
    public void Dispose() => _h.Dispose();
}

public sealed class NativeRunnerContractTests : AgentRunnerContract, IDisposable
{
    private readonly AgentHarness _h = new();
    protected override IAgentRunner Runner => _h.Runner;
    protected override AgentAction Action(string resource, string action) => _h.Action("vigil:Dummy", resource, action);
    public void Dispose() => _h.Dispose();
}
