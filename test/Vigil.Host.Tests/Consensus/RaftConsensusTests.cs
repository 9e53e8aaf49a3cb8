using System.Diagnostics;
using System.Net;
using Vigil.Control;
using Vigil.Core.Model;
using Vigil.Host.Consensus;

namespace Vigil.Host.Tests.Consensus;

/// <summary>Three real DotNext Raft members on 127.0.0.1, each with its own log directory.</summary>
public sealed class RaftConsensusTests : IAsyncLifetime
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), $"vigil-raft-{Guid.NewGuid():N}");
    private readonly Dictionary<string, IPEndPoint> _members = new();
    private readonly Dictionary<string, RaftConsensus> _nodes = new();

    private static int FreePort() => Vigil.Host.Net.LoopbackPorts.Free();

    public async Task InitializeAsync()
    {
        foreach (var n in new[] { "n1", "n2", "n3" }) _members[n] = new IPEndPoint(IPAddress.Loopback, FreePort());
        foreach (var n in _members.Keys) await StartAsync(n);
    }

    private async Task StartAsync(string name)
    {
        var node = new RaftConsensus(new RaftOptions(name, _members[name], _members, Path.Combine(_dir, name)));
        _nodes[name] = node;
        await node.StartAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        foreach (var n in _nodes.Values) await n.DisposeAsync();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private async Task<RaftConsensus> LeaderAsync(TimeSpan within, string? except = null)
    {
        var sw = Stopwatch.StartNew();
        while (sw.Elapsed < within)
        {
            var leader = _nodes.Values.FirstOrDefault(n => n.IsLeader && n.LocalNode != except);
            if (leader is not null) return leader;
            await Task.Delay(20);
        }
        throw new TimeoutException($"no leader within {within}");
    }

    private static async Task<ProposeOutcome> ProposeWithRetryAsync(Func<Task<RaftConsensus>> leader, ClusterCommand c)
    {
        for (int attempt = 0; attempt < 20; attempt++)
        {
            var outcome = await (await leader()).ProposeAsync(c, CancellationToken.None);
            if (outcome == ProposeOutcome.Committed) return outcome;
            await Task.Delay(100);
        }
        return ProposeOutcome.Ambiguous;
    }

    private async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, string what)
    {
        var sw = Stopwatch.StartNew();
        while (!condition())
        {
            if (sw.Elapsed > within) throw new TimeoutException($"{what} did not happen within {within}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task Three_members_elect_a_leader_and_every_member_applies_a_committed_command()
    {
        await LeaderAsync(TimeSpan.FromSeconds(20));
        var cmd = new NodeMembershipCommand("n1", true) { RequestId = "join-n1", AtUnixSeconds = 1 };
        Assert.Equal(ProposeOutcome.Committed, await ProposeWithRetryAsync(() => LeaderAsync(TimeSpan.FromSeconds(10)), cmd));
        await WaitUntilAsync(() => _nodes.Values.All(n => n.State.Nodes.Any(s => s.Id == "n1" && s.Crmd == "online")), TimeSpan.FromSeconds(10), "replication to all members");
        // Early elections may move leadership once; every member must come to agree on one leader.
        await WaitUntilAsync(() => _nodes.Values.Count(n => n.IsLeader) == 1 && _nodes.Values.All(n => n.Leader == _nodes.Values.Single(x => x.IsLeader).LocalNode),
            TimeSpan.FromSeconds(10), "agreement on the leader");
        var follower = _nodes.Values.First(n => !n.IsLeader);
        Assert.Equal(ProposeOutcome.NotLeader, await follower.ProposeAsync(cmd with { RequestId = "x" }, CancellationToken.None));
    }

    [Fact]
    public async Task Losing_the_leader_elects_another_and_a_restarted_member_recovers_its_state_from_disk()
    {
        var leader = await LeaderAsync(TimeSpan.FromSeconds(20));
        var cmd = new SetNodeAttributeCommand("n2", "rack", "r7", Transient: false) { RequestId = "attr", AtUnixSeconds = 1 };
        Assert.Equal(ProposeOutcome.Committed, await ProposeWithRetryAsync(() => LeaderAsync(TimeSpan.FromSeconds(10)), cmd));
        var old = leader.LocalNode;
        await leader.DisposeAsync();
        _nodes.Remove(old);
        var sw = Stopwatch.StartNew();
        var next = await LeaderAsync(TimeSpan.FromSeconds(15), except: old);
        Assert.NotEqual(old, next.LocalNode);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"re-election took {sw.Elapsed}");
        // The survivors still commit with two of three members.
        var cmd2 = new SetNodeAttributeCommand("n3", "rack", "r8", Transient: false) { RequestId = "attr2", AtUnixSeconds = 2 };
        Assert.Equal(ProposeOutcome.Committed, await ProposeWithRetryAsync(() => LeaderAsync(TimeSpan.FromSeconds(10), except: old), cmd2));
        // The old leader comes back from its log and catches up.
        await StartAsync(old);
        await WaitUntilAsync(() => _nodes[old].State.Configuration.Nodes.Any(n => n.Uname == "n3"), TimeSpan.FromSeconds(20), "catch-up of the restarted member");
        Assert.Contains(_nodes[old].State.Configuration.Nodes, n => n.Uname == "n2" && n.InstanceAttributes.Flatten()["rack"] == "r7");
    }
}
