using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using CsvHelper;
using Serverless.Functions.Features.Datasets;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Plugins;

/// <summary>What a built-in plugin gets for one execution: the input (valid against its schema) and the workspace's config.</summary>
internal sealed record BuiltinCall(string WorkspaceId, JsonObject Input, JsonObject Config, PluginCapabilities Granted);

/// <summary>A plugin the platform ships: listed for every workspace, enabled unless the workspace disables it.</summary>
internal interface IBuiltinPlugin
{
    PluginManifest Manifest { get; }

    Task<PluginOutcome> ExecuteAsync(BuiltinCall call, CancellationToken cancellationToken);
}

internal static class Builtins
{
    public static PluginManifest Manifest(string id, string name, string description, string[] categories, string input, string output, string[]? network = null)
    {
        var (manifest, check) = PluginManifest.Parse(new JsonObject
        {
            ["id"] = id,
            ["name"] = name,
            ["version"] = "1.0.0",
            ["description"] = description,
            ["categories"] = new JsonArray([.. categories.Select(c => (JsonNode)c)]),
            ["runtime"] = new JsonObject { ["kind"] = RuntimeKinds.Builtin },
            ["capabilities"] = new JsonObject { ["network"] = new JsonArray([.. (network ?? []).Select(n => (JsonNode)n)]) },
            ["inputSchema"] = JsonNode.Parse(input),
            ["outputSchema"] = JsonNode.Parse(output),
        }, installing: false);
        return manifest ?? throw new InvalidOperationException($"Built-in plugin {id}: " + string.Join("; ", check.Errors.Select(e => $"{e.Field}: {e.Message}")));
    }

    public static string? Text(JsonObject input, string name) => input[name] is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}

/// <summary>A web page as clean text: fetched through the plugin guard (no internal addresses), HTML reduced to its readable text.</summary>
internal sealed class WebReaderPlugin(PluginHttp http) : IBuiltinPlugin
{
    private static readonly Regex Title = new(@"<title[^>]*>(.*?)</title>", RegexOptions.IgnoreCase | RegexOptions.Singleline | RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));

    public PluginManifest Manifest { get; } = Builtins.Manifest("web-reader", "Web page reader",
        "Fetches a public web page and returns its readable text (scripts, styles and markup removed). Internal addresses are refused.", ["web", "utility"],
        """{"type":"object","required":["url"],"properties":{"url":{"type":"string","format":"uri","maxLength":2000},"maxChars":{"type":"integer","minimum":100,"maximum":200000,"default":20000}},"additionalProperties":false}""",
        """{"type":"object","required":["url","status","text"],"properties":{"url":{"type":"string"},"status":{"type":"integer"},"title":{"type":["string","null"]},"text":{"type":"string"},"truncated":{"type":"boolean"}}}""",
        ["*"]);

    public async Task<PluginOutcome> ExecuteAsync(BuiltinCall call, CancellationToken cancellationToken)
    {
        var url = Builtins.Text(call.Input, "url");
        if (!PrivateNetworkGuard.IsHttpUrl(url))
        {
            return PluginOutcome.Fail(PluginErrors.InputInvalid, "url must be an absolute http or https URL without credentials.");
        }

        var target = new Uri(url!);
        if (!call.Granted.AllowsHost(target.IdnHost))
        {
            return PluginOutcome.Fail(PluginErrors.CapabilityDenied, $"The workspace did not grant this plugin network access to {target.IdnHost}.");
        }

        var maxChars = call.Input["maxChars"]?.GetValue<int>() ?? 20_000;
        using var request = new HttpRequestMessage(HttpMethod.Get, target);
        request.Headers.UserAgent.ParseAdd("serverless-platform-web-reader/1");
        request.Headers.Accept.ParseAdd("text/html, text/plain;q=0.9, application/json;q=0.8");
        using var response = await http.Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        var type = response.Content.Headers.ContentType?.MediaType ?? "text/html";
        if (!type.StartsWith("text/", StringComparison.OrdinalIgnoreCase) && type is not ("application/json" or "application/xhtml+xml"))
        {
            return PluginOutcome.Fail(PluginErrors.Failed, $"The page is {type}, not text or HTML.");
        }

        if (await http.ReadLimitedAsync(response, cancellationToken) is not { } body)
        {
            return PluginOutcome.Fail(PluginErrors.Failed, $"The page is larger than {http.Options.MaxResponseBytes} bytes.");
        }

        string text;
        string? title = null;
        if (type.Contains("html", StringComparison.OrdinalIgnoreCase))
        {
            title = Title.Match(body) is { Success: true } m ? System.Net.WebUtility.HtmlDecode(m.Groups[1].Value).Trim() : null;
            await using var stream = new MemoryStream(Encoding.UTF8.GetBytes(body));
            var blocks = await DocumentParsers.ParseAsync(".html", stream, cancellationToken);
            text = string.Join("\n\n", blocks.Select(b => b.Heading is { } h && !b.Text.StartsWith(h, StringComparison.Ordinal) ? h + "\n" + b.Text : b.Text));
        }
        else
        {
            text = body.Trim();
        }

        var truncated = text.Length > maxChars;
        return PluginOutcome.Success(new JsonObject
        {
            ["url"] = response.RequestMessage?.RequestUri?.ToString() ?? url,
            ["status"] = (int)response.StatusCode,
            ["title"] = title,
            ["text"] = truncated ? text[..maxChars] : text,
            ["truncated"] = truncated,
        });
    }
}

