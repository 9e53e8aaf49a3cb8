using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Vigil.Host.Daemon;

namespace Vigil.Host.Tests;

/// <summary>
/// The build-time contracts (<see cref="WireJson"/>) must write what the serializer's reflection wrote: settings files and
/// self-fence records on disk, and the API that older CLIs and other members read. The reference is the same options with
/// the reflection resolver.
/// </summary>
public class WireJsonTests
{
    private static string ByReflection<T>(T value, JsonSerializerOptions options) =>
        JsonSerializer.Serialize(value, new JsonSerializerOptions(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() });

    private static void WrittenAsBefore<T>(T value, JsonSerializerOptions options)
    {
        var text = JsonSerializer.Serialize(value, options);
        Assert.Equal(ByReflection(value, options), text);
        Assert.Equal(text, JsonSerializer.Serialize(JsonSerializer.Deserialize<T>(text, options), options));
    }

    /// <summary>What a member leaves out keeps the value the type gives it, as with the reflection serializer.</summary>
    private static void ReadAsBefore<T>(string json, JsonSerializerOptions options)
    {
        var reflection = new JsonSerializerOptions(options) { TypeInfoResolver = new DefaultJsonTypeInfoResolver() };
        Assert.Equal(JsonSerializer.Serialize(JsonSerializer.Deserialize<T>(json, reflection), reflection),
            JsonSerializer.Serialize(JsonSerializer.Deserialize<T>(json, options), options));
    }

    [Fact]
    public void Members_left_out_keep_their_defaults()
    {
        ReadAsBefore<NodeSettings>("""{"name":"a","dataDirectory":"/d","members":{"a":{"raft":"127.0.0.1:1","api":"127.0.0.1:2"}}}""", NodeSettings.Json);
        ReadAsBefore<ExecuteRequest>("""{"term":1,"leader":"a","resource":"r","class":"ocf","type":"Dummy","operation":"start","intervalMs":0}""", WireJson.Web);
        ReadAsBefore<StatusResponse>("""{"node":"a"}""", WireJson.Web);
        ReadAsBefore<ResourceStatus>("""{"id":"r","agent":"x","role":"Started","nodes":[]}""", WireJson.Web);
        ReadAsBefore<JoinResponse>("""{"members":{},"caPem":"c","pfx":"p"}""", WireJson.Web);
        ReadAsBefore<OperateRequest>("""{"op":"stop"}""", WireJson.Web);
        ReadAsBefore<ErrorResponse>("""{"error":"e"}""", WireJson.Web);
    }

    [Fact]
    public void Settings_files_are_written_as_before_and_read_back()
    {
        var settings = new NodeSettings
        {
            Name = "n1", DataDirectory = "/var/lib/vigil",
            Members = new() { ["n1"] = new MemberAddress("10.250.0.1:7000", "10.250.0.1:7001"), ["w"] = new MemberAddress("10.250.0.3:7000", "10.250.0.3:7001") { Witness = true } },
            TlsDirectory = "/etc/vigil/tls", WatchdogDevice = "/dev/watchdog", LocalSocket = "",
        };
        WrittenAsBefore(settings, NodeSettings.Json);
    }

    [Fact]
    public void Api_bodies_and_node_files_are_written_as_before()
    {
        WrittenAsBefore(new StatusResponse
        {
            Node = "n1", Leader = "n2", Term = 3, Quorum = true, Version = 44,
            Nodes = [new NodeStatus("n1", true, true, false) { ShuttingDown = true }, new NodeStatus("n3", false, false, false) { Unclean = true }],
            Resources = [new ResourceStatus("ip", "ocf:heartbeat:IPaddr2", "web", "Started", ["n1"]) { Unclean = ["n3"] }],
            Warnings = ["w"], Alone = new AloneStatus("n2", "peer left cleanly", DateTimeOffset.FromUnixTimeSeconds(1_700_000_000)),
        }, WireJson.WebIndented);
        WrittenAsBefore(new ExecuteRequest(4, "n2", "ip", "ocf", "heartbeat", "IPaddr2", "monitor", 10_000)
            { TargetRc = 7, Parameters = new() { ["ip"] = "10.250.0.10" }, OpDigest = "ab" }, WireJson.Web);
        WrittenAsBefore(new OperateRequest("move", "web", "n2") { LifetimeSeconds = 60, By = "root" }, WireJson.Web);
        WrittenAsBefore(new ErrorResponse("no quorum", "wait"), WireJson.Web);
        WrittenAsBefore(new HelloResponse("n1", "boot") { Version = 9 }, WireJson.Web);
        WrittenAsBefore(new SelfFenceRecord(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000), "lost quorum", ["ip"]), WireJson.Plain);
        WrittenAsBefore(new Dictionary<string, string> { ["n2"] = "hash" }, WireJson.Plain);
    }
}
