using System.Text.Json.Nodes;

namespace Serverless.Orchestrations.Definitions;

/// <summary>What happens when a node fails for good (after its retries).</summary>
public enum ErrorStrategy
{
    /// <summary>The run fails.</summary>
    Fail,
    /// <summary>The node succeeds with <c>config.defaultOutput</c>.</summary>
    Default,
    /// <summary>The node takes its <c>error</c> branch, with the error as output.</summary>
    Branch,
}

/// <summary>The settings every node type understands, read from its config.</summary>
/// <param name="MaxAttempts">Attempts in all (1 = no retry).</param>
/// <param name="BackoffSeconds">Wait before the first retry; doubles for each further one.</param>
/// <param name="TimeoutSeconds">Limit for one attempt, or null.</param>
/// <param name="OnError">The error strategy.</param>
/// <param name="DefaultOutput">The output used by <see cref="ErrorStrategy.Default"/>.</param>
public sealed record NodeSettings(int MaxAttempts, double BackoffSeconds, double? TimeoutSeconds, ErrorStrategy OnError, JsonNode? DefaultOutput)
{
    /// <summary>Largest number of attempts a node may ask for.</summary>
    public const int MaxAllowedAttempts = 20;

    /// <summary>Reads the common settings; validation has already rejected malformed values.</summary>
    public static NodeSettings From(JsonObject? config)
    {
        var retry = config?["retry"] as JsonObject;
        var attempts = JsonValues.AsNumber(retry?["maxAttempts"]) is { } a ? (int)a : 1;
        var backoff = JsonValues.AsNumber(retry?["backoffSeconds"]) ?? 1;
        var timeout = JsonValues.AsNumber(config?["timeoutSeconds"]);
        var strategy = JsonValues.AsString(config?["onError"]) ?? "fail";
        return new NodeSettings(
            Math.Clamp(attempts, 1, MaxAllowedAttempts),
            Math.Max(0, backoff),
            timeout,
            strategy switch { "default" => ErrorStrategy.Default, "branch" => ErrorStrategy.Branch, _ => ErrorStrategy.Fail },
            config?["defaultOutput"]);
    }

    /// <summary>The delay before attempt <paramref name="nextAttempt"/> (2 or more): the backoff doubled per retry, capped at an hour.</summary>
    public TimeSpan BackoffBefore(int nextAttempt) =>
        TimeSpan.FromSeconds(Math.Min(3600, BackoffSeconds * Math.Pow(2, Math.Max(0, nextAttempt - 2))));
}
