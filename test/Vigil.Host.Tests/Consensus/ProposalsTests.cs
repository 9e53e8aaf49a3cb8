using Vigil.Host.Consensus;

namespace Vigil.Host.Tests.Consensus;

public sealed class ProposalsTests
{
    private static readonly TimeSpan Short = TimeSpan.FromMilliseconds(50);

    [Fact]
    public async Task A_proposal_that_never_commits_is_ambiguous_when_its_time_is_up_and_is_said()
    {
        int calls = 0, said = 0;
        var outcome = await Proposals.ProposeAsync(async t => { calls++; await Task.Delay(Timeout.Infinite, t); return ProposeOutcome.Committed; },
            Short, 3, () => said++, CancellationToken.None);
        Assert.Equal(ProposeOutcome.Ambiguous, outcome);
        // Its time is up: not tried again.
        Assert.Equal(1, calls);
        Assert.Equal(1, said);
    }

    [Fact]
    public async Task Ambiguity_is_retried_until_an_answer_and_at_most_the_attempts()
    {
        var answers = new Queue<ProposeOutcome>([ProposeOutcome.Ambiguous, ProposeOutcome.Committed]);
        int calls = 0;
        Assert.Equal(ProposeOutcome.Committed, await Proposals.ProposeAsync(_ => { calls++; return Task.FromResult(answers.Dequeue()); },
            Short, 3, () => { }, CancellationToken.None));
        Assert.Equal(2, calls);

        calls = 0;
        Assert.Equal(ProposeOutcome.Ambiguous, await Proposals.ProposeAsync(_ => { calls++; return Task.FromResult(ProposeOutcome.Ambiguous); },
            Short, 3, () => { }, CancellationToken.None));
        Assert.Equal(3, calls);

        calls = 0;
        Assert.Equal(ProposeOutcome.NotLeader, await Proposals.ProposeAsync(_ => { calls++; return Task.FromResult(ProposeOutcome.NotLeader); },
            Short, 3, () => { }, CancellationToken.None));
        Assert.Equal(1, calls);
    }

    [Fact]
    public async Task The_daemon_stopping_still_cancels_with_an_exception()
    {
        using var stop = new CancellationTokenSource();
        int said = 0;
        var proposal = Proposals.ProposeAsync(async t => { await Task.Delay(Timeout.Infinite, t); return ProposeOutcome.Committed; },
            TimeSpan.FromMinutes(1), 3, () => said++, stop.Token);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => proposal);
        Assert.Equal(0, said);
    }
}
