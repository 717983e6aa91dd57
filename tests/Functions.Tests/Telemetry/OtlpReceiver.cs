using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Telemetry;

/// <summary>
/// An OTLP/HTTP collector on 127.0.0.1 for tests: takes protobuf POSTs to /v1/traces, /v1/metrics and /v1/logs, keeps
/// the bodies, and decodes the parts the tests read (spans with their attributes, metric names, log records' trace ids).
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;

    private OtlpReceiver(WebApplication app, string address)
    {
        _app = app;
        Address = address;
    }

    public string Address { get; }

    public ConcurrentQueue<byte[]> Traces { get; } = new();

    public ConcurrentQueue<byte[]> Metrics { get; } = new();

    public ConcurrentQueue<byte[]> Logs { get; } = new();

    public static async Task<OtlpReceiver> StartAsync()
    {
        OtlpReceiver? receiver = null;
        var (app, address) = await LoopbackServer.StartAsync(app => app.Run(async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var queue = context.Request.Path.Value switch
            {
                "/v1/traces" => receiver!.Traces,
                "/v1/metrics" => receiver!.Metrics,
                "/v1/logs" => receiver!.Logs,
                _ => null,
            };
            if (queue is null || context.Request.Method != "POST")
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            queue.Enqueue(buffer.ToArray());
            // An empty Export*ServiceResponse: full success.
            context.Response.ContentType = "application/x-protobuf";
        }));
        receiver = new OtlpReceiver(app, address.TrimEnd('/'));
        return receiver;
    }

    /// <summary>Every span received so far.</summary>
    public IReadOnlyList<OtlpSpan> Spans() =>
        [.. Traces.SelectMany(body => Protobuf.Messages(body, 1)        // ExportTraceServiceRequest.resource_spans
            .SelectMany(resource => Protobuf.Messages(resource, 2))      // ResourceSpans.scope_spans
            .SelectMany(scope => Protobuf.Messages(scope, 2))            // ScopeSpans.spans
            .Select(OtlpSpan.Decode))];

    /// <summary>The names of every metric received so far.</summary>
    public IReadOnlySet<string> MetricNames() =>
        Metrics.SelectMany(body => Protobuf.Messages(body, 1)            // ExportMetricsServiceRequest.resource_metrics
            .SelectMany(resource => Protobuf.Messages(resource, 2))      // ResourceMetrics.scope_metrics
            .SelectMany(scope => Protobuf.Messages(scope, 2))            // ScopeMetrics.metrics
            .Select(metric => Protobuf.String(metric, 1) ?? ""))         // Metric.name
            .ToHashSet(StringComparer.Ordinal);

    /// <summary>Whether any trace payload holds <paramref name="text"/> anywhere (as UTF-8).</summary>
    public bool TracesContain(string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return Traces.Any(body => body.AsSpan().IndexOf(needle) >= 0);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

/// <summary>A decoded OTLP span: ids as lowercase hex, kind as OTLP numbers it (2 = server, 3 = client), attributes by key.</summary>
public sealed record OtlpSpan(string TraceId, string SpanId, string ParentSpanId, string Name, int Kind, IReadOnlyDictionary<string, object?> Attributes, int StatusCode)
{
    public const int ServerKind = 2;
    public const int ClientKind = 3;

    public string? Attribute(string key) => Attributes.TryGetValue(key, out var value) ? Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) : null;

    internal static OtlpSpan Decode(byte[] span)
    {
        var attributes = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var pair in Protobuf.Messages(span, 9))                 // Span.attributes (KeyValue)
        {
            attributes[Protobuf.String(pair, 1) ?? ""] = Protobuf.Messages(pair, 2).Select(AnyValue).FirstOrDefault();
        }

        var status = Protobuf.Messages(span, 15).FirstOrDefault();        // Span.status
        return new OtlpSpan(
            Convert.ToHexStringLower(Protobuf.Bytes(span, 1) ?? []),
            Convert.ToHexStringLower(Protobuf.Bytes(span, 2) ?? []),
            Convert.ToHexStringLower(Protobuf.Bytes(span, 4) ?? []),
            Protobuf.String(span, 5) ?? "",
            (int)(Protobuf.Varint(span, 6) ?? 0),
            attributes,
            status is null ? 0 : (int)(Protobuf.Varint(status, 3) ?? 0));
    }

    // AnyValue: 1 string, 2 bool, 3 int64, 4 double.
    private static object? AnyValue(byte[] value)
    {
        if (Protobuf.String(value, 1) is { } text)
        {
            return text;
        }

        if (Protobuf.Varint(value, 3) is { } integer)
        {
            return (long)integer;
        }

        if (Protobuf.Varint(value, 2) is { } flag)
        {
            return flag != 0;
        }

        return Protobuf.Fixed64(value, 4) is { } bits ? BitConverter.Int64BitsToDouble((long)bits) : null;
    }
}

/// <summary>Just enough of the protobuf wire format to read OTLP messages: fields by number, first or all occurrences.</summary>
internal static class Protobuf
{
    public static IEnumerable<byte[]> Messages(byte[] message, int field) =>
        Fields(message).Where(f => f.Number == field && f.Bytes is not null).Select(f => f.Bytes!);

    public static byte[]? Bytes(byte[] message, int field) => Messages(message, field).FirstOrDefault();

    public static string? String(byte[] message, int field) => Bytes(message, field) is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    public static ulong? Varint(byte[] message, int field) =>
        Fields(message).Where(f => f.Number == field && f.WireType == 0).Select(f => (ulong?)f.Value).FirstOrDefault();

    public static ulong? Fixed64(byte[] message, int field) =>
        Fields(message).Where(f => f.Number == field && f.WireType == 1).Select(f => (ulong?)f.Value).FirstOrDefault();

    private static List<(int Number, int WireType, ulong Value, byte[]? Bytes)> Fields(byte[] message)
    {
        var fields = new List<(int, int, ulong, byte[]?)>();
        var position = 0;
        while (position < message.Length)
        {
            var key = ReadVarint(message, ref position);
            var number = (int)(key >> 3);
            var wireType = (int)(key & 7);
            switch (wireType)
            {
                case 0:
                    fields.Add((number, wireType, ReadVarint(message, ref position), null));
                    break;
                case 1:
                    fields.Add((number, wireType, BitConverter.ToUInt64(message, position), null));
                    position += 8;
                    break;
                case 2:
                    var length = (int)ReadVarint(message, ref position);
                    fields.Add((number, wireType, 0, message[position..(position + length)]));
                    position += length;
                    break;
                case 5:
                    fields.Add((number, wireType, BitConverter.ToUInt32(message, position), null));
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Unsupported protobuf wire type {wireType} at {position}.");
            }
        }

        return fields;
    }

    private static ulong ReadVarint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
