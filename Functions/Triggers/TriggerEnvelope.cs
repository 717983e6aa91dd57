using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Functions.Triggers;

/// <summary>What the Functions host POSTs to <c>/{FunctionName}</c> for a non-HTTP trigger.</summary>
internal sealed record TriggerRequest(
    [property: JsonPropertyName("Data")] Dictionary<string, JsonElement>? Data,
    [property: JsonPropertyName("Metadata")] Dictionary<string, JsonElement>? Metadata)
{
    /// <summary>The trigger's payload as text: a queue message arrives as a JSON string; anything else as its JSON.</summary>
    public string? Text(string binding) =>
        Data is not null && Data.TryGetValue(binding, out var value)
            ? value.ValueKind == JsonValueKind.String ? value.GetString() : value.GetRawText()
            : null;
}

/// <summary>What the host expects back; a non-2xx status marks the invocation failed.</summary>
internal sealed record TriggerResponse(
    [property: JsonPropertyName("Outputs")] Dictionary<string, object?> Outputs,
    [property: JsonPropertyName("Logs")] IReadOnlyList<string> Logs,
    [property: JsonPropertyName("ReturnValue")] object? ReturnValue);

internal sealed record TriggerOutcome(IReadOnlyList<string> Logs, object? ReturnValue);

/// <summary>A timer or queue function: the folder <c>Functions/{Name}/function.json</c> declares its trigger.</summary>
internal interface ITriggerFunction
{
    string Name { get; }

    /// <summary>Runs once; throwing marks the invocation failed (a queue message is then retried, then poisoned).</summary>
    Task<TriggerOutcome> InvokeAsync(TriggerRequest request, CancellationToken cancellationToken);
}

/// <summary>Endpoint metadata: this endpoint is not an HTTP function (no function.json is generated for it).</summary>
internal sealed record NotAFunction;