/// <summary>JSON and CSV reshaping: pick fields by path, flatten, CSV → rows, rows → CSV.</summary>
internal sealed class JsonTransformPlugin : IBuiltinPlugin
{
    private const int MaxRows = 10_000;

    public PluginManifest Manifest { get; } = Builtins.Manifest("json-transform", "JSON / CSV transform",
        "Reshapes data: operation pick ({data, fields: {name: \"a.b[0].c\"}}), flatten ({data} → dotted keys), csv_to_json ({csv, delimiter?}) or json_to_csv ({data: [objects]}).",
        ["data", "utility"],
        """
        {"type":"object","required":["operation"],"properties":{
          "operation":{"enum":["pick","flatten","csv_to_json","json_to_csv"]},
          "data":{},"fields":{"type":"object","additionalProperties":{"type":"string","maxLength":500}},
          "csv":{"type":"string","maxLength":5000000},"delimiter":{"type":"string","minLength":1,"maxLength":1}},"additionalProperties":false}
        """,
        """{"type":"object"}""");

    public Task<PluginOutcome> ExecuteAsync(BuiltinCall call, CancellationToken cancellationToken)
    {
        var input = call.Input;
        return Task.FromResult(Builtins.Text(input, "operation") switch
        {
            "pick" when input["fields"] is JsonObject fields => Pick(input["data"], fields),
            "flatten" => Flatten(input["data"]),
            "csv_to_json" when Builtins.Text(input, "csv") is { } csv => CsvToJson(csv, Builtins.Text(input, "delimiter") ?? ","),
            "json_to_csv" when input["data"] is JsonArray rows => JsonToCsv(rows),
            var operation => PluginOutcome.Fail(PluginErrors.InputInvalid, operation switch
            {
                "pick" => "pick needs fields: {outputName: path}.",
                "csv_to_json" => "csv_to_json needs csv.",
                _ => "json_to_csv needs data: an array of objects.",
            }),
        });
    }

    private static PluginOutcome Pick(JsonNode? data, JsonObject fields)
    {
        var result = new JsonObject();
        foreach (var (name, path) in fields)
        {
            if (Resolve(data, path!.GetValue<string>()) is not (true, var value))
            {
                return PluginOutcome.Fail(PluginErrors.InputInvalid, $"fields.{name}: the path is not valid (use names and [index], e.g. items[0].title).");
            }

            result[name] = value?.DeepClone();
        }

        return PluginOutcome.Success(new JsonObject { ["result"] = result });
    }

    /// <summary>Follows <c>a.b[0].c</c>; a missing member is null, a malformed path is (false, null).</summary>
    private static (bool Valid, JsonNode? Value) Resolve(JsonNode? node, string path)
    {
        var current = node;
        foreach (Match part in Regex.Matches(path, @"([^.\[\]]+)|\[(\d+)\]", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)))
        {
            current = part.Groups[1].Success
                ? (current as JsonObject)?[part.Groups[1].Value]
                : current is JsonArray array && int.TryParse(part.Groups[2].Value, CultureInfo.InvariantCulture, out var i) && i < array.Count ? array[i] : null;
        }

