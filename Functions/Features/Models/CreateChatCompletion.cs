using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Models;

internal static class CreateChatCompletion
{
    private static readonly byte[] DataPrefix = "data: "u8.ToArray();
    private static readonly byte[] EventEnd = "\n\n"u8.ToArray();
    private static readonly byte[] Done = "data: [DONE]\n\n"u8.ToArray();

    public static async Task<IResult> HandleAsync(
        JsonObject? body, Caller caller, WorkspaceContext workspace, ModelGateway gateway, HttpContext context, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return ModelFailure.Invalid("A JSON object body is required.", null).ToOpenAiResult();
        }

        if (body["messages"] is not JsonArray { Count: > 0 })
        {
            return ModelFailure.Invalid("messages must be a non-empty array.", "messages").ToOpenAiResult();
        }

        var modelCaller = OpenAiRequests.CallerOf(caller, workspace);
        if (!OpenAiRequests.IsTrue(body["stream"]))
        {
            var outcome = await gateway.CompleteChatAsync(modelCaller, body, cancellationToken);
            return outcome.Failure is { } failure ? failure.ToOpenAiResult() : OpenAiRequests.Raw(outcome.Value!);
        }

        var opened = await gateway.StreamChatAsync(modelCaller, body, cancellationToken);
        if (opened.Failure is { } refused)
        {
            return refused.ToOpenAiResult();
        }

        await using var stream = opened.Value!;
        await PumpAsync(stream, context.Response, cancellationToken);
        return Results.Empty;
    }

    /// <summary>
    /// Forwards each upstream chunk as it arrives. The request's token is the client's connection: when the client
    /// goes away the read is cancelled, and disposing the stream closes the upstream request.
    /// </summary>
    private static async Task PumpAsync(ModelChatStream stream, HttpResponse response, CancellationToken cancellationToken)
    {
        // The upstream already answered, so the first chunk is at hand: the headers can travel with it.
        StreamingResponses.Prepare(response, "text/event-stream");
        try
        {
            await foreach (var chunk in stream.ReadEventsAsync(cancellationToken))
            {
                await WriteEventAsync(response, Encoding.UTF8.GetBytes(chunk.Json), cancellationToken);
            }

            if (stream.Failure is { } failure)
            {
                // Headers are gone: the error travels as one last event, and the missing [DONE] marks the stream as cut short.
                var error = new OpenAiErrorBody(new OpenAiError(failure.Message, OpenAiErrors.TypeFor(failure.Status), null, ModelResults.CodeOf(failure)));
                await WriteEventAsync(response, JsonSerializer.SerializeToUtf8Bytes(error, EntityJson), cancellationToken);
                return;
            }

            await response.Body.WriteAsync(Done, cancellationToken);
            await response.Body.FlushAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The client left; disposing the stream (by the caller) ends the upstream call and records it as cancelled.
        }
        catch (IOException) when (cancellationToken.IsCancellationRequested)
        {
            // Same: the connection to the client is gone.
        }
    }

    private static readonly JsonSerializerOptions EntityJson = new(JsonSerializerDefaults.Web);

    private static async Task WriteEventAsync(HttpResponse response, byte[] json, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        writer.Write(DataPrefix);
        writer.Write(json);
        writer.Write(EventEnd);
        await writer.FlushAsync(cancellationToken);
    }
}
