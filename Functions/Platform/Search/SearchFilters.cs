using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Functions.Platform.Http;

namespace Serverless.Functions.Platform.Search;

/// <summary>The outcome of <see cref="SearchFilters.Parse"/>: a filter (null when none was given) or field errors.</summary>
internal sealed record SearchFilterParse(SearchFilter? Filter, IReadOnlyList<FieldError> Errors)
{
    public bool IsValid => Errors.Count == 0;
}

/// <summary>
/// Turns the JSON filter a client sends into a <see cref="SearchFilter"/>, and evaluates one against a chunk's metadata.
/// </summary>
/// <remarks>
/// Field names are restricted to letters, digits and <c>_</c> because adapters put them into query languages (a SQLite
/// JSON path, an Azure AI Search pair); values are scalars only because metadata holds only scalars.
/// </remarks>
internal static partial class SearchFilters
{
    public const int MaxDepth = 6;
    public const int MaxConditions = 64;
    public const int MaxInValues = 100;
    public const int MaxStringLength = 500;

    private static readonly string[] RangeOperators = ["gt", "gte", "lt", "lte"];

    /// <summary>Parses <paramref name="node"/>; errors name the field under <paramref name="fieldPrefix"/>.</summary>
    public static SearchFilterParse Parse(JsonNode? node, string fieldPrefix = "filter")
    {
        if (node is null)
        {
            return new SearchFilterParse(null, []);
        }

        var parser = new Parser();
        var filter = parser.ParseObject(node, fieldPrefix, depth: 1);
        return parser.Errors.Count > 0 ? new SearchFilterParse(null, parser.Errors) : new SearchFilterParse(filter, []);
    }

    /// <summary>Whether <paramref name="name"/> may be used as a metadata field in a filter.</summary>
    public static bool IsValidFieldName(string name) => FieldName().IsMatch(name);

    /// <summary>Whether chunk metadata satisfies the filter, with the same semantics as the adapters' queries.</summary>
    public static bool Matches(SearchFilter filter, JsonObject metadata)
    {
        ArgumentNullException.ThrowIfNull(filter);
        ArgumentNullException.ThrowIfNull(metadata);
        switch (filter)
        {
            case SearchFilter.Equal eq:
                return metadata[eq.Field] is JsonValue value && Compare(value, eq.Value) == 0;
            case SearchFilter.In any:
                return metadata[any.Field] is JsonValue member && any.Values.Any(v => Compare(member, v) == 0);
            case SearchFilter.Range range:
                return metadata[range.Field] is JsonValue bounded && InRange(bounded, range);
            case SearchFilter.And and:
                return and.Filters.All(f => Matches(f, metadata));
            case SearchFilter.Or or:
                return or.Filters.Any(f => Matches(f, metadata));
            default:
                throw new ArgumentOutOfRangeException(nameof(filter), filter, "Unknown filter kind.");
        }
    }

    /// <summary>The kind a scalar compares as; values of different kinds never match one another.</summary>
    internal static JsonValueKind KindOf(JsonValue value) => value.GetValueKind() switch
    {
        JsonValueKind.True or JsonValueKind.False => JsonValueKind.True,
        var kind => kind,
    };

    private static bool InRange(JsonValue value, SearchFilter.Range range)
    {
        static bool Holds(JsonValue value, JsonValue? bound, Func<int, bool> accept) =>
            bound is null || (Compare(value, bound) is { } order && accept(order));

        return Holds(value, range.Gt, o => o > 0) && Holds(value, range.Gte, o => o >= 0)
            && Holds(value, range.Lt, o => o < 0) && Holds(value, range.Lte, o => o <= 0);
    }

    // Null when the kinds differ (a string is neither above nor below a number).
    private static int? Compare(JsonValue left, JsonValue right)
    {
        var kind = KindOf(left);
        if (kind != KindOf(right))
        {
            return null;
        }

        return kind switch
        {
            JsonValueKind.Number => left.GetValue<double>().CompareTo(right.GetValue<double>()),
            JsonValueKind.String => string.CompareOrdinal(left.GetValue<string>(), right.GetValue<string>()),
            JsonValueKind.True => left.GetValueKind().CompareTo(right.GetValueKind()) == 0 ? 0 : 1,
            _ => null,
        };
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
    private static partial Regex FieldName();

    private sealed class Parser
    {
        private int _conditions;

        public List<FieldError> Errors { get; } = [];

        public SearchFilter? ParseObject(JsonNode node, string path, int depth)
        {
            if (node is not JsonObject obj)
            {
                return Fail(path, "must be an object of conditions, e.g. {\"topic\":\"billing\"}.");
            }

            if (depth > MaxDepth)
            {
                return Fail(path, $"nests too deeply (at most {MaxDepth} levels).");
            }

            if (obj.Count == 0)
            {
                return Fail(path, "must hold at least one condition.");
            }

            var parts = new List<SearchFilter>();
            foreach (var (key, value) in obj)
            {
                var part = key switch
                {
                    "$and" or "$or" => ParseGroup(key, value, $"{path}.{key}", depth),
                    _ when key.StartsWith('$') => Fail($"{path}.{key}", "is not a known operator; use $and or $or."),
                    _ when !IsValidFieldName(key) => Fail($"{path}.{Truncate(key)}", "is not a valid field name (letters, digits and _, at most 64, not starting with a digit)."),
                    _ => ParseCondition(key, value, $"{path}.{key}"),
                };
                if (part is not null)
                {
                    parts.Add(part);
                }
            }

            return parts.Count == 1 ? parts[0] : new SearchFilter.And(parts);
        }

        private SearchFilter? ParseGroup(string op, JsonNode? value, string path, int depth)
        {
            if (value is not JsonArray items || items.Count == 0)
            {
                return Fail(path, "must be a non-empty array of filter objects.");
            }

            var parts = new List<SearchFilter>();
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is null)
                {
                    Fail($"{path}[{i}]", "must be an object of conditions.");
                    continue;
                }

                if (ParseObject(items[i]!, $"{path}[{i}]", depth + 1) is { } part)
                {
                    parts.Add(part);
                }
            }

            return op == "$and" ? new SearchFilter.And(parts) : new SearchFilter.Or(parts);
        }

