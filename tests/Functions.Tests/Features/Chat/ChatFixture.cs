using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serverless.Functions.Features.Datasets;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Ports;
using Serverless.Functions.Tests.Support;

namespace Serverless.Functions.Tests.Features.Chat;

/// <summary>
/// The gateway fixture with the trigger host on (workflow apps run) and a fake knowledge retriever standing in for the
/// datasets feature: dataset ids starting with <c>ds_</c> exist in every workspace and answer two passages;
/// <c>ds_missing</c> does not exist.
/// </summary>
public sealed class ChatFixture : GatewayFixture
{
    internal FakeRetriever Retriever { get; } = new();

    /// <summary>Runs before every entity insert (table, JSON), alone or in a batch, so a test can hold a write at a chosen moment.</summary>
    internal Func<string, string, Task>? BeforeInsert { get; set; }

    /// <summary>Rows each table's scans returned, so a test can tell how much of the store a request read.</summary>
    internal ConcurrentDictionary<string, int> RowsScanned { get; } = new(StringComparer.Ordinal);

    protected override IDictionary<string, string?> ExtraSettings => new Dictionary<string, string?>
    {
        ["Triggers:Enabled"] = "true",
        ["Workflows:HeartbeatSeconds"] = "1",
    };

    protected override void ConfigureServices(IServiceCollection services)
    {
        services.RemoveAll<IKnowledgeRetriever>();
        services.AddSingleton<IKnowledgeRetriever>(Retriever);
        services.RemoveAll<IEntityStore>();
        services.AddSingleton<SqliteEntityStore>();
        services.AddSingleton<IEntityStore>(sp => new HookedEntityStore(sp.GetRequiredService<SqliteEntityStore>(), this));
    }
}

/// <summary>The SQLite store with the fixture's insert hook in front of it.</summary>
internal sealed class HookedEntityStore(IEntityStore inner, ChatFixture fixture) : ForwardingEntityStore(inner)
{
    public override async Task<WriteResult> InsertAsync(string table, string partitionKey, string rowKey, string json, CancellationToken cancellationToken)
    {
        if (fixture.BeforeInsert is { } hook)
        {
            await hook(table, json);
        }

        return await base.InsertAsync(table, partitionKey, rowKey, json, cancellationToken);
    }

    public override async Task<EntityPage> QueryAsync(string table, EntityQuery query, CancellationToken cancellationToken)
    {
        var page = await base.QueryAsync(table, query, cancellationToken);
        fixture.RowsScanned.AddOrUpdate(table, page.Items.Count, (_, count) => count + page.Items.Count);
        return page;
    }

    // Indexed tables insert an item in a batch with its index rows: the hook sees the item's insert.
    public override async Task<BatchResult> SubmitBatchAsync(string table, string partitionKey, IReadOnlyList<BatchWrite> writes, CancellationToken cancellationToken)
    {
        if (fixture.BeforeInsert is { } hook)
        {
            foreach (var insert in writes.Where(w => w.Kind == BatchWriteKind.Insert))
            {
                await hook(table, insert.Json!);
            }
        }

        return await base.SubmitBatchAsync(table, partitionKey, writes, cancellationToken);
    }
}

internal sealed class FakeRetriever : IKnowledgeRetriever
{
    public ConcurrentQueue<KnowledgeRequest> Requests { get; } = new();

    public Task<KnowledgeOutcome> RetrieveAsync(KnowledgeRequest request, CancellationToken cancellationToken)
    {
        Requests.Enqueue(request);
        if (request.DatasetIds.FirstOrDefault(id => id == "ds_missing") is { } missing)
        {
            return Task.FromResult<KnowledgeOutcome>(new KnowledgeOutcome.NotFound(missing));
        }

        var chunks = new List<KnowledgeChunk>
        {
            new(1, request.DatasetIds[0], "doc_1", "chk_1", "Refunds", "Refunds take 5 days.", [], 0.9),
            new(2, request.DatasetIds[0], "doc_2", "chk_2", "Shipping", "Shipping is free over 50 EUR.", [], 0.7),
        };
        return Task.FromResult<KnowledgeOutcome>(new KnowledgeOutcome.Found(chunks, string.Join("\n", chunks.Select(c => $"[{c.Citation}] {c.Title}: {c.Content}")), request.Mode ?? Serverless.Functions.Platform.Search.SearchMode.Hybrid));
    }
}

public sealed record ChatEvent(string Type, JsonNode Data);

/// <summary>Calls of the chat API the tests share.</summary>
public static class ChatApi
{
    public static async Task<string> CreateAppAsync(this HttpClient client, TestUser user, object config, string type = "chatbot", JsonObject? definition = null)
    {
        var body = new JsonObject
        {
            ["name"] = "Helper",
            ["type"] = type,
            ["config"] = JsonNode.Parse(System.Text.Json.JsonSerializer.Serialize(config)),
        };
        if (definition is not null)
        {
            body["workflow"] = new JsonObject { ["name"] = "chat flow", ["definition"] = definition };
        }

        var created = await client.ApiPostAsync("/api/v1/apps", body.ToJsonString(), user.AccessToken);
        Assert.True(created.Status == HttpStatusCode.Created, created.Body?.ToJsonString());
        return created.Data["id"]!.GetValue<string>();
    }

    public static async Task<JsonNode> ChatAsync(this HttpClient client, TestUser user, object body)
    {
        var answered = await client.ApiPostAsync("/api/v1/chat/completions", body, user.AccessToken);
        Assert.True(answered.Status == HttpStatusCode.OK, answered.Body?.ToJsonString());
        return answered.Data;
    }

    /// <summary>Posts and reads the whole SSE answer.</summary>
    public static async Task<(HttpResponseMessage Response, List<ChatEvent> Events)> StreamAsync(this HttpClient client, TestUser user, string url, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = System.Net.Http.Json.JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var events = new List<ChatEvent>();
        if (response.Content.Headers.ContentType?.MediaType != "text/event-stream")
        {
            return (response, events);
        }

        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
        var type = "message";
        while (await reader.ReadLineAsync() is { } line)
        {
            if (line.StartsWith("event: ", StringComparison.Ordinal))
            {
                type = line[7..];
            }
            else if (line.StartsWith("data: ", StringComparison.Ordinal))
            {
                events.Add(new ChatEvent(type, JsonNode.Parse(line[6..])!));
            }
        }

        return (response, events);
    }

    public static async Task<List<JsonNode>> HistoryAsync(this HttpClient client, TestUser user, string query)
    {
        var listed = await client.ApiGetAsync("/api/v1/chat/history?" + query, user.AccessToken);
        Assert.True(listed.Status == HttpStatusCode.OK, listed.Body?.ToJsonString());
        return [.. listed.Data.AsArray().Select(n => n!)];
    }
}
