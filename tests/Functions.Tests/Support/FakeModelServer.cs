using System.Collections.Concurrent;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Serverless.Functions.Tests.Support;

/// <summary>What the fake does with one request; null lets the default answer it.</summary>
public delegate Task<bool> FakeBehavior(HttpContext context, JsonObject? body);

/// <summary>
/// An OpenAI-compatible and Ollama-native server on 127.0.0.1 (real Kestrel, ephemeral port) for tests. By default it
/// answers chat with "echo: &lt;last user message&gt;" and usage 10/5, streams three chunks plus a usage chunk, embeds
/// every input into a deterministic bag-of-words vector (<see cref="EmbeddingDimensions"/>, default 3), and serves Ollama's tags/generate/pull/delete. Tests queue one-off behaviors (a 429, a delay,
/// a tool call) and read what arrived.
/// </summary>
public sealed class FakeModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<FakeBehavior> _next = new();

    private FakeModelServer(WebApplication app) => _app = app;

    public Uri BaseUrl { get; private set; } = null!;

    public string OpenAiBase => BaseUrl + "v1";

    public ConcurrentQueue<(string Path, JsonObject? Body, string? Authorization, string? ApiKeyHeader)> Received { get; } = new();

    /// <summary>Completed when a streamed request was aborted by the gateway (the client went away).</summary>
    public TaskCompletionSource StreamAborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>A behavior for every request not served by a queued one (e.g. always 500).</summary>
    public FakeBehavior? Always { get; set; }

    public int PromptTokens { get; set; } = 10;

    public int CompletionTokens { get; set; } = 5;

    /// <summary>Length of the embeddings it answers with (3 keeps the older tests' expectations; retrieval tests use more).</summary>
    public int EmbeddingDimensions { get; set; } = 3;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "a", "an", "and", "are", "as", "at", "be", "by", "can", "do", "does", "for", "from", "how", "i", "in", "is", "it", "its", "my", "of",
        "on", "or", "our", "that", "the", "this", "to", "was", "what", "when", "where", "which", "who", "why", "with", "you", "your",
    };

    /// <summary>
    /// A deterministic bag-of-words embedding: every lowercased word (stop words aside) counts into the dimension its
    /// FNV-1a hash picks, and the vector is L2-normalised, so texts sharing words have a high cosine similarity.
    /// </summary>
    public static float[] Embed(string text, int dimensions)
    {
        var vector = new float[dimensions];
        foreach (var token in System.Text.RegularExpressions.Regex.Split(text.ToLowerInvariant(), @"[^\p{L}\p{N}]+"))
        {
            if (token.Length == 0 || StopWords.Contains(token))
            {
                continue;
            }

            var hash = 2166136261u;
            foreach (var c in token)
            {
                hash = (hash ^ c) * 16777619u;
            }

            vector[hash % (uint)dimensions] += 1;
        }

        var norm = MathF.Sqrt(vector.Sum(v => v * v));
        if (norm == 0)
        {
            // An empty text still gets a unit vector, as real models never answer with zeros.
            vector[0] = 1;
            return vector;
        }

        for (var i = 0; i < dimensions; i++)
        {
            vector[i] /= norm;
        }

        return vector;
    }

    /// <summary>Starts one; with <paramref name="certificate"/> it serves https with it.</summary>
    public static async Task<FakeModelServer> StartAsync(X509Certificate2? certificate = null)
    {
        FakeModelServer? fake = null;
        var (_, address) = await LoopbackServer.StartAsync(app =>
        {
            fake = new FakeModelServer(app);
            app.Run(fake.HandleAsync);
        }, certificate);
        fake!.BaseUrl = new Uri(address.TrimEnd('/') + "/");
        return fake;
    }

    public void Enqueue(FakeBehavior behavior) => _next.Enqueue(behavior);

    public void EnqueueStatus(int status, int times = 1)
    {
        for (var i = 0; i < times; i++)
        {
            Enqueue(async (context, _) =>
            {
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(new { error = new { message = $"fake {status}", type = "server_error", code = (string?)null } });
                return true;
            });
        }
    }

    public void EnqueueDelay(TimeSpan delay) => Enqueue(async (context, _) =>
    {
        await Task.Delay(delay, context.RequestAborted).ContinueWith(_ => { });
        return false;
    });

    /// <summary>The next chat completion answers with these tool calls (finish_reason tool_calls).</summary>
    public void EnqueueToolCalls(params (string Name, object Arguments)[] calls) => Enqueue(async (context, body) =>
    {
        var toolCalls = new JsonArray();
        var i = 0;
        foreach (var (name, arguments) in calls)
        {
            toolCalls.Add(new JsonObject
            {
                ["id"] = $"call_{i++}_{Guid.NewGuid():N}",
                ["type"] = "function",
                ["function"] = new JsonObject { ["name"] = name, ["arguments"] = System.Text.Json.JsonSerializer.Serialize(arguments) },
            });
        }

        var message = new JsonObject { ["role"] = "assistant", ["content"] = null, ["tool_calls"] = toolCalls };
        await context.Response.WriteAsJsonAsync(Completion(body, message, "tool_calls"));
        return true;
    });

    /// <summary>The next (streamed) chat completion sends <paramref name="piece"/> <paramref name="count"/> times, one every <paramref name="gap"/>, as a slow model writes.</summary>
    public void EnqueueSlowStream(string piece, int count, TimeSpan gap) => Enqueue(async (context, _) =>
    {
        context.Response.ContentType = "text/event-stream";
        var chunk = "data: " + new JsonObject { ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["delta"] = new JsonObject { ["content"] = piece } }) }.ToJsonString() + "\n\n";
        for (var i = 0; i < count; i++)
        {
            await context.Response.WriteAsync(chunk);
            await context.Response.Body.FlushAsync();
            await Task.Delay(gap);
        }

        await context.Response.WriteAsync("data: [DONE]\n\n");
        return true;
    });

    /// <summary>The next chat completion answers with this text; a streamed request gets it in pieces of a few characters.</summary>
    public void EnqueueReply(string content) => Enqueue(async (context, body) =>
    {
        if (Flag(body, "stream") == true)
        {
            await StreamAsync(context, body!, [.. content.Chunk(4).Select(c => new string(c))]);
            return true;
        }

        await context.Response.WriteAsJsonAsync(Completion(body, new JsonObject { ["role"] = "assistant", ["content"] = content }, "stop"));
        return true;
    });

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        JsonObject? body = null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            using var reader = new StreamReader(context.Request.Body);
            var text = await reader.ReadToEndAsync();
            body = text.Length > 0 ? JsonNode.Parse(text) as JsonObject : null;
        }

        var path = context.Request.Path.Value ?? "";
        Received.Enqueue((path, body, context.Request.Headers.Authorization.ToString() is { Length: > 0 } auth ? auth : null,
            context.Request.Headers["api-key"].ToString() is { Length: > 0 } apiKey ? apiKey : null));
        if (_next.TryDequeue(out var behavior) && await behavior(context, body))
        {
            return;
        }

        if (Always is { } always && await always(context, body))
        {
            return;
        }

        switch (path)
        {
            case "/v1/chat/completions" when Flag(body, "stream") == true:
                await StreamAsync(context, body!);
                break;
            case "/v1/chat/completions":
                var last = body?["messages"]?.AsArray().LastOrDefault(m => m?["role"]?.GetValue<string>() == "user")?["content"]?.ToString() ?? "";
                await context.Response.WriteAsJsonAsync(Completion(body, new JsonObject { ["role"] = "assistant", ["content"] = "echo: " + last }, "stop"));
                break;
            case "/v1/embeddings":
                var inputs = body?["input"] switch
                {
                    JsonArray list => list.Select(i => i?.ToString() ?? "").ToList(),
                    { } one => [one.ToString()],
                    null => new List<string> { "" },
                };
                await context.Response.WriteAsJsonAsync(new
                {
                    @object = "list",
                    data = inputs.Select((text, i) => new { @object = "embedding", index = i, embedding = Embed(text, EmbeddingDimensions) }).ToArray(),
                    model = body?["model"]?.ToString(),
                    usage = new { prompt_tokens = PromptTokens, total_tokens = PromptTokens },
                });
                break;
            case "/v1/models":
                await context.Response.WriteAsJsonAsync(new { @object = "list", data = new[] { new { id = "fake-model", @object = "model", created = 0, owned_by = "fake" } } });
                break;
            case "/api/tags":
                await context.Response.WriteAsJsonAsync(new
                {
                    models = new[]
                    {
                        new
                        {
                            name = "llama3.2:1b", model = "llama3.2:1b", size = 1_300_000_000L, digest = "sha256:abc",
                            details = new { format = "gguf", family = "llama", families = new[] { "llama" }, parameter_size = "1B", quantization_level = "Q8_0" },
                        },
                    },
                });
                break;
            case "/api/generate" when Flag(body, "stream") == false:
                await context.Response.WriteAsJsonAsync(new
                {
                    model = body?["model"]?.ToString(), created_at = "2026-01-01T00:00:00Z", response = "generated", done = true,
                    prompt_eval_count = 7, eval_count = 3, total_duration = 1000,
                });
                break;
            case "/api/generate":
                context.Response.ContentType = "application/x-ndjson";
                foreach (var piece in new[] { "gen", "erated" })
                {
                    await context.Response.WriteAsync($"{{\"model\":\"{body?["model"]}\",\"response\":\"{piece}\",\"done\":false}}\n");
                    await context.Response.Body.FlushAsync();
                }

                await context.Response.WriteAsync($"{{\"model\":\"{body?["model"]}\",\"response\":\"\",\"done\":true,\"prompt_eval_count\":7,\"eval_count\":3}}\n");
                break;
            case "/api/pull":
                context.Response.ContentType = "application/x-ndjson";
                foreach (var line in new[] { "{\"status\":\"pulling manifest\"}", "{\"status\":\"downloading\",\"completed\":50,\"total\":100}", "{\"status\":\"success\"}" })
                {
                    await context.Response.WriteAsync(line + "\n");
                    await context.Response.Body.FlushAsync();
                }

                break;
            case "/api/delete":
                context.Response.StatusCode = body?["model"]?.ToString() == "missing:latest" ? 404 : 200;
                break;
            default:
                context.Response.StatusCode = 404;
                break;
        }
    }

    private JsonObject Completion(JsonObject? request, JsonObject message, string finishReason) => new()
    {
        ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
        ["object"] = "chat.completion",
        ["created"] = 1_700_000_000,
        ["model"] = Text(request, "model"),
        ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = finishReason }),
        ["usage"] = new JsonObject { ["prompt_tokens"] = PromptTokens, ["completion_tokens"] = CompletionTokens, ["total_tokens"] = PromptTokens + CompletionTokens },
    };

    private static bool? Flag(JsonObject? body, string name) => body is not null && body[name] is JsonValue v && v.TryGetValue(out bool b) ? b : null;

    private static string? Text(JsonObject? body, string name) => body is null ? null : body[name]?.ToString();

    private async Task StreamAsync(HttpContext context, JsonObject body, string[]? pieces = null)
    {
        context.Response.ContentType = "text/event-stream";
        var model = body["model"]?.ToString();
        var id = "chatcmpl-" + Guid.NewGuid().ToString("N");
        var hang = body["messages"]?.ToJsonString().Contains("hang", StringComparison.Ordinal) == true;
        try
        {
            foreach (var piece in pieces ?? ["Hel", "lo", "!"])
            {
                var delta = new JsonObject { ["content"] = piece }.ToJsonString();
                await WriteAsync(context, $"{{\"id\":\"{id}\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{delta},\"finish_reason\":null}}]}}");
                if (hang)
                {
                    // Holds the stream open until the gateway lets go of it.
                    await Task.Delay(Timeout.Infinite, context.RequestAborted);
                }
            }

            await WriteAsync(context, $"{{\"id\":\"{id}\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"{model}\",\"choices\":[{{\"index\":0,\"delta\":{{}},\"finish_reason\":\"stop\"}}]}}");
            if (body["stream_options"]?["include_usage"]?.GetValue<bool>() == true)
            {
                await WriteAsync(context, $"{{\"id\":\"{id}\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"{model}\",\"choices\":[],\"usage\":{{\"prompt_tokens\":{PromptTokens},\"completion_tokens\":{CompletionTokens},\"total_tokens\":{PromptTokens + CompletionTokens}}}}}");
            }

            await context.Response.WriteAsync("data: [DONE]\n\n");
        }
        catch (OperationCanceledException)
        {
            StreamAborted.TrySetResult();
        }
    }

    private static async Task WriteAsync(HttpContext context, string json)
    {
        await context.Response.WriteAsync("data: " + json + "\n\n", Encoding.UTF8);
        await context.Response.Body.FlushAsync();
    }
}
