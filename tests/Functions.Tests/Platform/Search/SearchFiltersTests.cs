using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Search;

namespace Serverless.Functions.Tests.Platform.Search;

public sealed class SearchFiltersTests
{
    private static SearchFilter Parse(string json)
    {
        var result = SearchFilters.Parse(JsonNode.Parse(json));
        Assert.True(result.IsValid, string.Join("; ", result.Errors.Select(e => e.Message)));
        return result.Filter!;
    }

    private static IReadOnlyList<Serverless.Functions.Platform.Http.FieldError> Errors(string json)
    {
        var result = SearchFilters.Parse(JsonNode.Parse(json));
        Assert.False(result.IsValid);
        Assert.Null(result.Filter);
        return result.Errors;
    }

    [Fact]
    public void Parse_Null_IsNoFilter()
    {
        var result = SearchFilters.Parse(null);

        Assert.True(result.IsValid);
        Assert.Null(result.Filter);
    }

    [Fact]
    public void Parse_EachKind_BuildsTheMatchingFilter()
    {
        var eq = Assert.IsType<SearchFilter.Equal>(Parse("""{"topic":"billing"}"""));
        Assert.Equal(("topic", "billing"), (eq.Field, eq.Value.GetValue<string>()));

        var range = Assert.IsType<SearchFilter.Range>(Parse("""{"year":{"gte":2020,"lt":2025}}"""));
        Assert.Equal((2020.0, 2025.0), (range.Gte!.GetValue<double>(), range.Lt!.GetValue<double>()));
        Assert.Null(range.Gt);
        Assert.Null(range.Lte);

        var any = Assert.IsType<SearchFilter.In>(Parse("""{"topic":{"in":["a","b",3,true]}}"""));
        Assert.Equal(4, any.Values.Count);

        var and = Assert.IsType<SearchFilter.And>(Parse("""{"a":1,"b":"x"}"""));
        Assert.Equal(2, and.Filters.Count);

        var or = Assert.IsType<SearchFilter.Or>(Parse("""{"$or":[{"a":1},{"$and":[{"b":"x"},{"c":{"lt":3}}]}]}"""));
        Assert.IsType<SearchFilter.And>(or.Filters[1]);
    }

    [Theory]
    [InlineData("""[1,2]""", "filter")]
    [InlineData("""{}""", "filter")]
    [InlineData("""{"a b":1}""", "filter.a b")]
    [InlineData("""{"1st":1}""", "filter.1st")]
    [InlineData("""{"a.b":1}""", "filter.a.b")]
    [InlineData("""{"$not":{"a":1}}""", "filter.$not")]
    [InlineData("""{"a":null}""", "filter.a")]
    [InlineData("""{"a":[1,2]}""", "filter.a")]
    [InlineData("""{"a":{"x":1}}""", "filter.a.x")]
    [InlineData("""{"a":{"eq":1}}""", "filter.a.eq")]
    [InlineData("""{"a":{}}""", "filter.a")]
    [InlineData("""{"a":{"in":[]}}""", "filter.a.in")]
    [InlineData("""{"a":{"in":"x"}}""", "filter.a.in")]
    [InlineData("""{"a":{"in":[{"b":1}]}}""", "filter.a.in[0]")]
    [InlineData("""{"a":{"in":["x"],"gt":1}}""", "filter.a")]
    [InlineData("""{"a":{"gt":true}}""", "filter.a.gt")]
    [InlineData("""{"a":{"gt":[1]}}""", "filter.a.gt")]
    [InlineData("""{"a":{"gt":1,"lt":"z"}}""", "filter.a")]
    [InlineData("""{"a":{"gt":1,"gte":2}}""", "filter.a")]
    [InlineData("""{"$and":[]}""", "filter.$and")]
    [InlineData("""{"$or":{"a":1}}""", "filter.$or")]
    [InlineData("""{"$or":[null]}""", "filter.$or[0]")]
    [InlineData("""{"$and":[{"a":{"gt":{}}}]}""", "filter.$and[0].a.gt")]
    public void Parse_BadInput_NamesTheField(string json, string field)
    {
        var errors = Errors(json);

        Assert.Contains(errors, e => e.Field == field && e.Message.StartsWith(field + " ", StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_TooDeepOrTooManyOrTooLong_IsRefused()
    {
        var deep = "{\"a\":1}";
        for (var i = 0; i < SearchFilters.MaxDepth + 1; i++)
        {
            deep = $$"""{"$and":[{{deep}}]}""";
        }

        Assert.Contains("deeply", Errors(deep)[0].Message, StringComparison.Ordinal);
        var many = "{" + string.Join(",", Enumerable.Range(0, SearchFilters.MaxConditions + 1).Select(i => $"\"f{i}\":1")) + "}";
        Assert.Single(Errors(many));
        Assert.Single(Errors($$"""{"a":"{{new string('x', SearchFilters.MaxStringLength + 1)}}"}"""));
        Assert.Single(Errors($$$"""{"a":{"in":[{{{string.Join(",", Enumerable.Range(0, SearchFilters.MaxInValues + 1))}}}]}}"""));
    }

    [Theory]
    [InlineData("""{"topic":"billing"}""", true)]
    [InlineData("""{"topic":"Billing"}""", false)]
    [InlineData("""{"year":2022}""", true)]
    [InlineData("""{"year":"2022"}""", false)]
    [InlineData("""{"year":{"gt":2021,"lte":2022}}""", true)]
    [InlineData("""{"year":{"gt":2022}}""", false)]
    [InlineData("""{"label":{"gte":"b","lt":"c"}}""", true)]
    [InlineData("""{"label":{"gte":2000}}""", false)]
    [InlineData("""{"draft":false}""", true)]
    [InlineData("""{"draft":0}""", false)]
    [InlineData("""{"topic":{"in":["x","billing"]}}""", true)]
    [InlineData("""{"missing":{"in":["x"]}}""", false)]
    [InlineData("""{"$or":[{"topic":"x"},{"year":{"lt":2023}}]}""", true)]
    [InlineData("""{"$and":[{"topic":"billing"},{"draft":true}]}""", false)]
    public void Matches_EvaluatesMetadataInMemory(string filter, bool expected)
    {
        var metadata = JsonNode.Parse("""{"topic":"billing","year":2022,"label":"beta","draft":false}""")!.AsObject();

        Assert.Equal(expected, SearchFilters.Matches(Parse(filter), metadata));
    }
}
