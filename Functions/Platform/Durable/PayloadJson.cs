using System.Text.Json;

namespace Serverless.Functions.Platform.Durable;

/// <summary>
/// One JSON shape for everything that crosses Durable Task: orchestration inputs and outputs, activity payloads and
/// event data. The orchestrator classes read them through the Durable Task SDK's converter, while the Durable Task
/// Framework's client writes them through its own; both must agree, so both use these options.
/// </summary>
internal static class PayloadJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);

    /// <summary>The Durable Task SDK's converter (the shims' inputs and outputs).</summary>
    public static readonly Microsoft.DurableTask.Converters.JsonDataConverter Sdk = new(Options);

    /// <summary>The Durable Task Framework's converter (TaskHubClient's inputs and event data).</summary>
    public static readonly FrameworkConverter Framework = new();

    internal sealed class FrameworkConverter : DurableTask.Core.Serializing.DataConverter
    {
        public override string Serialize(object value) => JsonSerializer.Serialize(value, value?.GetType() ?? typeof(object), Options);

        public override string Serialize(object value, bool formatted) => Serialize(value);

        public override object Deserialize(string data, Type objectType) => JsonSerializer.Deserialize(data, objectType, Options)!;
    }
}
