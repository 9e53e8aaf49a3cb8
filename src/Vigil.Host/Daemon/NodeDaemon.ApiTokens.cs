using Microsoft.AspNetCore.Http;
using Vigil.Control;

namespace Vigil.Host.Daemon;

/// <summary>
/// Remote API tokens kept in the replicated state: issued and revoked through the leader, so a revoked
/// token is refused by every member at once. Tokens that 'vigil init' wrote into the members' files
/// keep working until they are revoked the same way.
/// </summary>
public sealed partial class NodeDaemon
{
    public const string ApiTokenCreateOp = "api-token-create";
    public const string ApiTokenRevokeOp = "api-token-revoke";

    private static bool IsApiTokenOp(string op) => op is ApiTokenCreateOp or ApiTokenRevokeOp;

    /// <summary>Every token this node knows: the cluster's list, and the hashes in its own file the cluster has no entry for.</summary>
    private List<ApiTokenEntry> KnownApiTokens()
    {
        var replicated = _consensus.State.ApiTokens;
        var fromFile = _settings.TlsDirectory is { } tls ? Security.JoinTokens.ApiHashes(tls) : [];
        return [.. replicated, .. fromFile.Where(h => replicated.All(t => t.Hash != h)).Select(h => new ApiTokenEntry(h, null, "vigil init", 0))];
    }

    /// <summary>Whether a bearer secret is a remote API token in force: the cluster's word first, else this node's file.</summary>
    private bool ApiTokenAccepted(string secret) =>
        _consensus.State.ApiTokenInForce(Security.JoinTokens.HashOf(secret)) ?? Security.JoinTokens.IsApiToken(_settings.TlsDirectory!, secret);

    /// <summary>
    /// On the node the request came to, before it goes to the leader: only a caller with node credentials may
    /// manage tokens (not a token holder, not the local socket), and a revocation names the full hash, found
    /// among the tokens this node knows (its file may hold the one from 'vigil init'). Returns the refusal, or null.
    /// </summary>
    private IResult? PrepareApiTokenOp(HttpContext ctx, ref OperateRequest req)
    {
        if (_credentials is null)
            return Results.Json(new OperateResponse(false, "", "this cluster runs without TLS credentials, so it has no remote API tokens"), statusCode: StatusCodes.Status422UnprocessableEntity);
        if (ctx.Connection.ClientCertificate is null)
        {
            Refused($"{(IsLocalSocket(ctx) ? "local socket" : ctx.Connection.RemoteIpAddress?.ToString())}: {req.Op} without node credentials");
            return Results.Json(new OperateResponse(false, "", "managing API tokens needs a node's credentials: run 'vigil api-token …' as root on a cluster node with --settings (not with VIGIL_TOKEN or the local socket)"),
                statusCode: StatusCodes.Status403Forbidden);
        }
        // A revocation the member the operator called has resolved (to the whole hash) is passed on as it is.
        if (req.Op == ApiTokenRevokeOp && !ApiTokenNames.IsFullHash(req.Resource))
        {
            if (ApiTokenNames.Resolve(KnownApiTokens(), req.Resource ?? "", out var error) is not { } token)
                return Results.Json(new OperateResponse(false, "", error!), statusCode: StatusCodes.Status422UnprocessableEntity);
            if (token.Revoked)
                return Results.Json(new OperateResponse(false, "", $"API token {token.Id} is already revoked (by {token.RevokedBy})"), statusCode: StatusCodes.Status422UnprocessableEntity);
            req = req with { Resource = token.Hash, Node = token.Name };
        }
        else if (req.Op == ApiTokenCreateOp && ApiTokenNames.NameProblem(req.Resource) is { } problem)
            return Results.Json(new OperateResponse(false, "", problem), statusCode: StatusCodes.Status422UnprocessableEntity);
        return null;
    }

    /// <summary>On the leader: the command and the answer for a prepared token request, or the refusal.</summary>
    private (ClusterCommand? Command, string Message, IResult? Refusal) ApiTokenChange(OperateRequest req)
    {
        var by = req.By ?? "operator";
        if (req.Op == ApiTokenRevokeOp)
        {
            var hash = req.Resource ?? "";
            var name = req.Node is null ? ApiTokenEntry.ShortId(hash) : $"'{req.Node}' ({ApiTokenEntry.ShortId(hash)})";
            return (new ApiTokenCommand(hash, req.Node, Revoke: true, by) { RequestId = Guid.NewGuid().ToString("N") },
                $"API token {name} revoked: every member refuses it from now on", null);
        }
        var taken = _consensus.State.ApiTokens.FirstOrDefault(t => !t.Revoked && t.Name == req.Resource);
        if (taken is not null)
            return (null, "", Results.Json(new OperateResponse(false, "", $"an API token named '{req.Resource}' exists already ({taken.Id}); choose another name or revoke it first"),
                statusCode: StatusCodes.Status422UnprocessableEntity));
        var token = Security.JoinTokens.NewApi(_credentials!.Ca, out var newHash);
        return (new ApiTokenCommand(newHash, req.Resource, Revoke: false, by) { RequestId = Guid.NewGuid().ToString("N") },
            $"API token '{req.Resource}' created (id {ApiTokenEntry.ShortId(newHash)}); it is shown only now. Give it to its user as\n" +
            $"VIGIL_TOKEN={token}\nIt works on every member until 'vigil api-token revoke {req.Resource}'.", null);
    }
}
