using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Serverless.Functions.Features.Library;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Store;

internal sealed record RatingDto(double? Average, long Count);

internal sealed record ListingCreatorDto(string Username, string? Name, string? AvatarUrl);

/// <summary>A listing in a list. Nothing of the submitter's workspace, workflows or credentials is part of it.</summary>
internal sealed record ListingCardDto(
    string Id, string Slug, string Name, string? Description, IReadOnlyList<string> Categories, string Creator, string? ImageUrl, RatingDto Rating,
    long Runs, int LatestVersion, DateTimeOffset UpdatedAt)
{
    public static ListingCardDto From(ListingRecord l) => new(l.Id, l.Slug, l.Name, l.Description, l.Categories, l.CreatorUsername,
        l.MediaIds.Count > 0 ? MediaDto.UrlOf(l.MediaIds[0]) : null, new RatingDto(l.RatingAverage, l.RatingCount), l.Runs, l.LatestVersion, l.UpdatedAt);
}

internal sealed record ListingVersionDto(int Version, DateTimeOffset ApprovedAt);

internal sealed record ListingDto(
    string Id, string Slug, string Name, string? Description, IReadOnlyList<string> Categories, ListingCreatorDto Creator, IReadOnlyList<string> Media,
    RatingDto Rating, long Runs, int LatestVersion, IReadOnlyList<ListingVersionDto> Versions, WorkflowDefinition? Definition, JsonObject? InputsSchema,
    ReviewDto? MyReview, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record ReviewDto(int Rating, string? Comment, DateTimeOffset UpdatedAt);

/// <summary><c>GET /api/v1/store/agents</c>: approved listings; <c>category</c> picks the category's partition, each sort order is an index scan.</summary>
internal static class ListStoreAgents
{
    public static async Task<IResult> HandleAsync(ListQuery query, string? category, HttpRequest http, StoreData data, CancellationToken cancellationToken)
    {
        var list = new IndexedList<ListingRecord>(data.Listings, "runs", DefaultDescending: true,
            Matches: (l, s) => l.Name.Contains(s, StringComparison.OrdinalIgnoreCase) || (l.Description ?? "").Contains(s, StringComparison.OrdinalIgnoreCase)
                || l.Slug.Contains(s, StringComparison.OrdinalIgnoreCase));
        if (category is not null && !StoreNames.IsCategory(category))
        {
            return Api.Validation("category", StoreNames.CategoryRule);
        }

        // Most runs and best rated come first unless the caller asks for ascending.
        query = query.SortBy is not null && !http.Query.ContainsKey("sortOrder") ? query with { Descending = query.SortBy != "name" } : query;
        var partition = category is null ? StoreData.AllPartition : StoreData.CategoryPartition(category);
        return await LibraryItems.ListAsync(list, partition, query, null, ListingCardDto.From, cancellationToken);
    }
}

/// <summary><c>GET /api/v1/store/agents/{id}</c> (id or slug): the listing with its versions, creator, media, rating, runs and the latest graph.</summary>
internal static class GetStoreAgent
{
    public static async Task<IResult> HandleAsync(string id, Caller caller, StoreData data, CancellationToken cancellationToken)
    {
        if (await data.FindListingAsync(id, cancellationToken) is not { } listing)
        {
            return Api.NotFound("The listing was not found.");
        }

        var creator = (await data.Creators.GetAsync(StoreData.AllPartition, listing.CreatorId, cancellationToken))?.Value;
        var graph = await data.GraphAsync(listing.Id, listing.LatestVersion, cancellationToken);
        var mine = await data.Reviews.GetAsync(listing.Id, caller.UserId, cancellationToken);
        return Api.Ok(new ListingDto(
            listing.Id, listing.Slug, listing.Name, listing.Description, listing.Categories,
            new ListingCreatorDto(creator?.Username ?? listing.CreatorUsername, creator?.Name, creator?.AvatarMediaId is { } avatar ? MediaDto.UrlOf(avatar) : null),
            [.. listing.MediaIds.Select(MediaDto.UrlOf)], new RatingDto(listing.RatingAverage, listing.RatingCount), listing.Runs, listing.LatestVersion,
            [.. listing.Versions.Select(v => new ListingVersionDto(v.Version, v.ApprovedAt))], graph?.Definition, graph?.InputsSchema,
            mine is null ? null : new ReviewDto(mine.Rating, mine.Comment, mine.UpdatedAt), listing.CreatedAt, listing.UpdatedAt));
    }
}

/// <summary><c>POST /api/v1/store/agents/{id}/reviews</c> <c>{rating, comment?}</c>: one review per user; posting again replaces it.</summary>
internal static class ReviewStoreAgent
{
    internal sealed record Request(int? Rating, string? Comment);

    public static async Task<IResult> HandleAsync(string id, Request request, Caller caller, StoreData data, TimeProvider time, CancellationToken cancellationToken)
    {
        var check = new Validator()
            .When(request.Rating is not (>= 1 and <= 5), "rating", "rating is a whole number from 1 to 5.")
            .MaxLength("comment", request.Comment, 2000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await data.FindListingAsync(id, cancellationToken) is not { } listing)
        {
            return Api.NotFound("The listing was not found.");
        }

        if (listing.CreatorId == caller.UserId)
        {
            return Api.Forbidden("Creators do not review their own listings.");
        }

        var now = time.GetUtcNow();
        var rating = request.Rating!.Value;
        var review = new ReviewRecord(caller.UserId, rating, request.Comment, now, now);
        int? previous = null;
        for (var attempt = 0; ; attempt++)
        {
            var replaced = await data.Reviews.UpdateAsync(listing.Id, caller.UserId, r =>
            {
                previous = r.Rating;
                return review with { CreatedAt = r.CreatedAt };
            }, cancellationToken);
            if (replaced is not null || (await data.Reviews.InsertAsync(listing.Id, review, cancellationToken)).Succeeded)
            {
                break;
            }

            if (attempt == 3)
            {
                return Api.Conflict("Your review was being written at the same time; send it again.");
            }
        }

        // The listing keeps the sum and count, so the average costs nothing to read.
        var updated = await data.ChangeListingAsync(listing.Id, l => l is null ? null : l with
        {
            RatingSum = l.RatingSum + rating - (previous ?? 0),
            RatingCount = l.RatingCount + (previous is null ? 1 : 0),
        }, cancellationToken);
        return Api.Ok(new { review = new ReviewDto(review.Rating, review.Comment, review.UpdatedAt), rating = new RatingDto(updated?.RatingAverage, updated?.RatingCount ?? 0) });
    }
}

/// <summary>
/// <c>POST /api/v1/store/agents/{id}/add</c> <c>{version?}</c>: copies the listed graph into the caller's workspace as a new
/// workflow, marked with the listing (its runs count for the listing), and saves it to the library.
/// </summary>
internal static class AddStoreAgent
{
    internal sealed record Request(int? Version);

    internal sealed record Response(string WorkflowId, int WorkflowVersion, LibraryAgentDto LibraryAgent, string ListingId, int ListingVersion);

    public static async Task<IResult> HandleAsync(
        string id, Request? request, Caller caller, WorkspaceContext workspace, StoreData data, WorkflowStore workflows, LibraryStore library,
        DefinitionValidator validator, TimeProvider time, ILogger<StoreData> logger, CancellationToken cancellationToken)
    {
        if (await data.FindListingAsync(id, cancellationToken) is not { } listing)
        {
            return Api.NotFound("The listing was not found.");
        }

        var version = request?.Version ?? listing.LatestVersion;
        if (await data.GraphAsync(listing.Id, version, cancellationToken) is not { } graph)
        {
            return Api.NotFound($"Version {version} of the listing was not found.");
        }

        // Stripped credential references may leave a node that needs the adder's own credential: the copy then waits as a draft.
        var status = new Validator().CheckDefinitionToRun(validator, graph.Definition).IsValid ? WorkflowStatus.Active : WorkflowStatus.Paused;
        var created = await workflows.CreateAsync(workspace.WorkspaceId, graph.Name, graph.Description, status, false, graph.Definition, graph.InputsSchema, null,
            caller.UserId, cancellationToken);
        var stored = await workflows.GetAsync(workspace.WorkspaceId, created.Id, cancellationToken);
        var marked = stored is null ? null : await workflows.SaveAsync(stored, stored.Value with { StoreListingId = listing.Id }, false, caller.UserId, cancellationToken);
        if (marked is null)
        {
            return Api.Conflict("The new workflow changed while it was being added; look for it in your workflows.");
        }

        var now = time.GetUtcNow();
        var agent = new LibraryAgentRecord(LibraryStore.NewAgentId(), marked.Id, marked.Version, listing.Name, listing.Description, false, now, now);
        await library.Agents.InsertAsync(workspace.WorkspaceId, agent, cancellationToken);
        StoreLog.Added(logger, listing.Id, workspace.WorkspaceId, marked.Id);
        return Api.Created(new Response(marked.Id, marked.Version, LibraryAgentDto.From(agent), listing.Id, version), $"/api/v1/library/agents/{agent.Id}");
    }
}

internal static partial class StoreNames
{
    public const string CategoryRule = "A category is 1-32 lowercase letters, digits or '-'.";
    public const string SlugRule = "slug is 3-60 lowercase letters and digits in words joined by '-'.";

    public static bool IsCategory(string value) => CategoryPattern().IsMatch(value);

    public static bool IsSlug(string value) => value.Length is >= 3 and <= 60 && SlugPattern().IsMatch(value);

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,31}$")]
    private static partial Regex CategoryPattern();

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    private static partial Regex SlugPattern();
}