        return (Regex.IsMatch(path, @"^[^.\[\]]+(\.[^.\[\]]+|\[\d+\])*$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), current);
    }

    private static PluginOutcome Flatten(JsonNode? data)
    {
        var result = new JsonObject();
        Walk(data, "");
        return PluginOutcome.Success(new JsonObject { ["result"] = result });

        void Walk(JsonNode? node, string prefix)
        {
            switch (node)
            {
                case JsonObject o when o.Count > 0:
                    foreach (var (key, value) in o)
                    {
                        Walk(value, prefix.Length == 0 ? key : $"{prefix}.{key}");
                    }

                    break;
                case JsonArray a when a.Count > 0:
                    for (var i = 0; i < a.Count; i++)
                    {
                        Walk(a[i], $"{prefix}[{i}]");
                    }

                    break;
                default:
                    result[prefix.Length == 0 ? "value" : prefix] = node?.DeepClone();
                    break;
            }
        }
    }

    private static PluginOutcome CsvToJson(string csv, string delimiter)
    {
        try
        {
            return ReadCsv(csv, delimiter[0]);
        }
        catch (Exception exception) when (exception is CsvFormatException or CsvValidationException)
        {
            return PluginOutcome.Fail(PluginErrors.InputInvalid, "csv is not valid CSV: " + exception.Message);
        }
    }

    private static PluginOutcome ReadCsv(string csv, char separator)
    {
        using var reader = CsvReader.Create(new StringReader(csv), new CsvReaderOptions { Separator = separator }, false);
        var headers = reader.Headers.ToList();
        var rows = new JsonArray();
        while (reader.Read())
        {
            if (rows.Count == MaxRows)
            {
                return PluginOutcome.Fail(PluginErrors.InputInvalid, $"csv has more than {MaxRows} rows.");
            }

            var row = new JsonObject();
            for (var i = 0; i < headers.Count; i++)
            {
                row[headers[i]] = i < reader.FieldCount ? reader.GetString(i) : null;
            }

            rows.Add(row);
        }

        return PluginOutcome.Success(new JsonObject { ["rows"] = rows, ["columns"] = new JsonArray([.. headers.Select(h => (JsonNode)h)]) });
    }

    private static PluginOutcome JsonToCsv(JsonArray rows)
    {
        if (rows.Count > MaxRows || rows.Any(r => r is not JsonObject))
        {
            return PluginOutcome.Fail(PluginErrors.InputInvalid, $"data must be an array of at most {MaxRows} objects.");
        }

        var columns = rows.SelectMany(r => r!.AsObject().Select(p => p.Key)).Distinct(StringComparer.Ordinal).ToList();
        var text = new StringWriter(CultureInfo.InvariantCulture);
        using (var csv = CsvWriter.Create(text, new CsvWriterOptions { Injection = CsvInjection.Escape }, true))
        {
            csv.WriteRecord([.. columns]);
            foreach (var row in rows)
            {
                csv.WriteRecord([.. columns.Select(c => row![c] switch
                {
                    null => "",
                    JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
                    var other => other.ToJsonString(),
                })]);
            }
        }

        return PluginOutcome.Success(new JsonObject { ["csv"] = text.ToString(), ["rows"] = rows.Count });
    }
}

/// <summary>Arithmetic on an expression: + - * / % ^, parentheses, and a few functions and constants. No code runs.</summary>
internal sealed class CalculatorPlugin : IBuiltinPlugin
{
    public PluginManifest Manifest { get; } = Builtins.Manifest("calculator", "Calculator",
        "Evaluates an arithmetic expression: numbers, + - * / % ^ and parentheses, pi and e, and sqrt abs round floor ceil min max pow ln log10 exp sin cos tan.",
        ["math", "utility"],
        """{"type":"object","required":["expression"],"properties":{"expression":{"type":"string","minLength":1,"maxLength":1000}},"additionalProperties":false}""",
        """{"type":"object","required":["result"],"properties":{"result":{"type":"number"},"expression":{"type":"string"}}}""");

