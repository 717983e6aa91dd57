using System.Text.Json.Nodes;
using Serverless.Functions.Features.Library;
using Serverless.Functions.Features.Workflows;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;
using Serverless.Orchestrations.Definitions;

namespace Serverless.Functions.Features.Store;

/// <summary>A submission as its submitter (and the admins) see it.</summary>
internal sealed record SubmissionDto(
    string Id, string Status, string Name, string Slug, string? Description, IReadOnlyList<string> Categories, IReadOnlyList<string> MediaIds,
    string WorkflowId, int WorkflowVersion, IReadOnlyList<StrippedField> Stripped, string? ReviewerComment, DateTimeOffset? ReviewedAt, string ListingId,
    int? ListingVersion, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static SubmissionDto From(SubmissionRecord s) => new(s.Id, s.Status, s.Name, s.Slug, s.Description, s.Categories, s.MediaIds, s.WorkflowId,
        s.WorkflowVersion, s.Stripped, s.ReviewerComment, s.ReviewedAt, s.ListingId, s.ListingVersion, s.CreatedAt, s.UpdatedAt);
}

/// <summary>What an admin reviews: the submission, who sent it (user id) and the sanitized graph.</summary>
internal sealed record AdminSubmissionDto(SubmissionDto Submission, string CreatorId, WorkflowDefinition Definition, JsonObject? InputsSchema);

/// <summary>
/// <c>POST /api/v1/store/submissions</c>: a snapshot of a workflow version (default: its current one), sanitized (credential
/// references stripped, literal secrets refused), waiting for review. The slug is the creator's from the first submission on.
/// </summary>
internal static class CreateStoreSubmission
{
    public const int MaxCategories = 5;
    public const int MaxMedia = 10;

    internal sealed record Request(
        string? WorkflowId, int? Version, string? Name, string? Slug, string? Description, IReadOnlyList<string>? Categories, IReadOnlyList<string>? MediaIds);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, StoreData data, WorkflowStore workflows, TimeProvider time, ILogger<StoreData> logger,
        CancellationToken cancellationToken)
    {
        var categories = (request.Categories ?? []).Select(c => c?.Trim().ToLowerInvariant() ?? "").Distinct(StringComparer.Ordinal).ToList();
        var mediaIds = (request.MediaIds ?? []).Distinct(StringComparer.Ordinal).ToList();
        var slug = request.Slug?.Trim().ToLowerInvariant();
        var check = new Validator()
            .Require("workflowId", request.WorkflowId, 100)
            .Require("name", request.Name, 200)
            .Require("slug", slug, 60)
            .When(slug is { Length: > 0 } && !StoreNames.IsSlug(slug), "slug", StoreNames.SlugRule)
            .MaxLength("description", request.Description, 5000)
            .When(categories.Count > MaxCategories, "categories", $"At most {MaxCategories} categories.")
            .When(categories.Any(c => !StoreNames.IsCategory(c)), "categories", StoreNames.CategoryRule)
            .When(mediaIds.Count > MaxMedia, "mediaIds", $"At most {MaxMedia} media.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        if (await data.Creators.GetAsync(StoreData.AllPartition, caller.UserId, cancellationToken) is null)
        {
            return Api.Conflict("Create your creator profile first (PUT /api/v1/store/profile).");
        }

        if (await workflows.GetAsync(workspace.WorkspaceId, request.WorkflowId!, cancellationToken) is not { } workflow)
        {
            return Api.NotFound("The workflow was not found.");
        }

        var version = request.Version ?? workflow.Value.Version;
        var snapshot = version == workflow.Value.Version
            ? new WorkflowVersionRecord(version, workflow.Value.Definition, workflow.Value.InputsSchema, workflow.Value.CreatedBy, workflow.Value.UpdatedAt)
            : await workflows.GetVersionAsync(workflow.Value.Id, version, cancellationToken);
        if (snapshot is null)
        {
            return Api.NotFound($"Version {version} of the workflow was not found.");
        }

        if (WorkflowChecks.IsEmptyDraft(snapshot.Definition))
        {
            return Api.Validation("workflowId", "An empty workflow cannot be submitted.");
        }

        foreach (var mediaId in mediaIds)
        {
            if (await data.Media.GetAsync(mediaId, mediaId, cancellationToken) is not { } media || media.OwnerId != caller.UserId)
            {
                return Api.Validation("mediaIds", $"Media {mediaId} was not found among your uploads (POST /api/v1/store/media).");
            }
        }

        var sanitized = SnapshotSanitizer.Sanitize(snapshot.Definition, snapshot.InputsSchema);
        if (sanitized.Refused.Count > 0)
        {
            return Api.Validation(sanitized.Refused, "The workflow holds secrets; a store listing may not publish them.");
        }

        var claim = await data.ClaimSlugAsync(slug!, caller.UserId, cancellationToken);
        if (claim.OwnerId != caller.UserId)
        {
            return Api.Conflict($"The slug '{slug}' belongs to another creator.");
        }

        var now = time.GetUtcNow();
        var submission = new SubmissionRecord(StoreData.NewSubmissionId(), caller.UserId, claim.ListingId!, workflow.Value.Id, version, request.Name!.Trim(), slug!,
            request.Description, categories, mediaIds, sanitized.Definition, snapshot.InputsSchema, sanitized.Stripped, SubmissionStatus.Pending, null, null, null, null,
            now, now);
        await data.Submissions.InsertAsync(StoreData.AllPartition, submission, cancellationToken);
        StoreLog.Submitted(logger, submission.Id, slug!, caller.UserId);
        return Api.Created(SubmissionDto.From(submission), $"/api/v1/store/submissions/{submission.Id}");
    }
}

