using System.Text.Json;
using System.Text.Json.Nodes;

namespace Serverless.Functions.Platform.Http;

/// <summary>
/// JSON text may spell a lone UTF-16 surrogate (<c>"\ud800"</c>), which parses but never becomes a .NET string or JSON
/// output again: unchecked, a request fails with a 500 wherever the text is first read or written, or is stored and
/// breaks every later read. So JSON request bodies are refused with 400 while they stream in, before any handler or
/// store sees them; <see cref="IsWellFormed(JsonNode?)"/> checks JSON that arrives another way (a multipart field).
/// </summary>
internal static class WellFormedJson
{
    public const string Message = "The body holds text that is not valid Unicode (a lone UTF-16 surrogate such as \\ud800).";

    public static IApplicationBuilder UseWellFormedJsonBodies(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        if (IsJson(context.Request.ContentType))
        {
            context.Request.Body = new CheckedBody(context.Request.Body, context);
        }

        return next(context);
    });

    /// <summary>
    /// Whether this request's body was refused: parameter binding turns a failed read into a bare 400 (no exception),
    /// and the status-code envelope asks here for the reason.
    /// </summary>
    public static bool Refused(HttpContext context) => context.Items.ContainsKey(typeof(WellFormedJson));

    /// <summary>Whether every string and property name in <paramref name="node"/> is well-formed UTF-16.</summary>
    public static bool IsWellFormed(JsonNode? node) => node switch
    {
        JsonObject o => o.All(p => IsWellFormed(p.Key) && IsWellFormed(p.Value)),
        JsonArray a => a.All(IsWellFormed),
        JsonValue v when v.GetValueKind() == JsonValueKind.String => IsWellFormedString(v),
        _ => true,
    };

    private static bool IsWellFormedString(JsonValue value)
    {
        try
        {
            return IsWellFormed(value.GetValue<string>());
        }
        catch (InvalidOperationException)
        {
            // A parsed value unescapes on read, and an escaped lone surrogate cannot become UTF-16 text.
            return false;
        }
    }

    private static bool IsWellFormed(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }

    private static bool IsJson(string? contentType) =>
        contentType is not null && Microsoft.Net.Http.Headers.MediaTypeHeaderValue.TryParse(contentType, out var media)
        && (media.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Equals("text/json", StringComparison.OrdinalIgnoreCase)
            || media.MediaType.Value?.EndsWith("+json", StringComparison.OrdinalIgnoreCase) == true);

    /// <summary>The request body as read, scanned for <c>\u</c> escapes of surrogates that do not pair up.</summary>
    private sealed class CheckedBody(Stream inner, HttpContext context) : ForwardingReadStream(inner)
    {
        private State _state;
        private int _digits;
        private int _value;
        private bool _needsLow;

        private enum State : byte
        {
            Outside,
            InString,
            Escape,
            Hex,
            AfterHigh,
        }

        protected override int Observe(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                switch (_state)
                {
                    case State.Outside:
                        _state = b == '"' ? State.InString : State.Outside;
                        break;
                    case State.InString:
                        _state = b switch { (byte)'\\' => State.Escape, (byte)'"' => State.Outside, _ => State.InString };
                        break;
                    case State.Escape when b == 'u':
                        (_state, _digits, _value) = (State.Hex, 0, 0);
                        break;
                    case State.Escape:
                        Refuse(_needsLow);
                        _state = State.InString;
                        break;
                    case State.Hex:
                        var digit = HexDigit(b);
                        if (digit < 0)
                        {
                            // Not JSON at all: the parser says so.
                            (_state, _needsLow) = (State.InString, false);
                            break;
                        }

                        _value = (_value << 4) | digit;
                        if (++_digits == 4)
                        {
                            var high = _value is >= 0xD800 and <= 0xDBFF;
                            var low = _value is >= 0xDC00 and <= 0xDFFF;
                            Refuse(_needsLow ? !low : low);
                            _needsLow = !_needsLow && high;
                            _state = _needsLow ? State.AfterHigh : State.InString;
                        }

                        break;
                    case State.AfterHigh:
                        Refuse(b != '\\');
                        _state = State.Escape;
                        break;
                }
            }

            return bytes.Length;
        }

        private static int HexDigit(byte b) => b switch
        {
            >= (byte)'0' and <= (byte)'9' => b - '0',
            >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
            >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
            _ => -1,
        };

        private void Refuse(bool refuse)
        {
            if (refuse)
            {
                context.Items[typeof(WellFormedJson)] = true;
                throw new BadHttpRequestException(Message, StatusCodes.Status400BadRequest);
            }
        }
    }
}
