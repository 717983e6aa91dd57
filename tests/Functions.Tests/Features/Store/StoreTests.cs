using System.Net;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Serverless.Functions.Features.Store;
using Serverless.Functions.Tests.Support;
using static Serverless.Functions.Tests.Features.Store.StoreApi;
using static Serverless.Functions.Tests.Support.WorkflowApi;

namespace Serverless.Functions.Tests.Features.Store;

public sealed class StoreTests(StoreFixture store) : IClassFixture<StoreFixture>
{
    private readonly HttpClient _client = store.Client;

    [Fact]
    public async Task Submission_ApprovedByAdmin_IsListed_AddedToLibrary_AndItsRunsCount()
    {
        var category = NewCategory();
        var creator = await _client.CreatorAsync();
        var workflowId = await _client.CreateWorkflowAsync(creator, Line(new { x = "{{inputs.x}}" }), "Echo");
        var slug = NewSlug("echo");

        var submitted = await _client.SubmitAsync(creator, workflowId, slug, "Echo agent", [category]);
        var pendingListing = await _client.ApiGetAsync($"/api/v1/store/agents/{slug}", creator.AccessToken);
        var approved = await _client.ReviewAsync(store.Admin, submitted.Data["id"]!.GetValue<string>(), "approve", "Nice");
        var listingId = approved.Data["listingId"]!.GetValue<string>();
        var listed = await _client.ApiGetAsync($"/api/v1/store/agents?category={category}", creator.AccessToken);
        var bySlug = await _client.ApiGetAsync($"/api/v1/store/agents/{slug}", creator.AccessToken);

        Assert.Equal(HttpStatusCode.Created, submitted.Status);
        Assert.Equal("pending", submitted.Data["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, pendingListing.Status);
        Assert.Equal("approved", approved.Data["status"]!.GetValue<string>());
        Assert.Equal(1, approved.Data["listingVersion"]!.GetValue<int>());
        Assert.Equal(listingId, Assert.Single(listed.Data.AsArray())!["id"]!.GetValue<string>());
        Assert.Equal(listingId, bySlug.Data["id"]!.GetValue<string>());
        Assert.Equal(1, bySlug.Data["latestVersion"]!.GetValue<int>());
        Assert.Equal("end", bySlug.Data["definition"]!["nodes"]![1]!["id"]!.GetValue<string>());

        // Someone else adds it to their library and runs the copy.
        var adopter = await _client.RegisterAsync();
        var added = await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/add", new { }, adopter.AccessToken);
        Assert.True(added.Status == HttpStatusCode.Created, added.Body?.ToJsonString());
        var copyId = added.Data["workflowId"]!.GetValue<string>();
        var library = await _client.ApiGetAsync("/api/v1/library/agents", adopter.AccessToken);
        var run = await _client.RunAsync(adopter, copyId, new { x = "hello" });

        Assert.NotEqual(workflowId, copyId);
        Assert.Equal(copyId, Assert.Single(library.Data.AsArray())!["workflowId"]!.GetValue<string>());
        Assert.Equal("hello", run["outputs"]!["x"]!.GetValue<string>());
        var runs = await WaitForRunsAsync(listingId, adopter, 1);
        Assert.Equal(1, runs);
        // The creator's own workflow is not a copy: its runs do not count.
        await _client.RunAsync(creator, workflowId, new { x = "own" });
        await _client.RunAsync(adopter, copyId, new { x = "again" });
        Assert.Equal(2, await WaitForRunsAsync(listingId, adopter, 2));
    }

    [Fact]
    public async Task Approval_CutOffBeforeItsListingWasWritten_IsCompletedByApprovingAgain_ButOnlyOnce()
    {
        var creator = await _client.CreatorAsync();
        var workflowId = await _client.CreateWorkflowAsync(creator, Line(new { }), "Half approved");
        var slug = NewSlug("half");
        var id = (await _client.SubmitAsync(creator, workflowId, slug, "Half approved")).Data["id"]!.GetValue<string>();
        // What a process that died between the submission's status and the listing leaves behind.
        var data = store.Factory.Services.GetRequiredService<StoreData>();
        var reviewedAt = store.Factory.Clock.GetUtcNow().AddMinutes(-5);
        await data.Submissions.UpdateAsync(StoreData.AllPartition, id,
            s => s with { Status = "approved", ReviewedBy = store.Admin.Id, ReviewedAt = reviewedAt, UpdatedAt = reviewedAt }, CancellationToken.None);

        var missing = await _client.ApiGetAsync($"/api/v1/store/agents/{slug}", creator.AccessToken);
        var completed = await _client.ReviewAsync(store.Admin, id, "approve");
        var again = await _client.ReviewAsync(store.Admin, id, "approve");
        var listed = await _client.ApiGetAsync($"/api/v1/store/agents/{slug}", creator.AccessToken);

        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.OK, completed.Status);
        Assert.Equal(1, completed.Data["listingVersion"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        Assert.Equal(1, listed.Data["latestVersion"]!.GetValue<int>());
    }

    [Fact]
    public async Task Listing_NeverShowsTheSubmittersWorkspaceOrWorkflow()
    {
        var (creator, workflowId, listingId) = await store.ListedAsync("Private bits", [NewCategory()]);

        var detail = await _client.ApiGetAsync($"/api/v1/store/agents/{listingId}", creator.AccessToken);
        var list = await _client.ApiGetAsync($"/api/v1/store/agents?search=Private%20bits", creator.AccessToken);
        var text = detail.Body!.ToJsonString() + list.Body!.ToJsonString();

        Assert.Equal(HttpStatusCode.OK, detail.Status);
        Assert.DoesNotContain(creator.PersonalWorkspaceId, text, StringComparison.Ordinal);
        Assert.DoesNotContain(workflowId, text, StringComparison.Ordinal);
        Assert.DoesNotContain(creator.Id, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rejection_WithComment_IsVisibleToTheSubmitterOnly_AndNothingIsListed()
    {
        var creator = await _client.CreatorAsync();
        var stranger = await _client.CreatorAsync();
        var workflowId = await _client.CreateWorkflowAsync(creator, Line(new { }), "Rejected one");
        var slug = NewSlug();
        var submitted = await _client.SubmitAsync(creator, workflowId, slug, "Rejected one");
        var id = submitted.Data["id"]!.GetValue<string>();

        var rejected = await _client.ReviewAsync(store.Admin, id, "reject", "Needs a description of its inputs");
        var again = await _client.ReviewAsync(store.Admin, id, "approve");
        var mine = await _client.ApiGetAsync("/api/v1/store/submissions?status=rejected", creator.AccessToken);
        var theirs = await _client.ApiGetAsync("/api/v1/store/submissions", stranger.AccessToken);
        var adminQueue = await _client.ApiGetAsync("/api/v1/admin/store/submissions?status=rejected", store.Admin.AccessToken);

        Assert.Equal("rejected", rejected.Data["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Conflict, again.Status);
        var mineOne = Assert.Single(mine.Data.AsArray())!;
        Assert.Equal("Needs a description of its inputs", mineOne["reviewerComment"]!.GetValue<string>());
        Assert.DoesNotContain(theirs.Data.AsArray(), s => s!["id"]!.GetValue<string>() == id);
        Assert.Contains(adminQueue.Data.AsArray(), s => s!["submission"]!["id"]!.GetValue<string>() == id);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiGetAsync($"/api/v1/store/agents/{slug}", creator.AccessToken)).Status);
    }

    [Fact]
    public async Task Delete_OnlyWhilePending_AndOnlyByTheSubmitter()
    {
        var creator = await _client.CreatorAsync();
        var stranger = await _client.CreatorAsync();
        var workflowId = await _client.CreateWorkflowAsync(creator, Line(new { }), "Withdrawn");
        var first = (await _client.SubmitAsync(creator, workflowId, NewSlug(), "Withdrawn")).Data["id"]!.GetValue<string>();
        var second = (await _client.SubmitAsync(creator, workflowId, NewSlug(), "Reviewed")).Data["id"]!.GetValue<string>();
        await _client.ReviewAsync(store.Admin, second, "reject");

        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/store/submissions/{first}", stranger.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await _client.ApiDeleteAsync($"/api/v1/store/submissions/{first}", creator.AccessToken)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.ApiDeleteAsync($"/api/v1/store/submissions/{first}", creator.AccessToken)).Status);
        var reviewed = await _client.ApiDeleteAsync($"/api/v1/store/submissions/{second}", creator.AccessToken);
        Assert.Equal(HttpStatusCode.Conflict, reviewed.Status);
        Assert.Equal("CONFLICT", reviewed.ErrorCode);
    }

    [Fact]
    public async Task Slug_BelongsToOneCreator_AndANewApprovalIsTheNextVersion()
    {
        var category = NewCategory();
        var slug = NewSlug();
        var (creator, workflowId, listingId) = await store.ListedAsync("Versioned", [category], slug);
        var other = await _client.CreatorAsync();
        var otherWorkflow = await _client.CreateWorkflowAsync(other, Line(new { }), "Squatter");

        var taken = await _client.SubmitAsync(other, otherWorkflow, slug, "Squatter");
        var update = await _client.ApiPutAsync($"/api/v1/workflows/{workflowId}", new { definition = Line(new { x = "{{inputs.x}}", v = 2 }) }, creator.AccessToken);
        Assert.Equal(HttpStatusCode.OK, update.Status);
        var secondListing = await store.ApproveAsync(creator, workflowId, slug, "Versioned v2", [category]);
        var detail = await _client.ApiGetAsync($"/api/v1/store/agents/{listingId}", other.AccessToken);
        var firstCopy = await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/add", new { version = 1 }, other.AccessToken);
        var missingVersion = await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/add", new { version = 9 }, other.AccessToken);

        Assert.Equal(HttpStatusCode.Conflict, taken.Status);
        Assert.Equal(listingId, secondListing);
        Assert.Equal(2, detail.Data["latestVersion"]!.GetValue<int>());
        Assert.Equal([1, 2], detail.Data["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal("Versioned v2", detail.Data["name"]!.GetValue<string>());
        Assert.Equal(1, firstCopy.Data["listingVersion"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.NotFound, missingVersion.Status);
        Assert.Single((await _client.ApiGetAsync($"/api/v1/store/agents?category={category}", other.AccessToken)).Data.AsArray());
    }

    [Fact]
    public async Task Reviews_OnePerUser_ReplacedOnRepost_AndAveraged()
    {
        var (creator, _, listingId) = await store.ListedAsync("Rated", [NewCategory()]);
        var alice = await _client.RegisterAsync();
        var bob = await _client.RegisterAsync();

        await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/reviews", new { rating = 2, comment = "meh" }, alice.AccessToken);
        await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/reviews", new { rating = 5, comment = "great after all" }, alice.AccessToken);
        var bobs = await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/reviews", new { rating = 4 }, bob.AccessToken);
        var own = await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/reviews", new { rating = 5 }, creator.AccessToken);
        var outOfRange = await _client.ApiPostAsync($"/api/v1/store/agents/{listingId}/reviews", new { rating = 6 }, bob.AccessToken);
        var missing = await _client.ApiPostAsync("/api/v1/store/agents/lst_nope/reviews", new { rating = 3 }, bob.AccessToken);
        var detail = await _client.ApiGetAsync($"/api/v1/store/agents/{listingId}", alice.AccessToken);

        Assert.Equal(HttpStatusCode.OK, bobs.Status);
        Assert.Equal(HttpStatusCode.Forbidden, own.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, outOfRange.Status);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(2, detail.Data["rating"]!["count"]!.GetValue<long>());
        Assert.Equal(4.5, detail.Data["rating"]!["average"]!.GetValue<double>());
        Assert.Equal("great after all", detail.Data["myReview"]!["comment"]!.GetValue<string>());
    }

    [Fact]
    public async Task Listings_SortBySearchCategoryAndPaging()
    {
        var category = NewCategory();
        var tag = Guid.NewGuid().ToString("N")[..8];
        var ids = new List<string>();
        foreach (var name in new[] { $"Alpha {tag}", $"Bravo {tag}", $"Charlie {tag}", "Delta other" })
        {
            ids.Add((await store.ListedAsync(name, [category, "shared"])).ListingId);
        }

        var rater = await _client.RegisterAsync();
        await _client.ApiPostAsync($"/api/v1/store/agents/{ids[1]}/reviews", new { rating = 5 }, rater.AccessToken);
        await _client.ApiPostAsync($"/api/v1/store/agents/{ids[2]}/reviews", new { rating = 3 }, rater.AccessToken);
        var adopter = await _client.RegisterAsync();
        var copy = (await _client.ApiPostAsync($"/api/v1/store/agents/{ids[2]}/add", new { }, adopter.AccessToken)).Data["workflowId"]!.GetValue<string>();
        await _client.RunAsync(adopter, copy, new { x = 1 });
        await WaitForRunsAsync(ids[2], adopter, 1);
        // The category's copy follows the listing's own row a moment later.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline
               && !(await _client.ApiGetAsync($"/api/v1/store/agents?category={category}&search=Charlie", adopter.AccessToken)).Data.AsArray()
                   .Any(l => l!["runs"]!.GetValue<long>() == 1))
        {
            await Task.Delay(50);
        }

        string[] Names(ApiResponse r) => [.. r.Data.AsArray().Select(l => l!["name"]!.GetValue<string>())];
        var byRating = await _client.ApiGetAsync($"/api/v1/store/agents?category={category}&sortBy=rating", rater.AccessToken);
        var byRuns = await _client.ApiGetAsync($"/api/v1/store/agents?category={category}&sortBy=runs", rater.AccessToken);
        var byUpdated = await _client.ApiGetAsync($"/api/v1/store/agents?category={category}&sortBy=updatedAt&sortOrder=asc", rater.AccessToken);
        var searched = await _client.ApiGetAsync($"/api/v1/store/agents?category={category}&search={tag}&sortBy=name", rater.AccessToken);
        var firstPage = await _client.ApiGetAsync($"/api/v1/store/agents?category={category}&sortBy=name&limit=3", rater.AccessToken);
        var nextPage = await _client.ApiGetAsync(
            $"/api/v1/store/agents?category={category}&sortBy=name&limit=3&cursor={firstPage.Body!["pagination"]!["nextCursor"]!.GetValue<string>()}", rater.AccessToken);
        var numbered = await _client.ApiGetAsync($"/api/v1/store/agents?category={category}&sortBy=name&page=2&limit=3", rater.AccessToken);
        var badSort = await _client.ApiGetAsync("/api/v1/store/agents?sortBy=price", rater.AccessToken);
        var badCategory = await _client.ApiGetAsync("/api/v1/store/agents?category=No%20Such!", rater.AccessToken);
        var badCursor = await _client.ApiGetAsync("/api/v1/store/agents?cursor=bm9wZQ", rater.AccessToken);

        Assert.Equal($"Bravo {tag}", Names(byRating)[0]);
        Assert.Equal($"Charlie {tag}", Names(byRating)[1]);
        Assert.Equal($"Charlie {tag}", Names(byRuns)[0]);
        Assert.Equal($"Alpha {tag}", Names(byUpdated)[0]);
        Assert.Equal([$"Alpha {tag}", $"Bravo {tag}", $"Charlie {tag}"], Names(searched));
        Assert.Equal([$"Alpha {tag}", $"Bravo {tag}", $"Charlie {tag}"], Names(firstPage));
        Assert.True(firstPage.Body!["pagination"]!["hasMore"]!.GetValue<bool>());
        Assert.Equal(["Delta other"], Names(nextPage));
        Assert.Equal(["Delta other"], Names(numbered));
        Assert.Equal(4, numbered.Body!["meta"]!["total"]!.GetValue<long>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badSort.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badCategory.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badCursor.Status);
    }

    [Fact]
    public async Task Creators_ProfileListingsAndTotals_UsernamesUnique()
    {
        var username = "maker" + Guid.NewGuid().ToString("N")[..8];
        var creator = await _client.RegisterAsync();
        var other = await _client.CreatorAsync();
        var noProfile = await _client.RegisterAsync();
        var noProfileWorkflow = await _client.CreateWorkflowAsync(noProfile, Line(new { }));

        var profile = await _client.ApiPutAsync("/api/v1/store/profile",
            new { username, name = "The Maker", description = "Makes agents", links = new[] { "https://example.com/maker" } }, creator.AccessToken);
        var clash = await _client.ApiPutAsync("/api/v1/store/profile", new { username }, other.AccessToken);
        var badLink = await _client.ApiPutAsync("/api/v1/store/profile", new { links = new[] { "javascript:alert(1)" } }, creator.AccessToken);
        var badName = await _client.ApiPutAsync("/api/v1/store/profile", new { username = "No Spaces" }, other.AccessToken);
        var submitWithoutProfile = await _client.SubmitAsync(noProfile, noProfileWorkflow, NewSlug(), "Nope");
        var workflowA = await _client.CreateWorkflowAsync(creator, Line(new { }), "A");
        var workflowB = await _client.CreateWorkflowAsync(creator, Line(new { }), "B");
        var listingA = await store.ApproveAsync(creator, workflowA, NewSlug(), "Maker A", [NewCategory()]);
        await store.ApproveAsync(creator, workflowB, NewSlug(), "Maker B", [NewCategory()]);
        var rater = await _client.RegisterAsync();
        await _client.ApiPostAsync($"/api/v1/store/agents/{listingA}/reviews", new { rating = 4 }, rater.AccessToken);

        var detail = await _client.ApiGetAsync($"/api/v1/store/creators/{username}", rater.AccessToken);
        var listed = await _client.ApiGetAsync($"/api/v1/store/creators?search={username}", rater.AccessToken);
        var unknown = await _client.ApiGetAsync("/api/v1/store/creators/nobody-here", rater.AccessToken);

        Assert.Equal(HttpStatusCode.OK, profile.Status);
        Assert.Equal(HttpStatusCode.Conflict, clash.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badLink.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badName.Status);
        Assert.Equal(HttpStatusCode.Conflict, submitWithoutProfile.Status);
        Assert.Equal("The Maker", detail.Data["profile"]!["name"]!.GetValue<string>());
        Assert.Equal(2, detail.Data["totals"]!["listings"]!.GetValue<int>());
        Assert.Equal(4.0, detail.Data["totals"]!["averageRating"]!.GetValue<double>());
        Assert.Equal(2, detail.Data["listings"]!.AsArray().Count);
        Assert.Equal(username, Assert.Single(listed.Data.AsArray())!["username"]!.GetValue<string>());
        Assert.Equal(2, listed.Data[0]!["listingCount"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
    }

    [Fact]
    public async Task Profile_NewUsername_IsShownOnTheCreatorsListings_AndTheOldOneIsFreed()
    {
        var (creator, _, listingId) = await store.ListedAsync("Renamed", [NewCategory()]);
        var before = (await _client.ApiGetAsync($"/api/v1/store/agents/{listingId}", creator.AccessToken)).Data["creator"]!["username"]!.GetValue<string>();
        var renamed = "r" + Guid.NewGuid().ToString("N")[..12];

        var changed = await _client.ApiPutAsync("/api/v1/store/profile", new { username = renamed }, creator.AccessToken);
        var card = (await _client.ApiGetAsync("/api/v1/store/agents?search=Renamed&sortBy=updatedAt", creator.AccessToken)).Data.AsArray()
            .Single(l => l!["id"]!.GetValue<string>() == listingId)!;
        var other = await _client.RegisterAsync();
        var takesOld = await _client.ApiPutAsync("/api/v1/store/profile", new { username = before }, other.AccessToken);

        Assert.Equal(HttpStatusCode.OK, changed.Status);
        Assert.Equal("Creator", changed.Data["name"]!.GetValue<string>());
        Assert.Equal(renamed, card["creator"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, takesOld.Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.ApiGetAsync($"/api/v1/store/creators/{renamed}", other.AccessToken)).Status);
    }

    [Fact]
    public async Task AdminRoutes_AreForPlatformAdminsOnly()
    {
        var user = await _client.CreatorAsync();
        var workflowId = await _client.CreateWorkflowAsync(user, Line(new { }));
        var id = (await _client.SubmitAsync(user, workflowId, NewSlug(), "Self approved")).Data["id"]!.GetValue<string>();

        var list = await _client.ApiGetAsync("/api/v1/admin/store/submissions", user.AccessToken);
        var review = await _client.ReviewAsync(user, id, "approve");
        var badDecision = await _client.ReviewAsync(store.Admin, id, "maybe");
        var missing = await _client.ReviewAsync(store.Admin, "sub_nope", "approve");
        var badStatus = await _client.ApiGetAsync("/api/v1/admin/store/submissions?status=lost", store.Admin.AccessToken);

        Assert.Equal(HttpStatusCode.Forbidden, list.Status);
        Assert.Equal(HttpStatusCode.Forbidden, review.Status);
        Assert.Equal("FORBIDDEN", review.ErrorCode);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badDecision.Status);
        Assert.Equal(HttpStatusCode.NotFound, missing.Status);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, badStatus.Status);
        Assert.Equal("pending", (await _client.ApiGetAsync("/api/v1/store/submissions", user.AccessToken)).Data[0]!["status"]!.GetValue<string>());
    }

    [Fact]
    public async Task Submission_StripsCredentialReferences_AndRefusesLiteralSecretsAndOtherWorkflows_NamingNodeAndField()
    {
        var creator = await _client.CreatorAsync();
        var withReference = await _client.CreateWorkflowAsync(creator, Line(new { status = "{{call.status}}" },
            Node("call", "http_request", new { url = "https://api.example.com/items", method = "GET", credentialId = "cred_123",
                headers = new Dictionary<string, string> { ["Authorization"] = "Bearer {{inputs.token}}" } })), "Referenced");
        var withHeader = await _client.CreateWorkflowAsync(creator, Line(new { },
            Node("call", "http_request", new { url = "https://api.example.com/items", method = "GET",
                headers = new Dictionary<string, string> { ["Authorization"] = "Bearer abcdefghijklmnopqrstuvwxyz123456" } })), "Header");
        var withKey = await _client.CreateWorkflowAsync(creator, Line(new { },
            Node("call", "http_request", new { url = "https://api.example.com/items?key=sk-proj-abcdefghijklmnopqrstuvwxyz", method = "GET" })), "Key");

        var child = await _client.CreateWorkflowAsync(creator, Line(new { }), "Child");
        var withChild = await _client.CreateWorkflowAsync(creator, Line(new { }, Node("child", "sub_workflow", new { workflowId = child })), "Parent");
        var withDefault = await _client.CreateWorkflowAsync(creator, Line(new { }), "Default",
            new { type = "object", properties = new { key = new { type = "string", @default = "sk-live-abcdefghijklmnopqrstuvwxyz" } } });

        var stripped = await _client.SubmitAsync(creator, withReference, NewSlug(), "Referenced");
        var schemaDefault = await _client.SubmitAsync(creator, withDefault, NewSlug(), "Default");
        var parent = await _client.SubmitAsync(creator, withChild, NewSlug(), "Parent");
        var header = await _client.SubmitAsync(creator, withHeader, NewSlug(), "Header");
        var key = await _client.SubmitAsync(creator, withKey, NewSlug(), "Key");

        Assert.Equal(HttpStatusCode.Created, stripped.Status);
        var field = Assert.Single(stripped.Data["stripped"]!.AsArray())!;
        Assert.Equal("call", field["nodeId"]!.GetValue<string>());
        Assert.Equal("credentialId", field["field"]!.GetValue<string>());
        var queued = (await _client.ApiGetAsync("/api/v1/admin/store/submissions?status=pending", store.Admin.AccessToken)).Data.AsArray()
            .Single(s => s!["submission"]!["id"]!.GetValue<string>() == stripped.Data["id"]!.GetValue<string>())!;
        Assert.DoesNotContain("cred_123", queued.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, header.Status);
        Assert.Equal("definition.nodes[call].config.headers.Authorization", header.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, key.Status);
        Assert.Equal("definition.nodes[call].config.url", key.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, schemaDefault.Status);
        Assert.Equal("inputsSchema.properties.key.default", schemaDefault.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, parent.Status);
        Assert.Equal("definition.nodes[child].config.workflowId", parent.Body!["error"]!["details"]![0]!["field"]!.GetValue<string>());
    }

    [Fact]
    public async Task Submissions_BadInput_GetsTheErrorEnvelope()
    {
        var creator = await _client.CreatorAsync();
        var stranger = await _client.RegisterAsync();
        var workflowId = await _client.CreateWorkflowAsync(creator, Line(new { }));

        var cases = new[]
        {
            await _client.SubmitAsync(creator, workflowId, "Bad Slug!", "x"),
            await _client.SubmitAsync(creator, workflowId, NewSlug(), "x", ["Not a category"]),
            await _client.SubmitAsync(creator, workflowId, NewSlug(), "x", mediaIds: ["media_nope"]),
            await _client.SubmitAsync(creator, workflowId, NewSlug(), "x", version: 7),
            await _client.SubmitAsync(creator, "wf_nope", NewSlug(), "x"),
            await _client.ApiPostAsync("/api/v1/store/submissions", "{\"workflowId\": 5}", creator.AccessToken),
            await _client.ApiPostAsync("/api/v1/store/agents/lst_nope/add", new { }, stranger.AccessToken),
            await _client.ApiGetAsync("/api/v1/store/submissions?status=lost", creator.AccessToken),
        };

        Assert.Equal(
            [HttpStatusCode.UnprocessableEntity, HttpStatusCode.UnprocessableEntity, HttpStatusCode.UnprocessableEntity, HttpStatusCode.NotFound,
             HttpStatusCode.NotFound, HttpStatusCode.BadRequest, HttpStatusCode.NotFound, HttpStatusCode.UnprocessableEntity],
            cases.Select(c => c.Status));
        Assert.All(cases, c => Assert.False(c.Body!["success"]!.GetValue<bool>()));
        Assert.Equal(HttpStatusCode.Unauthorized, (await _client.ApiGetAsync("/api/v1/store/agents")).Status);
    }

    private async Task<long> WaitForRunsAsync(string listingId, TestUser reader, long atLeast)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var runs = (await _client.ApiGetAsync($"/api/v1/store/agents/{listingId}", reader.AccessToken)).Data["runs"]!.GetValue<long>();
            if (runs >= atLeast || DateTime.UtcNow > deadline)
            {
                return runs;
            }

            await Task.Delay(50);
        }
    }
}
