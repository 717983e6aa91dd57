using System.Buffers;
using System.IO.Pipelines;
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
        var writer = response.BodyWriter;
        try
        {
            await using var events = stream.ReadEventsAsync(cancellationToken).GetAsyncEnumerator(cancellationToken);
            while (true)
            {
                // What is written goes out whenever the next chunk is not already at hand, i.e. before every wait for
                // the upstream: each token reaches the client as soon as it came, yet chunks that arrived together
                // leave together, in one write instead of one per chunk.
                var next = events.MoveNextAsync();
                if (!next.IsCompleted)
                {
                    try
                    {
                        await writer.FlushAsync(cancellationToken);
                    }
                    catch
                    {
                        // The enumerator cannot be disposed while a read is under way; the client's token ends that read.
                        await SettleAsync(next);
                        throw;
                    }
                }

                if (!await next)
                {
                    break;
                }

                WriteEvent(writer, events.Current.Json);
            }

            if (stream.Failure is { } failure)
            {
                // Headers are gone: the error travels as one last event, and the missing [DONE] marks the stream as cut short.
                var error = new OpenAiErrorBody(new OpenAiError(failure.Message, OpenAiErrors.TypeFor(failure.Status), null, ModelResults.CodeOf(failure)));
                WriteEvent(writer, JsonSerializer.Serialize(error, EntityJson));
            }
            else
            {
                writer.Write(Done);
            }

            await writer.FlushAsync(cancellationToken);
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

    private static async Task SettleAsync(ValueTask<bool> pending)
    {
        try
        {
            await pending;
        }
        catch (Exception exception) when (exception is OperationCanceledException or IOException)
        {
            // The flush's exception is the one that counts.
        }
    }

    private static void WriteEvent(PipeWriter writer, string json)
    {
        writer.Write(DataPrefix);
        // Transcoded straight into the response's buffer, without a byte array per chunk.
        var span = writer.GetSpan(Encoding.UTF8.GetMaxByteCount(json.Length));
        writer.Advance(Encoding.UTF8.GetBytes(json, span));
        writer.Write(EventEnd);
    }
}