    public Task<PluginOutcome> ExecuteAsync(BuiltinCall call, CancellationToken cancellationToken)
    {
        var expression = Builtins.Text(call.Input, "expression") ?? "";
        var (value, error) = Arithmetic.Evaluate(expression);
        return Task.FromResult(error is not null
            ? PluginOutcome.Fail(PluginErrors.InputInvalid, error)
            : PluginOutcome.Success(new JsonObject { ["result"] = value, ["expression"] = expression }));
    }
}

/// <summary>A recursive-descent evaluator of arithmetic expressions (depth-limited, so a long run of parentheses fails cleanly).</summary>
internal ref struct Arithmetic
{
    private const int MaxDepth = 64;
    private readonly ReadOnlySpan<char> _text;
    private int _position;
    private int _depth;

    private Arithmetic(ReadOnlySpan<char> text) => _text = text;

    public static (double Value, string? Error) Evaluate(string expression)
    {
        var parser = new Arithmetic(expression);
        try
        {
            var value = parser.Sum();
            parser.SkipSpace();
            if (parser._position < parser._text.Length)
            {
                return (0, $"Unexpected '{parser._text[parser._position]}' at position {parser._position + 1}.");
            }

            return double.IsFinite(value) ? (value, null) : (0, "The result is not a finite number (division by zero or overflow).");
        }
        catch (FormatException e)
        {
            return (0, e.Message);
        }
    }

    private double Sum()
    {
        var value = Product();
        while (Next('+', '-') is { } op)
        {
            value = op == '+' ? value + Product() : value - Product();
        }

        return value;
    }

    private double Product()
    {
        var value = Power();
        while (Next('*', '/', '%') is { } op)
        {
            var right = Power();
            value = op switch { '*' => value * right, '/' => value / right, _ => value % right };
        }

        return value;
    }

    private double Power()
    {
        var value = Unary();
        return Next('^') is not null ? Math.Pow(value, Power()) : value;
    }

    private double Unary()
    {
        if (Next('-', '+') is { } sign)
        {
            Enter();
            var operand = Unary();
            _depth--;
            return sign == '-' ? -operand : operand;
        }

        return Atom();
    }

    private double Atom()
    {
        SkipSpace();
        if (_position >= _text.Length)
        {
            throw new FormatException("The expression ends too early.");
        }

        var c = _text[_position];
        if (c == '(')
        {
            _position++;
            Enter();
            var inner = Sum();
            _depth--;
            Expect(')');
            return inner;
        }

        if (char.IsDigit(c) || c == '.')
        {
            var start = _position;
            while (_position < _text.Length && (char.IsDigit(_text[_position]) || _text[_position] == '.'
                || _text[_position] is 'e' or 'E' && _position + 1 < _text.Length && (char.IsDigit(_text[_position + 1]) || _text[_position + 1] is '-' or '+')
                || _text[_position] is '-' or '+' && _text[_position - 1] is 'e' or 'E'))
            {
                _position++;
            }

            return double.TryParse(_text[start.._position], NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
                ? number
                : throw new FormatException($"'{_text[start.._position]}' is not a number.");
        }

        if (char.IsLetter(c))
        {
            var start = _position;
            while (_position < _text.Length && char.IsLetterOrDigit(_text[_position]))
            {
                _position++;
            }

            var name = _text[start.._position].ToString().ToLowerInvariant();
            if (name is "pi" or "e")
            {
                return name == "pi" ? Math.PI : Math.E;
            }

            Expect('(');
            Enter();
            var arguments = new List<double> { Sum() };
            while (Next(',') is not null)
            {
                arguments.Add(Sum());
            }

            _depth--;
            Expect(')');
            return Apply(name, arguments);
        }

        throw new FormatException($"Unexpected '{c}' at position {_position + 1}.");
    }

    private static double Apply(string name, List<double> a) => (name, a.Count) switch
    {
        ("sqrt", 1) => Math.Sqrt(a[0]),
        ("abs", 1) => Math.Abs(a[0]),
        ("round", 1) => Math.Round(a[0], MidpointRounding.AwayFromZero),
        ("round", 2) => Math.Round(a[0], (int)Math.Clamp(a[1], 0, 15), MidpointRounding.AwayFromZero),
        ("floor", 1) => Math.Floor(a[0]),
        ("ceil", 1) => Math.Ceiling(a[0]),
        ("min", > 0) => a.Min(),
        ("max", > 0) => a.Max(),
        ("pow", 2) => Math.Pow(a[0], a[1]),
        ("ln", 1) => Math.Log(a[0]),
        ("log10", 1) or ("log", 1) => Math.Log10(a[0]),
        ("exp", 1) => Math.Exp(a[0]),
        ("sin", 1) => Math.Sin(a[0]),
        ("cos", 1) => Math.Cos(a[0]),
        ("tan", 1) => Math.Tan(a[0]),
        _ => throw new FormatException($"Unknown function {name} with {a.Count} argument(s)."),
    };

    private void Enter()
    {
        if (++_depth > MaxDepth)
        {
            throw new FormatException($"The expression nests deeper than {MaxDepth} levels.");
        }
    }

    private char? Next(params ReadOnlySpan<char> options)
    {
        SkipSpace();
        if (_position < _text.Length && options.Contains(_text[_position]))
        {
            return _text[_position++];
        }

        return null;
    }

    private void Expect(char c)
    {
        if (Next(c) is null)
        {
            throw new FormatException($"Expected '{c}' at position {_position + 1}.");
        }
    }

    private void SkipSpace()
    {
        while (_position < _text.Length && char.IsWhiteSpace(_text[_position]))
        {
            _position++;
        }
    }
}

/// <summary>The current time in an IANA time zone, from the platform clock.</summary>
internal sealed class CurrentTimePlugin(TimeProvider time) : IBuiltinPlugin
{
    public PluginManifest Manifest { get; } = Builtins.Manifest("current-time", "Current time",
        "The current date and time in a time zone (IANA name such as Europe/Paris; UTC when not given).", ["time", "utility"],
        """{"type":"object","properties":{"timeZone":{"type":"string","maxLength":100}},"additionalProperties":false}""",
        """{"type":"object","required":["iso","timeZone"],"properties":{"iso":{"type":"string"},"timeZone":{"type":"string"},"utcOffset":{"type":"string"},"unix":{"type":"integer"},"date":{"type":"string"},"time":{"type":"string"},"dayOfWeek":{"type":"string"}}}""");

    public Task<PluginOutcome> ExecuteAsync(BuiltinCall call, CancellationToken cancellationToken)
    {
        var name = Builtins.Text(call.Input, "timeZone") ?? "UTC";
        TimeZoneInfo zone;
        try
        {
            zone = TimeZoneInfo.FindSystemTimeZoneById(name);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return Task.FromResult(PluginOutcome.Fail(PluginErrors.InputInvalid, $"timeZone {name} is not a known IANA time zone."));
        }

        var now = time.GetUtcNow();
        var local = TimeZoneInfo.ConvertTime(now, zone);
        return Task.FromResult(PluginOutcome.Success(new JsonObject
        {
            ["iso"] = local.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            ["timeZone"] = name,
            ["utcOffset"] = local.ToString("zzz", CultureInfo.InvariantCulture),
            ["unix"] = now.ToUnixTimeSeconds(),
            ["date"] = local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
            ["time"] = local.ToString("HH:mm:ss", CultureInfo.InvariantCulture),
            ["dayOfWeek"] = local.DayOfWeek.ToString(),
        }));
    }
}

/// <summary>Counts in a text: characters, words, sentences, lines, paragraphs, and the token estimate the model gateway uses.</summary>
internal sealed partial class TextStatsPlugin : IBuiltinPlugin
{
    public PluginManifest Manifest { get; } = Builtins.Manifest("text-stats", "Text statistics",
        "Counts characters, words, sentences, lines and paragraphs of a text, and estimates its tokens (about four characters each, as the model gateway estimates).",
        ["text", "utility"],
        """{"type":"object","required":["text"],"properties":{"text":{"type":"string","maxLength":5000000}},"additionalProperties":false}""",
        """{"type":"object","required":["characters","words"],"properties":{"characters":{"type":"integer"},"words":{"type":"integer"},"sentences":{"type":"integer"},"lines":{"type":"integer"},"paragraphs":{"type":"integer"},"estimatedTokens":{"type":"integer"}}}""");

    public Task<PluginOutcome> ExecuteAsync(BuiltinCall call, CancellationToken cancellationToken)
    {
        var text = Builtins.Text(call.Input, "text") ?? "";
        var trimmed = text.Trim();
        return Task.FromResult(PluginOutcome.Success(new JsonObject
        {
            ["characters"] = new StringInfo(text).LengthInTextElements,
            ["words"] = Words().Count(text),
            ["sentences"] = trimmed.Length == 0 ? 0 : Sentences().Count(trimmed),
            ["lines"] = text.Length == 0 ? 0 : text.Split('\n').Length,
            ["paragraphs"] = trimmed.Length == 0 ? 0 : Paragraphs().Split(trimmed).Count(p => p.Trim().Length > 0),
            ["estimatedTokens"] = Platform.Ai.ModelGateway.EstimateTokens(text.Length),
        }));
    }

    [GeneratedRegex(@"[\p{L}\p{N}][\p{L}\p{N}'’_-]*", RegexOptions.CultureInvariant)]
    private static partial Regex Words();

    [GeneratedRegex(@"[^.!?…]+([.!?…]+|$)", RegexOptions.CultureInvariant)]
    private static partial Regex Sentences();

    [GeneratedRegex(@"\n\s*\n", RegexOptions.CultureInvariant)]
    private static partial Regex Paragraphs();
}
