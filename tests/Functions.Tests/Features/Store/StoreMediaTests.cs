using System.Net;
using System.Text;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Features.Store.StoreApi;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Store;

public sealed class StoreMediaTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    private readonly HttpClient _client = store.Client;

    [Fact]
    public async Task Png_NamedTxt_IsAcceptedAsPng_AndServedWithCachingHeaders_And304()
    {
        var user = await _client.RegisterAsync();

        var (status, body) = await _client.UploadFileAsync(user, Png, "notes.txt", "text/plain");
        Assert.Equal(HttpStatusCode.Created, status);
        var data = body!["data"]!;
        Assert.Equal("image/png", data["contentType"]!.GetValue<string>());
        var url = data["url"]!.GetValue<string>();

        // Anonymous: an img tag sends no token.
        using var response = await _client.GetAsync(url);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Png, bytes);
        Assert.Equal("image/png", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.True(response.Headers.CacheControl!.MaxAge >= TimeSpan.FromDays(365));
        Assert.Contains("immutable", response.Headers.CacheControl!.Extensions.Select(e => e.Name));
        var etag = response.Headers.ETag!;

        using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await _client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync("/api/v1/store/media/media_unknownunknownunknown")).StatusCode);
    }

    [Theory]
    [InlineData("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>", "image.png", "image/png")]
    [InlineData("<!DOCTYPE html><html><script>alert(1)</script></html>", "photo.png", "image/png")]
    [InlineData("GIF is not here, just text", "anim.gif", "image/gif")]
    public async Task ActiveOrUnknownContent_NamedLikeAnImage_IsRefused(string content, string fileName, string declared)
    {
        var user = await _client.RegisterAsync();

        var (status, body) = await _client.UploadFileAsync(user, Encoding.UTF8.GetBytes(content), fileName, declared);
        var (rawStatus, _) = await _client.UploadRawAsync(user, Encoding.UTF8.GetBytes(content), declared);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, status);
        Assert.Equal("UNSUPPORTED_MEDIA_TYPE", body!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, rawStatus);
    }

    [Fact]
    public async Task Formats_AreRecognisedByContent_AndEachKindHasItsCap()
    {
        var user = await _client.RegisterAsync();
        byte[] Padded(byte[] head, int size) => [.. head, .. new byte[size - head.Length]];
        byte[] jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, (byte)'J', (byte)'F', (byte)'I', (byte)'F'];
        byte[] webp = [.. "RIFF"u8.ToArray(), 0, 0, 0, 0, .. "WEBPVP8 "u8.ToArray()];
        byte[] mp4 = [0, 0, 0, 0x18, .. "ftypisom"u8.ToArray(), 0, 0, 2, 0];
        byte[] webm = [0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84, .. "webm"u8.ToArray()];

        var results = new Dictionary<string, HttpStatusCode>();
        foreach (var (name, content) in new[] { ("jpeg", jpeg), ("gif", "GIF89a\x01\0\x01\0"u8.ToArray()), ("webp", webp), ("mp4", mp4), ("webm", webm) })
        {
            var (status, body) = await _client.UploadRawAsync(user, content, "application/octet-stream");
            results[name] = status;
            Assert.Contains(name == "jpeg" ? "image/jpeg" : name is "mp4" or "webm" ? $"video/{name}" : $"image/{name}", body!["data"]!["contentType"]!.GetValue<string>());
        }

        var (bigImage, tooLarge) = await _client.UploadRawAsync(user, Padded(Png, StoreFixture.MaxImageBytes + 1), "image/png");
        var (bigFile, _) = await _client.UploadFileAsync(user, Padded(Png, StoreFixture.MaxImageBytes + 1), "big.png", "image/png");
        // Within the video cap although past the image cap: the cap follows the content's kind.
        var (video, _) = await _client.UploadRawAsync(user, Padded(mp4, StoreFixture.MaxImageBytes * 2), "video/mp4");
        var (bigVideo, _) = await _client.UploadRawAsync(user, Padded(mp4, StoreFixture.MaxVideoBytes + 1), "video/mp4");
        var (empty, _) = await _client.UploadRawAsync(user, [], "image/png");

        Assert.All(results.Values, s => Assert.Equal(HttpStatusCode.Created, s));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bigImage);
        Assert.Equal("PAYLOAD_TOO_LARGE", tooLarge!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bigFile);
        Assert.Equal(HttpStatusCode.Created, video);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, bigVideo);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, empty);
    }

    [Fact]
    public async Task Delete_OnlyByTheOwner_AndNotWhileAListingShowsIt()
    {
        var owner = await _client.CreatorAsync();
        var stranger = await _client.RegisterAsync();
        var free = (await _client.UploadRawAsync(owner, Png, "image/png")).Body!["data"]!["id"]!.GetValue<string>();
        var shown = (await _client.UploadRawAsync(owner, Png, "image/png")).Body!["data"]!["id"]!.GetValue<string>();
        var workflowId = await _client.CreateWorkflowAsync(owner, Line(new { }), "With media");
        var other = await _client.CreatorAsync();
        var othersWorkflow = await _client.CreateWorkflowAsync(other, Line(new { }), "Borrowing");
        var strangersSubmission = await _client.SubmitAsync(other, othersWorkflow, NewSlug(), "Not theirs", mediaIds: [shown]);
        var submitted = await _client.SubmitAsync(owner, workflowId, NewSlug(), "With media", mediaIds: [shown]);
        var approved = await _client.ReviewAsync(store.Admin, submitted.Data["id"]!.GetValue<string>(), "approve");
        var listing = await _client.ApiGetAsync($"/api/v1/store/agents/{approved.Data["listingId"]!.GetValue<string>()}", stranger.AccessToken);

        Assert.Equal(HttpStatusCode.UnprocessableEntity, strangersSubmission.Status);
        Assert.Equal($"/api/v1/store/media/{shown}", listing.Data["media"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/store/media/{free}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.Conflict, (await _client.ApiDeleteAsync($"/api/v1/store/media/{shown}", owner.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/store/media/{free}", owner.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.GetAsync($"/api/v1/store/media/{free}")).StatusCode);
    }
}
