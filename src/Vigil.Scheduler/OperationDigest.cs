using System.Security.Cryptography;
using System.Text;
using Vigil.Core.Model;

namespace Vigil.Scheduler;

/// <summary>
/// Pacemaker's operation digest (lrm_rsc_op <c>op-digest</c>, <c>op-restart-digest</c>,
/// <c>op-secure-digest</c>): what the scheduler compares to notice changed parameters. Whoever
/// records an operation's result should store the digest of the parameters it ran with.
/// </summary>
public static class OperationDigest
{
    /// <summary>An operation's <c>op-digest</c> and the resource parameters it covers (the operation's own come on top).</summary>
    public sealed record ForOperation(string Digest, IReadOnlyDictionary<string, string> ResourceParameters);

    /// <summary>
    /// The <c>op-digest</c> the scheduler expects on the history entry of <paramref name="task"/>
    /// (with <paramref name="intervalMs"/>) of <paramref name="resource"/> on <paramref name="node"/>,
    /// computed by the scheduler's own code from <paramref name="cib"/> (configuration and node
    /// attributes; <paramref name="now"/> for date rules). Recorded with the result, it makes the next
    /// plan see no change until the configured parameters change. Null when the primitive (or, for an
    /// anonymous clone, the primitive its history is kept under) or the node is not configured.
    /// </summary>
    public static ForOperation? ForResource(Cib cib, DateTimeOffset now, string resource, string node, string task, long intervalMs) =>
        For(cib, now).ForResource(resource, node, task, intervalMs);

    /// <summary>
    /// <see cref="ForResource(Cib, DateTimeOffset, string, string, string, long)"/> for many operations
    /// on one state: the configuration is unpacked once (a plan that starts 10,000 resources would
    /// otherwise unpack it 10,000 times).
    /// </summary>
    public static Calculator For(Cib cib, DateTimeOffset now) => new(new Engine(cib, now, null).ForDigests());

    /// <summary>Digests on one state; see <see cref="For"/>.</summary>
    public sealed class Calculator
    {
        private readonly Engine _engine;
        internal Calculator(Engine engine) => _engine = engine;

        public ForOperation? ForResource(string resource, string node, string task, long intervalMs) =>
            _engine.DigestFor(resource, node, task, intervalMs);
    }

    /// <summary>MD5 (hex) of the parameters, sorted by name and written as Pacemaker serialises them for digests.</summary>
    public static string Compute(IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var sb = new StringBuilder(" <parameters");
        foreach (var (name, value) in parameters.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            sb.Append(' ').Append(name).Append("=\"");
            foreach (var c in value)
            {
                switch (c)
                {
                    case '<': sb.Append("&lt;"); break;
                    case '>': sb.Append("&gt;"); break;
                    case '&': sb.Append("&amp;"); break;
                    case '"': sb.Append("&quot;"); break;
                    case '\'': sb.Append("&apos;"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("    "); break;
                    default: sb.Append(c); break;
                }
            }
            sb.Append('"');
        }
        sb.Append("/>\n");
#pragma warning disable CA5351 // Not for security: the digest must equal the one Pacemaker recorded, which is MD5.
        var hash = MD5.HashData(Encoding.UTF8.GetBytes(sb.ToString()));
#pragma warning restore CA5351
        return Convert.ToHexStringLower(hash);
    }
}
