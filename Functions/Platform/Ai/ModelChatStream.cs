using System.ClientModel.Primitives;
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace Serverless.Functions.Platform.Ai;

/// <summary>
/// An open streamed chat completion. Read the events once; dispose it when done (that closes the upstream
/// connection, which is how a client that went away cancels the upstream request, and records the usage).
/// </summary>
internal sealed class ModelChatStream : IAsyncDisposable
{
    private readonly PipelineResponse _response;
    private readonly bool _forwardUsage;
    private readonly long _started;
    private readonly Func<int> _promptEstimate;
    private readonly Func<TokenUsage, long?, string, Task> _record;
    private TokenUsage? _reported;
    private int _completionCharacters;
    private long? _timeToFirstTokenMs;
    private string _status = UsageStatus.Cancelled;
    private int _disposed;

    internal ModelChatStream(PipelineResponse response, string provider, string model, bool forwardUsage, long started, Func<int> promptEstimate,
        Func<TokenUsage, long?, string, Task> record)
    {
        _response = response;
        Provider = provider;
        Model = model;
        _forwardUsage = forwardUsage;
        _started = started;
        _promptEstimate = promptEstimate;
        _record = record;
    }

    public string Provider { get; }

    public string Model { get; }

    /// <summary>Set when the upstream stream broke off (the events so far were real, the end is missing).</summary>
    public ModelFailure? Failure { get; private set; }

    public long? TimeToFirstTokenMs => _timeToFirstTokenMs;

    /// <summary>The provider's own count when it sent one, else an estimate.</summary>
    public TokenUsage Usage => _reported ?? new TokenUsage(_promptEstimate(), ModelGateway.EstimateTokens(_completionCharacters));

    /// <summary>The chunks up to (not including) <c>[DONE]</c>; cancelling stops reading and, once disposed, the upstream call.</summary>
    public async IAsyncEnumerable<ChatStreamEvent> ReadEventsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(_response.ContentStream!, Encoding.UTF8, false, 4096, leaveOpen: true);
        var any = false;
        while (true)
        {
            var line = await ReadLineAsync(reader, cancellationToken);
            if (line is null)
            {
                // The upstream closed without [DONE]: complete when something came, a failure when nothing did.
                if (Failure is null && !any)
                {
                    Failure = new ModelFailure(ModelFailureKind.Upstream, 502, $"The provider '{Provider}' closed the stream without data.");
                }

                _status = Failure is null ? UsageStatus.Ok : Failure.Kind == ModelFailureKind.Timeout ? UsageStatus.Timeout : UsageStatus.Error;
                yield break;
            }

            if (!line.StartsWith("data:", StringComparison.Ordinal))
            {
                continue;
            }

            var data = line[5..].Trim();
            if (data == "[DONE]")
            {
                _status = UsageStatus.Ok;
                yield break;
            }

            any = true;
            _timeToFirstTokenMs ??= (long)Stopwatch.GetElapsedTime(_started).TotalMilliseconds;
            var (delta, usageOnly) = Inspect(data);
            if (usageOnly && !_forwardUsage)
            {
                continue;
            }

            yield return new ChatStreamEvent(data, delta);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _response.Dispose();
            await _record(Usage, _timeToFirstTokenMs, _status);
        }
    }

    internal static TokenUsage? UsageOf(JsonElement root, bool embedding)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("usage", out var usage) || usage.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var prompt = usage.TryGetProperty("prompt_tokens", out var p) && p.TryGetInt32(out var pv) ? pv : 0;
        var completion = usage.TryGetProperty("completion_tokens", out var c) && c.TryGetInt32(out var cv) ? cv : 0;
        if (embedding && prompt == 0 && usage.TryGetProperty("total_tokens", out var t) && t.TryGetInt32(out var tv))
        {
            prompt = tv;
        }

        return new TokenUsage(prompt, completion);
    }

    private async Task<string?> ReadLineAsync(StreamReader reader, CancellationToken cancellationToken)
    {
        try
        {
            return await reader.ReadLineAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            _status = UsageStatus.Cancelled;
            throw;
        }
        catch (Exception exception) when (exception is IOException or OperationCanceledException or HttpRequestException or TimeoutException)
        {
            Failure = exception is IOException or HttpRequestException
                ? new ModelFailure(ModelFailureKind.Upstream, 502, $"The provider '{Provider}' broke off the stream.")
                : new ModelFailure(ModelFailureKind.Timeout, 504, $"The provider '{Provider}' stopped sending.");
            return null;
        }
    }

    private (string? Delta, bool UsageOnly) Inspect(string data)
    {
        try
        {
            using var document = JsonDocument.Parse(data);
            var root = document.RootElement;
            var usage = UsageOf(root, embedding: false);
            var hasUsage = usage is not null;
            if (hasUsage)
            {
                _reported = usage;
            }

            if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                return (null, hasUsage);
            }

            string? delta = null;
            foreach (var choice in choices.EnumerateArray())
            {
                if (choice.TryGetProperty("delta", out var d) && d.ValueKind == JsonValueKind.Object)
                {
                    if (d.TryGetProperty("content", out var content) && content.ValueKind == JsonValueKind.String)
                    {
                        delta = content.GetString();
                        _completionCharacters += delta?.Length ?? 0;
                    }

                    if (d.TryGetProperty("tool_calls", out var tools))
                    {
                        _completionCharacters += tools.GetRawText().Length;
                    }
                }
            }

            return (delta, false);
        }
        catch (JsonException)
        {
            // Not ours to judge: a chunk we cannot read is forwarded as it came.
            return (null, false);
        }
    }
}
