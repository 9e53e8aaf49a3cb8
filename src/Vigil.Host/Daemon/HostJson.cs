using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Vigil.Control;

namespace Vigil.Host.Daemon;

/// <summary>
/// The JSON contracts of the node API, the settings and the files a node writes, generated at build time (see
/// <see cref="ControlJson"/>): a natively compiled vigil has no reflection-based serializer, and the Release build runs
/// without one too, so every type sent or stored must be listed here or its first use fails. The replicated state's own
/// types (fencing history, API tokens) are in <see cref="ControlJson"/>; <see cref="WireJson.Contracts"/> combines both.
/// </summary>
[JsonSerializable(typeof(NodeSettings))]
[JsonSerializable(typeof(SelfFenceRecord))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(ExecuteRequest))]
[JsonSerializable(typeof(ExecuteResponse))]
[JsonSerializable(typeof(ReportRequest))]
[JsonSerializable(typeof(ConfigureRequest))]
[JsonSerializable(typeof(ConfigureResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(StatusResponse))]
[JsonSerializable(typeof(OperateRequest))]
[JsonSerializable(typeof(OperateResponse))]
[JsonSerializable(typeof(HelloResponse))]
[JsonSerializable(typeof(LeaseReceiptResponse))]
[JsonSerializable(typeof(RoundKeyResponse))]
[JsonSerializable(typeof(JoinRequest))]
[JsonSerializable(typeof(JoinResponse))]
[JsonSerializable(typeof(NodeFenceRequest))]
[JsonSerializable(typeof(NodeFenceResponse))]
public sealed partial class HostJson : JsonSerializerContext;

/// <summary>
/// The options every JSON read and write of vigil uses, each resolving through the build-time contracts only. (Apart from
/// <see cref="HostJson"/>: a static field there could be initialised before the generated <c>Default</c>.)
/// </summary>
public static class WireJson
{
    /// <summary>Both build-time contract sets: the API's own and the replicated state's.</summary>
    public static readonly IJsonTypeInfoResolver Contracts = JsonTypeInfoResolver.Combine(HostJson.Default, ControlJson.Default);

    /// <summary>The node API's shape (camelCase names, case-insensitive reading), as ASP.NET Core and HttpClient use by default.</summary>
    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web) { TypeInfoResolver = Contracts };

    /// <summary>The same, indented: settings files and <c>vigil status --json</c>.</summary>
    public static readonly JsonSerializerOptions WebIndented = new(JsonSerializerDefaults.Web) { WriteIndented = true, TypeInfoResolver = Contracts };

    /// <summary>Files written with the serializer's plain defaults (member names as declared): join tokens, the self-fence record.</summary>
    public static readonly JsonSerializerOptions Plain = new() { TypeInfoResolver = Contracts };
}