/// <summary><c>GET /api/v1/store/submissions</c>: the caller's own submissions, newest first (status=pending|approved|rejected).</summary>
internal static class ListMyStoreSubmissions
{
    public static async Task<IResult> HandleAsync(ListQuery query, Caller caller, StoreData data, CancellationToken cancellationToken)
    {
        if (query.Status is { } status && !SubmissionStatus.IsValid(status))
        {
            return Api.Validation("status", "status is pending, approved or rejected.");
        }

        var filter = query.Status is { } s ? ("creatorStatus", caller.UserId + "|" + s) : ("creator", caller.UserId);
        return await StoreSubmissionLists.PageAsync(data, query with { Status = null }, filter, SubmissionDto.From, cancellationToken);
    }
}

/// <summary><c>DELETE /api/v1/store/submissions/{id}</c>: withdraws a pending submission; a reviewed one stays (409).</summary>
internal static class DeleteStoreSubmission
{
    public static async Task<IResult> HandleAsync(string id, Caller caller, StoreData data, CancellationToken cancellationToken)
    {
        // Another creator's submission does not exist for the caller.
        if (await data.Submissions.GetAsync(StoreData.AllPartition, id, cancellationToken) is not { } submission || submission.Value.CreatorId != caller.UserId)
        {
            return Api.NotFound("The submission was not found.");
        }

        if (submission.Value.Status != SubmissionStatus.Pending)
        {
            return Api.Conflict($"The submission was {submission.Value.Status}; only a pending submission can be withdrawn.");
        }

        // Under its ETag: a review that lands first wins, and the delete then answers 409.
        var deleted = await data.Submissions.DeleteAsync(StoreData.AllPartition, id, submission.ETag, cancellationToken);
        return deleted.Succeeded ? Api.NoContent() : Api.Conflict("The submission was reviewed meanwhile; only a pending submission can be withdrawn.");
    }
}

/// <summary><c>GET /api/v1/admin/store/submissions</c>: every submission, newest first (status filters in the store).</summary>
internal static class ListAdminStoreSubmissions
{
    public static async Task<IResult> HandleAsync(ListQuery query, StoreData data, CancellationToken cancellationToken)
    {
        if (query.Status is { } status && !SubmissionStatus.IsValid(status))
        {
            return Api.Validation("status", "status is pending, approved or rejected.");
        }

        var filter = query.Status is { } s ? ("status", s) : default((string, string)?);
        return await StoreSubmissionLists.PageAsync(data, query with { Status = null }, filter,
            s => new AdminSubmissionDto(SubmissionDto.From(s), s.CreatorId, s.Definition, s.InputsSchema), cancellationToken);
    }
}

/// <summary>
/// <c>POST /api/v1/admin/store/submissions/{id}/review</c> <c>{decision: approve|reject, comment?}</c>. Approving creates the
/// listing, or adds the snapshot as its next version (same slug, same creator).
/// </summary>
internal static class ReviewStoreSubmission
{
    internal sealed record Request(string? Decision, string? Comment);

    private static readonly TimeSpan UnfinishedAfter = TimeSpan.FromMinutes(1);

