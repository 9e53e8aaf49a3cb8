using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Vigil.Control;

namespace Vigil.Control.Tests;

/// <summary>
/// The build-time contracts (<see cref="ControlJson"/>) must write exactly what the serializer's reflection wrote: every
/// node's log and snapshots hold that text. The reference here is the same options with the reflection resolver.
/// </summary>
public class ControlJsonTests
{
    private static readonly JsonSerializerOptions ByReflection = new(ClusterCommand.Json) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };

    public static TheoryData<ClusterCommand> Commands() =>
    [
        new ConfigureCommand("<configuration/>") { RequestId = "r1", AtUnixSeconds = 5, By = "root" },
        new ConfigureCommand("<configuration/>") { RequestId = "r2" },
        new RecordOperationCommand("n1", "d", "ocf", "heartbeat", "Dummy", "monitor", 10000, 7, 0, 0)
            { RequestId = "r3", AtUnixSeconds = 12, CallId = 3, ExecMs = 15, ExitReason = "gone", Term = 2, OpDigest = "ab", Boot = "b1" },
        new RecordOperationCommand("n1", "d", "lsb", null, "x", "start", 0, 0, 0, 0) { RequestId = "r4" },
        new NodeMembershipCommand("n2", false) { RequestId = "r5", Expected = "down", Boot = "b2" },
        new SetNodeAttributeCommand("n1", "shutdown", "17", true) { RequestId = "r6" },
        new SetNodeAttributeCommand("n1", "site", null, false) { RequestId = "r7" },
        new CleanupCommand("d", null) { RequestId = "r8" },
        new FenceResultCommand("n3", "reboot", false, "n1", "n1") { RequestId = "r9", Devices = "f1,f2", Reason = "timed out" },
        new ApiTokenCommand("hash", "ops", false, "root") { RequestId = "r10" },
    ];

    [Theory]
    [MemberData(nameof(Commands))]
    public void A_command_is_written_as_the_reflection_serializer_wrote_it_and_reads_back(ClusterCommand command)
    {
        var text = System.Text.Encoding.UTF8.GetString(command.ToBytes());
        Assert.Equal(JsonSerializer.Serialize(command, ByReflection), text);
        Assert.Equal(command, ClusterCommand.FromBytes(command.ToBytes()));
    }

    [Fact]
    public void Fencing_history_and_api_tokens_are_written_as_before()
    {
        ImmutableList<FenceEvent> history = [new FenceEvent("n3", "off", true, "n1", "n1", 99) { Devices = "f" }, new FenceEvent("n2", "reboot", false, "root", "n1", 100)];
        ImmutableList<ApiTokenEntry> tokens = [new ApiTokenEntry("h", "ops", "root", 7), new ApiTokenEntry("g", null, "vigil init", 0) { RevokedBy = "root", RevokedAtUnixSeconds = 9 }];
        Assert.Equal(JsonSerializer.Serialize(history, ByReflection), JsonSerializer.Serialize(history, ClusterCommand.Json));
        Assert.Equal(JsonSerializer.Serialize(tokens, ByReflection), JsonSerializer.Serialize(tokens, ClusterCommand.Json));
    }
}
