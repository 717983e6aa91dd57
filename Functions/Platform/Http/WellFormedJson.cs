namespace Serverless.Functions.Platform.Http;

/// <summary>
/// JSON text may spell a lone UTF-16 surrogate (<c>"\ud800"</c>), which parses but never becomes a .NET string or JSON
/// output again: unchecked, a request fails with a 500 wherever the text is first read or written, or is stored and
/// breaks every later read. So JSON request bodies are refused with 400 while they stream in, before any handler or
/// store sees them; <see cref="IsWellFormed(string)"/> checks JSON text that arrives another way (a multipart field, a
/// WebSocket message).
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

    /// <summary>Whether JSON text spells no lone surrogate (the same scan the request bodies get).</summary>
    public static bool IsWellFormed(string json)
    {
        var scanner = default(Scanner);
        foreach (var c in json)
        {
            if (!scanner.Accepts(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The same scan over UTF-8 JSON text (a WebSocket message).</summary>
    public static bool IsWellFormed(ReadOnlySpan<byte> json)
    {
        var scanner = default(Scanner);
        foreach (var b in json)
        {
            if (!scanner.Accepts(b))
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
        private Scanner _scanner;

        protected override int Observe(ReadOnlySpan<byte> bytes)
        {
            foreach (var b in bytes)
            {
                if (!_scanner.Accepts(b))
                {
                    context.Items[typeof(WellFormedJson)] = true;
                    throw new BadHttpRequestException(Message, StatusCodes.Status400BadRequest);
                }
            }

            return bytes.Length;
        }
    }

    /// <summary>
    /// Follows JSON text one unit at a time (UTF-8 bytes or UTF-16 chars: only ASCII units matter) through strings and
    /// their escapes, and refuses a <c>\u</c> escape of a low surrogate without its high one, or of a high one not
    /// followed at once by a low one.
    /// </summary>
    private struct Scanner
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

        public bool Accepts(int unit)
        {
            switch (_state)
            {
                case State.Outside:
                    _state = unit == '"' ? State.InString : State.Outside;
                    return true;
                case State.InString:
                    _state = unit switch { '\\' => State.Escape, '"' => State.Outside, _ => State.InString };
                    return true;
                case State.Escape when unit == 'u':
                    (_state, _digits, _value) = (State.Hex, 0, 0);
                    return true;
                case State.Escape:
                    _state = State.InString;
                    return !_needsLow;
                case State.Hex:
                    var digit = HexDigit(unit);
                    if (digit < 0)
                    {
                        // Not JSON at all: the parser says so.
                        (_state, _needsLow) = (State.InString, false);
                        return true;
                    }

                    _value = (_value << 4) | digit;
                    if (++_digits < 4)
                    {
                        return true;
                    }

                    var high = _value is >= 0xD800 and <= 0xDBFF;
                    var low = _value is >= 0xDC00 and <= 0xDFFF;
                    if (_needsLow ? !low : low)
                    {
                        return false;
                    }

                    _needsLow = !_needsLow && high;
                    _state = _needsLow ? State.AfterHigh : State.InString;
                    return true;
                default:
                    _state = State.Escape;
                    return unit == '\\';
            }
        }

        private static int HexDigit(int unit) => unit switch
        {
            >= '0' and <= '9' => unit - '0',
            >= 'a' and <= 'f' => unit - 'a' + 10,
            >= 'A' and <= 'F' => unit - 'A' + 10,
            _ => -1,
        };
    }
}