    public static async Task<IResult> HandleAsync(
        string id, Request request, Caller caller, StoreData data, TimeProvider time, ILogger<StoreData> logger, CancellationToken cancellationToken)
    {
        var decision = request.Decision?.Trim().ToLowerInvariant();
        var check = new Validator()
            .When(decision is not ("approve" or "reject"), "decision", "decision is approve or reject.")
            .MaxLength("comment", request.Comment, 2000);
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var now = time.GetUtcNow();
        var status = decision == "approve" ? SubmissionStatus.Approved : SubmissionStatus.Rejected;
        var wasPending = false;
        // The status moves first, under the row's ETag: of two admins deciding at once, one decides.
        var reviewed = await data.Submissions.UpdateAsync(StoreData.AllPartition, id, s =>
        {
            wasPending = s.Status == SubmissionStatus.Pending;
            return wasPending ? s with { Status = status, ReviewerComment = request.Comment, ReviewedBy = caller.UserId, ReviewedAt = now, UpdatedAt = now } : null;
        }, cancellationToken);
        if (reviewed is null)
        {
            return Api.NotFound("The submission was not found.");
        }

        // An approval whose listing was never written (the process died between the two writes) is completed by
        // approving again, once it is clearly not an approval still in progress.
        var unfinished = !wasPending && status == SubmissionStatus.Approved && reviewed.Value is { Status: SubmissionStatus.Approved, ListingVersion: null } stale
            && stale.ReviewedAt < now - UnfinishedAfter;
        if (!wasPending && !unfinished)
        {
            return Api.Conflict($"The submission was already {reviewed.Value.Status}.");
        }

        StoreLog.Reviewed(logger, id, status, caller.UserId);
        var submission = reviewed.Value;
        if (status == SubmissionStatus.Approved)
        {
            var version = await ListAsync(submission, data, now, cancellationToken);
            StoreLog.Listed(logger, submission.ListingId, version);
            submission = (await data.Submissions.UpdateAsync(StoreData.AllPartition, id, s => s with { ListingVersion = version }, cancellationToken))?.Value ?? submission;
        }

        return Api.Ok(SubmissionDto.From(submission));
    }

    /// <summary>Stores the snapshot as the listing's next version and updates (or creates) the listing; the version number.</summary>
    private static async Task<int> ListAsync(SubmissionRecord submission, StoreData data, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var creator = (await data.Creators.GetAsync(StoreData.AllPartition, submission.CreatorId, cancellationToken))?.Value;
        var version = 0;
        while (true)
        {
            var current = (await data.Listings.GetAsync(StoreData.AllPartition, submission.ListingId, cancellationToken))?.Value;
            version = (current?.LatestVersion ?? 0) + 1;
            var graph = new ListingGraphRecord(version, submission.Name, submission.Description, submission.Definition, submission.InputsSchema, now);
            // The graph row is never overwritten: two approvals racing for version n get n and n+1.
            if ((await data.InsertGraphAsync(submission.ListingId, graph, cancellationToken)).Succeeded)
            {
                break;
            }
        }

        var info = new ListingVersionInfo(version, submission.Id, now);
        var created = false;
        await data.ChangeListingAsync(submission.ListingId, l =>
        {
            created = l is null;
            var versions = (l?.Versions ?? []).Where(v => v.Version != version).Append(info).OrderBy(v => v.Version).ToList();
            return new ListingRecord(submission.ListingId, submission.Slug, submission.CreatorId, creator?.Username ?? submission.CreatorId, submission.Name,
                submission.Description, submission.Categories, submission.MediaIds, versions, l?.Runs ?? 0, l?.RatingSum ?? 0, l?.RatingCount ?? 0, l?.Revision ?? 0,
                l?.CreatedAt ?? now, now);
        }, cancellationToken);

        if (created)
        {
            await data.Creators.UpdateAsync(StoreData.AllPartition, submission.CreatorId, c => c with { ListingCount = c.ListingCount + 1 }, cancellationToken);
        }

        foreach (var mediaId in submission.MediaIds)
        {
            await data.Media.UpdateAsync(mediaId, mediaId, m => m.Listed ? null : m with { Listed = true }, cancellationToken);
        }

        return version;
    }
}

internal static class StoreSubmissionLists
{
    public static async Task<IResult> PageAsync<TDto>(
        StoreData data, ListQuery query, (string Name, string Value)? filter, Func<SubmissionRecord, TDto> view, CancellationToken cancellationToken)
    {
        var list = new IndexedList<SubmissionRecord>(data.Submissions, "createdAt", DefaultDescending: true,
            Matches: (s, text) => s.Name.Contains(text, StringComparison.OrdinalIgnoreCase) || s.Slug.Contains(text, StringComparison.OrdinalIgnoreCase));
        return await LibraryItems.ListAsync(list, StoreData.AllPartition, query, new ListRequest<SubmissionRecord> { Filters = filter is { } f ? [f] : [] }, view,
            cancellationToken);
    }
}