        private SearchFilter? ParseCondition(string field, JsonNode? value, string path)
        {
            if (++_conditions > MaxConditions)
            {
                return _conditions == MaxConditions + 1 ? Fail(path, $"the filter has more than {MaxConditions} conditions.") : null;
            }

            switch (value)
            {
                case JsonValue scalar:
                    return Scalar(scalar, path) is { } equal ? new SearchFilter.Equal(field, equal) : null;
                case JsonObject operators:
                    return ParseOperators(field, operators, path);
                case JsonArray:
                    return Fail(path, "must be a scalar, or an object with in/gt/gte/lt/lte; use {\"in\":[…]} for a list.");
                default:
                    return Fail(path, "must not be null.");
            }
        }

        private SearchFilter? ParseOperators(string field, JsonObject operators, string path)
        {
            if (operators.Count == 0)
            {
                return Fail(path, "must hold an operator: in, gt, gte, lt or lte.");
            }

            if (operators.ContainsKey("in"))
            {
                if (operators.Count > 1)
                {
                    return Fail(path, "'in' cannot be combined with other operators on the same field.");
                }

                return ParseIn(field, operators["in"], $"{path}.in");
            }

            var bounds = new Dictionary<string, JsonValue>(StringComparer.Ordinal);
            var errorsBefore = Errors.Count;
            foreach (var (op, bound) in operators)
            {
                if (!RangeOperators.Contains(op))
                {
                    Fail($"{path}.{Truncate(op)}", "is not a known operator; use in, gt, gte, lt or lte.");
                }
                else if (bound is not JsonValue scalar || Scalar(scalar, $"{path}.{op}") is not { } value)
                {
                    if (bound is not JsonValue)
                    {
                        Fail($"{path}.{op}", "must be a number or a string.");
                    }
                }
                else if (KindOf(value) is not (JsonValueKind.Number or JsonValueKind.String))
                {
                    Fail($"{path}.{op}", "must be a number or a string.");
                }
                else
                {
                    bounds[op] = value;
                }
            }

            if (Errors.Count > errorsBefore)
            {
                return null;
            }

            if (bounds.Values.Select(KindOf).Distinct().Count() > 1)
            {
                return Fail(path, "bounds must all be numbers or all be strings.");
            }

            if ((bounds.ContainsKey("gt") && bounds.ContainsKey("gte")) || (bounds.ContainsKey("lt") && bounds.ContainsKey("lte")))
            {
                return Fail(path, "give at most one lower bound (gt or gte) and one upper bound (lt or lte).");
            }

            return new SearchFilter.Range(field, bounds.GetValueOrDefault("gt"), bounds.GetValueOrDefault("gte"), bounds.GetValueOrDefault("lt"), bounds.GetValueOrDefault("lte"));
        }

        private SearchFilter? ParseIn(string field, JsonNode? node, string path)
        {
            if (node is not JsonArray items || items.Count == 0)
            {
                return Fail(path, "must be a non-empty array of scalars.");
            }

            if (items.Count > MaxInValues)
            {
                return Fail(path, $"may list at most {MaxInValues} values.");
            }

            var values = new List<JsonValue>(items.Count);
            for (var i = 0; i < items.Count; i++)
            {
                if (items[i] is not JsonValue item)
                {
                    Fail($"{path}[{i}]", "must be a string, number or boolean.");
                }
                else if (Scalar(item, $"{path}[{i}]") is { } value)
                {
                    values.Add(value);
                }
            }

            return values.Count == items.Count ? new SearchFilter.In(field, values) : null;
        }

        // A detached copy, so the filter never shares nodes with (or holds a parent in) the request's JSON.
        private JsonValue? Scalar(JsonValue value, string path)
        {
            switch (value.GetValueKind())
            {
                case JsonValueKind.String:
                    var text = value.GetValue<string>();
                    return text.Length > MaxStringLength ? Fail<JsonValue>(path, $"must be at most {MaxStringLength} characters.") : JsonValue.Create(text);
                case JsonValueKind.Number:
                    var number = value.GetValue<double>();
                    return double.IsFinite(number) ? JsonValue.Create(number) : Fail<JsonValue>(path, "must be a finite number.");
                case JsonValueKind.True:
                case JsonValueKind.False:
                    return JsonValue.Create(value.GetValueKind() == JsonValueKind.True);
                default:
                    return Fail<JsonValue>(path, "must be a string, number or boolean.");
            }
        }

        private SearchFilter? Fail(string path, string message) => Fail<SearchFilter>(path, message);

        private T? Fail<T>(string path, string message)
            where T : class
        {
            Errors.Add(new FieldError(path, $"{path} {message}"));
            return null;
        }

        private static string Truncate(string text) => text.Length <= 64 ? text : text[..64] + "…";
    }
}
