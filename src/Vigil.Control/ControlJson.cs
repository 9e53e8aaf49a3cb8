using System.Collections.Immutable;
using System.Text.Json.Serialization;

namespace Vigil.Control;

/// <summary>
/// The JSON contracts of the replicated state, generated at build time: no serializer code is made at run time by
/// reflection, which a natively compiled vigil cannot do (and the Release build does not allow either:
/// <c>JsonSerializerIsReflectionEnabledByDefault</c> is off, so a type missing here fails every test that uses it).
/// Options decide names and null handling (<see cref="ClusterCommand.Json"/>); this only supplies the contracts.
/// </summary>
[JsonSerializable(typeof(ClusterCommand))]
[JsonSerializable(typeof(List<ApiTokenEntry>))]
[JsonSerializable(typeof(ImmutableList<ApiTokenEntry>))]
[JsonSerializable(typeof(List<FenceEvent>))]
[JsonSerializable(typeof(ImmutableList<FenceEvent>))]
public sealed partial class ControlJson : JsonSerializerContext;
