using Vigil.Control;

namespace Vigil.Control.Tests;

public class ApiTokenStateTests
{
    private static readonly string HashA = new('A', 64);
    private static readonly string HashB = "ABCDEF" + new string('1', 58);
    private static readonly string HashC = "ABCDEF" + new string('2', 58);
    private static int _n;
    private static string Rid() => $"t{Interlocked.Increment(ref _n)}";

    private static ClusterState Issue(ClusterState s, string hash, string name) =>
        s.Apply(new ApiTokenCommand(hash, name, Revoke: false, "root") { RequestId = Rid(), AtUnixSeconds = 100 });

    private static ClusterState Revoke(ClusterState s, string hash) =>
        s.Apply(new ApiTokenCommand(hash, null, Revoke: true, "alice") { RequestId = Rid(), AtUnixSeconds = 200 });

    [Fact]
    public void An_issued_token_is_in_force_until_revoked_and_a_revoked_one_stays_revoked()
    {
        var s = Issue(ClusterState.Empty, HashA, "monitoring");
        Assert.True(s.ApiTokenInForce(HashA));
        Assert.Null(s.ApiTokenInForce(HashB));
        s = Revoke(s, HashA);
        Assert.False(s.ApiTokenInForce(HashA));
        var entry = s.ApiTokens.Single();
        Assert.Equal(("monitoring", "root", "alice", 200L), (entry.Name, entry.By, entry.RevokedBy, entry.RevokedAtUnixSeconds!.Value));
        // Issuing the same hash again does not bring it back; revoking twice keeps the first revocation.
        s = Revoke(Issue(s, HashA, "again"), HashA);
        Assert.False(s.ApiTokenInForce(HashA));
        Assert.Equal(("monitoring", 200L), (s.ApiTokens.Single().Name, s.ApiTokens.Single().RevokedAtUnixSeconds!.Value));
    }

    [Fact]
    public void Revoking_a_hash_the_cluster_never_issued_records_it_as_revoked()
    {
        // The token 'vigil init' wrote into the members' files: the cluster learns of it only by its revocation.
        var s = Revoke(ClusterState.Empty, HashB);
        Assert.False(s.ApiTokenInForce(HashB));
        Assert.Equal("vigil init", s.ApiTokens.Single().By);
    }

    [Fact]
    public void Tokens_survive_a_snapshot()
    {
        var s = Revoke(Issue(Issue(ClusterState.Empty, HashA, "a"), HashB, "b"), HashA);
        var back = ClusterState.FromSnapshot(s.ToSnapshot());
        Assert.Equal(s.ApiTokens, back.ApiTokens);
        Assert.Equal(s.ToSnapshot(), back.ToSnapshot());
        Assert.DoesNotContain("vigil-api-tokens", back.Cib.Header.Select(kv => kv.Key));
    }

    [Fact]
    public void A_token_is_found_by_name_or_by_an_unambiguous_id_prefix()
    {
        var s = Issue(Issue(ClusterState.Empty, HashB, "ops"), HashC, "backup");
        var known = s.ApiTokens;
        Assert.Equal(HashB, ApiTokenNames.Resolve(known, "ops", out _)!.Hash);
        Assert.Equal(HashC, ApiTokenNames.Resolve(known, "abcdef2222", out _)!.Hash);
        Assert.Null(ApiTokenNames.Resolve(known, "ABCDEF", out var ambiguous));
        Assert.Contains("matches 2 tokens", ambiguous);
        Assert.Null(ApiTokenNames.Resolve(known, "abc", out var tooShort));
        Assert.Contains("no API token is named 'abc'", tooShort);
        // A revoked token's name is free again; its id still finds it.
        s = Revoke(s, HashB);
        Assert.Null(ApiTokenNames.Resolve(s.ApiTokens, "ops", out _));
        Assert.True(ApiTokenNames.Resolve(s.ApiTokens, "ABCDEF1111", out _)!.Revoked);
    }

    [Theory]
    [InlineData("monitoring", true)]
    [InlineData("ci-bot_2.x", true)]
    [InlineData("", false)]
    [InlineData("two words", false)]
    [InlineData("x;rm", false)]
    public void Token_names_are_plain(string name, bool ok) => Assert.Equal(ok, ApiTokenNames.NameProblem(name) is null);

    [Fact]
    public void Only_whole_upper_case_hashes_pass_as_resolved()
    {
        Assert.True(ApiTokenNames.IsFullHash(HashB));
        Assert.False(ApiTokenNames.IsFullHash(HashB.ToLowerInvariant()));
        Assert.False(ApiTokenNames.IsFullHash(HashB[..63]));
        Assert.False(ApiTokenNames.IsFullHash(null));
    }
}
