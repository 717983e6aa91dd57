using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Store;

/// <summary>The app with small media caps; its first user (the platform admin) reviews submissions.</summary>
public sealed class StoreFixture : IAsyncLifetime
{
    public const int MaxImageBytes = 64 * 1024;
    public const int MaxVideoBytes = 256 * 1024;

    public StoreFactory Factory { get; } = new();

    public HttpClient Client { get; private set; } = null!;

    public TestUser Admin { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Client = Factory.CreateClient();
        Admin = await Client.RegisterAsync();
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Factory.DisposeAsync();
    }

    public sealed class StoreFactory() : WorkflowFactory(new Dictionary<string, string?>
    {
        ["Store:MaxImageBytes"] = MaxImageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Store:MaxVideoBytes"] = MaxVideoBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
    });
}

/// <summary>What the store tests do over and over: a creator with a profile, a workflow, a submission, a review.</summary>
public static class StoreApi
{
    public static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13, (byte)'I', (byte)'H', (byte)'D', (byte)'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0];

    /// <summary>A category no other test uses: listings in it are this test's alone.</summary>
    public static string NewCategory() => "t" + Guid.NewGuid().ToString("N")[..12];

    public static string NewSlug(string stem = "agent") => $"{stem}-{Guid.NewGuid().ToString("N")[..10]}";

    public static async Task<TestUser> CreatorAsync(this HttpClient client)
    {
        var user = await client.RegisterAsync();
        var profile = await client.ApiPutAsync("/api/v1/store/profile", new { username = "c" + Guid.NewGuid().ToString("N")[..12], name = "Creator" }, user.AccessToken);
        Assert.True(profile.Status == HttpStatusCode.OK, profile.Body?.ToJsonString());
        return user;
    }

    public static Task<ApiResponse> SubmitAsync(this HttpClient client, TestUser user, string workflowId, string slug, string name, string[]? categories = null,
        string[]? mediaIds = null, int? version = null, string? description = null) =>
        client.ApiPostAsync("/api/v1/store/submissions",
            new { workflowId, version, name, slug, description = description ?? $"{name} does things", categories = categories ?? [], mediaIds = mediaIds ?? [] },
            user.AccessToken);

    public static Task<ApiResponse> ReviewAsync(this HttpClient client, TestUser admin, string submissionId, string decision, string? comment = null) =>
        client.ApiPostAsync($"/api/v1/admin/store/submissions/{submissionId}/review", new { decision, comment }, admin.AccessToken);

    /// <summary>A new creator's echo workflow, submitted and approved: the listing's id.</summary>
    public static async Task<(TestUser Creator, string WorkflowId, string ListingId)> ListedAsync(
        this StoreFixture store, string name, string[] categories, string? slug = null)
    {
        var creator = await store.Client.CreatorAsync();
        var workflowId = await store.Client.CreateWorkflowAsync(creator, Line(new { x = "{{inputs.x}}" }), name);
        var listingId = await store.ApproveAsync(creator, workflowId, slug ?? NewSlug(), name, categories);
        return (creator, workflowId, listingId);
    }

    public static async Task<string> ApproveAsync(this StoreFixture store, TestUser creator, string workflowId, string slug, string name, string[] categories)
    {
        var submitted = await store.Client.SubmitAsync(creator, workflowId, slug, name, categories);
        Assert.True(submitted.Status == HttpStatusCode.Created, submitted.Body?.ToJsonString());
        var approved = await store.Client.ReviewAsync(store.Admin, submitted.Data["id"]!.GetValue<string>(), "approve");
        Assert.True(approved.Status == HttpStatusCode.OK, approved.Body?.ToJsonString());
        return approved.Data["listingId"]!.GetValue<string>();
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> UploadRawAsync(this HttpClient client, TestUser user, byte[] content, string contentType)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/store/media") { Content = new ByteArrayContent(content) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }

    public static async Task<(HttpStatusCode Status, JsonNode? Body)> UploadFileAsync(this HttpClient client, TestUser user, byte[] content, string fileName, string contentType)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(content);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/store/media") { Content = form };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", user.AccessToken);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length > 0 ? JsonNode.Parse(text) : null);
    }
}
