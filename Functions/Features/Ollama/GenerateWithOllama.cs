using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Ollama;

internal static class GenerateWithOllama
{
    /// <summary>Ollama's generate body (ForgeTM's shape); <c>stream</c> defaults to false here (Ollama's own default is true).</summary>
    internal sealed record Request(string? Model, string? Prompt, bool? Stream, JsonObject? Options, string? System, JsonNode? Format, string? Provider);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, OllamaServer ollama, ModelGateway gateway, HttpContext context, CancellationToken cancellationToken)
    {
        var check = new Validator().Require("model", request.Model, 200).Require("prompt", request.Prompt, 1_000_000).MaxLength("system", request.System, 100_000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var (server, refused) = await ollama.PickAsync(workspace.WorkspaceId, request.Provider, cancellationToken);
        if (refused is not null)
        {
            return refused;
        }

        var modelCaller = new ModelCaller(workspace.WorkspaceId, caller.UserId, caller.ApiKeyId, caller.ModelLimits, "ollama");
        var maxTokens = request.Options?["num_predict"] is JsonValue n && n.TryGetValue(out int predict) && predict > 0 ? predict : (int?)null;
        await using var admission = await gateway.AdmitAsync(modelCaller, server!, request.Model!, request.Prompt!.Length + (request.System?.Length ?? 0), maxTokens,
            cancellationToken);
        if (admission.Refused is { } denied)
        {
            return denied.ToApiResult();
        }

        var stream = request.Stream ?? false;
        var body = new JsonObject { ["model"] = request.Model, ["prompt"] = request.Prompt, ["stream"] = stream };
        if (request.Options is not null)
        {
            body["options"] = request.Options.DeepClone();
        }

        if (request.System is not null)
        {
            body["system"] = request.System;
        }

        if (request.Format is not null)
        {
            body["format"] = request.Format.DeepClone();
        }

        var started = Stopwatch.GetTimestamp();
        HttpResponseMessage response;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            // A stream's reads are bounded by the client's patience; only the wait for the first byte is timed.
            timeout.CancelAfter(TimeSpan.FromSeconds(120));
            response = await ollama.SendAsync(server!, HttpMethod.Post, "/api/generate", body, stream, timeout.Token);
            timeout.CancelAfter(Timeout.InfiniteTimeSpan);
        }
        catch (Exception exception) when (exception is HttpRequestException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            await gateway.RecordCallAsync(admission, modelCaller, server!, request.Model!, "generate", stream, default, started, null, UsageStatus.Error);
            return OllamaServer.Unreachable(server!, OllamaServer.IsTimeout(exception, cancellationToken));
        }

        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                await gateway.RecordCallAsync(admission, modelCaller, server!, request.Model!, "generate", stream, default, started, null, UsageStatus.Error);
                return await OllamaServer.FailureAsync(response, server!, cancellationToken);
            }

            if (!stream)
            {
                var answer = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken)) as JsonObject ?? [];
                await gateway.RecordCallAsync(admission, modelCaller, server!, request.Model!, "generate", false, UsageOf(answer), started, null, UsageStatus.Ok);
                return Api.Ok(answer);
            }

            var usage = default(TokenUsage);
            long? firstToken = null;
            await OllamaServer.PumpNdjsonAsync(response, context.Response, line =>
            {
                firstToken ??= (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                if (line.Contains("\"done\":true", StringComparison.Ordinal) && Parse(line) is { } last)
                {
                    usage = UsageOf(last);
                }
            }, cancellationToken);
            await gateway.RecordCallAsync(admission, modelCaller, server!, request.Model!, "generate", true, usage, started, firstToken,
                cancellationToken.IsCancellationRequested ? UsageStatus.Cancelled : UsageStatus.Ok);
            return Results.Empty;
        }
    }

    private static TokenUsage UsageOf(JsonObject answer) => new(
        answer["prompt_eval_count"] is JsonValue p && p.TryGetValue(out int prompt) ? prompt : 0,
        answer["eval_count"] is JsonValue e && e.TryGetValue(out int completion) ? completion : 0);

    private static JsonObject? Parse(string line)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
