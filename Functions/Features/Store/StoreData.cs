using System.Globalization;
using System.Text.Json.Nodes;
using Serverless.Functions.Platform.Security;
using Serverless.Functions.Platform.Storage;
using Serverless.Orchestrations.Definitions;
using Serverless.Orchestrations.Ports;

namespace Serverless.Functions.Features.Store;

internal static class SubmissionStatus
{
    public const string Pending = "pending";
    public const string Approved = "approved";
    public const string Rejected = "rejected";

    public static bool IsValid(string? status) => status is Pending or Approved or Rejected;
}

/// <summary>A creator's public profile (one per user); <paramref name="ListingCount"/> counts their approved listings.</summary>
internal sealed record CreatorRecord(
    string UserId, string Username, string? Name, string? Description, IReadOnlyList<string> Links, string? AvatarMediaId, int ListingCount,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>A field taken out of a submitted graph (a credential or integration reference).</summary>
internal sealed record StrippedField(string NodeId, string Field);

/// <summary>
/// A snapshot of a workflow version offered to the store. The submitter's workspace is never kept: only the workflow id
/// (shown to the submitter alone) and the sanitized graph.
/// </summary>
internal sealed record SubmissionRecord(
    string Id, string CreatorId, string ListingId, string WorkflowId, int WorkflowVersion, string Name, string Slug, string? Description,
    IReadOnlyList<string> Categories, IReadOnlyList<string> MediaIds, WorkflowDefinition Definition, JsonObject? InputsSchema,
    IReadOnlyList<StrippedField> Stripped, string Status, string? ReviewerComment, string? ReviewedBy, DateTimeOffset? ReviewedAt, int? ListingVersion,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

internal sealed record ListingVersionInfo(int Version, string SubmissionId, DateTimeOffset ApprovedAt);

/// <summary>
/// An approved listing as the store shows it. Kept in partition <see cref="StoreData.AllPartition"/> (the source of truth)
/// and copied into one partition per category, so a category's page is one index range scan; <paramref name="Revision"/>
/// lets a copy refuse an older write.
/// </summary>
internal sealed record ListingRecord(
    string Id, string Slug, string CreatorId, string CreatorUsername, string Name, string? Description, IReadOnlyList<string> Categories,
    IReadOnlyList<string> MediaIds, IReadOnlyList<ListingVersionInfo> Versions, long Runs, long RatingSum, long RatingCount, long Revision,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public int LatestVersion => Versions.Count == 0 ? 0 : Versions[^1].Version;

    public double? RatingAverage => RatingCount == 0 ? null : Math.Round((double)RatingSum / RatingCount, 2);
}

/// <summary>The graph of one listed version (partition = listing id).</summary>
internal sealed record ListingGraphRecord(int Version, string Name, string? Description, WorkflowDefinition Definition, JsonObject? InputsSchema, DateTimeOffset ApprovedAt);

internal sealed record ReviewRecord(string UserId, int Rating, string? Comment, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Who owns a slug or a username (and, for a slug, the listing it names).</summary>
internal sealed record NameClaim(string OwnerId, string? ListingId);

/// <summary>An uploaded image or video; <paramref name="Listed"/> once an approved listing or a profile shows it.</summary>
internal sealed record MediaRecord(string Id, string OwnerId, string ContentType, long Length, string ETag, bool Listed, DateTimeOffset CreatedAt);

internal sealed record RunMark(string ListingId);

/// <summary>The store's tables: creators, submissions, listings (with their version graphs and reviews), names and media.</summary>
internal sealed class StoreData(IEntityStore store)
{
    public const string AllPartition = "all";
    public const string MediaContainer = "store-media";
    public const string Listed = "yes";
    public const int MaxListingsPerCreatorPage = 100;

    private const string SlugPartition = "slug";
    private const string UsernamePartition = "username";

    public static readonly ListIndex<ListingRecord> ListingIndex = new(
        version: 1,
        l => l.Id,
        new Dictionary<string, Func<ListingRecord, string>>
        {
            ["runs"] = l => l.Runs.ToString("D19", CultureInfo.InvariantCulture),
            // Average first (to a thousandth), then how many rated it.
            ["rating"] = l => ((long)Math.Round(l.RatingCount == 0 ? 0 : 1000.0 * l.RatingSum / l.RatingCount)).ToString("D5", CultureInfo.InvariantCulture)
                + l.RatingCount.ToString("D12", CultureInfo.InvariantCulture),
            ["updatedAt"] = l => l.UpdatedAt.UtcDateTime.ToString("O"),
            ["name"] = l => l.Name.ToLowerInvariant(),
        },
        new Dictionary<string, Func<ListingRecord, string?>> { ["creator"] = l => l.CreatorId });

    public static readonly ListIndex<SubmissionRecord> SubmissionIndex = new(
        version: 1,
        s => s.Id,
        new Dictionary<string, Func<SubmissionRecord, string>> { ["createdAt"] = s => s.CreatedAt.UtcDateTime.ToString("O") },
        new Dictionary<string, Func<SubmissionRecord, string?>>
        {
            ["status"] = s => s.Status,
            ["creator"] = s => s.CreatorId,
            ["creatorStatus"] = s => s.CreatorId + "|" + s.Status,
        });

    public static readonly ListIndex<CreatorRecord> CreatorIndex = new(
        version: 1,
        c => c.UserId,
        new Dictionary<string, Func<CreatorRecord, string>>
        {
            ["username"] = c => c.Username,
            ["listings"] = c => c.ListingCount.ToString("D10", CultureInfo.InvariantCulture),
        },
        // The public list shows creators with at least one listing.
        new Dictionary<string, Func<CreatorRecord, string?>> { ["listed"] = c => c.ListingCount > 0 ? Listed : null });

    private readonly EntityTable<NameClaim> _names = new(store, "storenames");
    private readonly EntityTable<ListingGraphRecord> _graphs = new(store, "storelistingversions");
    private readonly EntityTable<RunMark> _runMarks = new(store, "storerunmarks");

    /// <summary>Partition <see cref="AllPartition"/> and one per category (<see cref="CategoryPartition"/>).</summary>
    public IndexedTable<ListingRecord> Listings { get; } = new(store, "storelistings", ListingIndex, EntityTable<ListingRecord>.Json);

    /// <summary>Partition <see cref="AllPartition"/>: the submitter's list and the admins' queue are both index scans of it.</summary>
    public IndexedTable<SubmissionRecord> Submissions { get; } = new(store, "storesubmissions", SubmissionIndex, EntityTable<SubmissionRecord>.Json);

    /// <summary>Partition <see cref="AllPartition"/>, id = user id.</summary>
    public IndexedTable<CreatorRecord> Creators { get; } = new(store, "storecreators", CreatorIndex, EntityTable<CreatorRecord>.Json);

    /// <summary>Partition = listing id, id = the reviewer's user id (one review per user).</summary>
    public PartitionRecords<ReviewRecord> Reviews { get; } = new(store, "storereviews", r => r.UserId);

    /// <summary>Partition = media id (ids are unguessable; see <see cref="NewMediaId"/>).</summary>
    public PartitionRecords<MediaRecord> Media { get; } = new(store, "storemedia", m => m.Id);

    public static string CategoryPartition(string category) => "c~" + category;

    public static string NewListingId() => Secrets.NewId("lst");

    public static string NewSubmissionId() => Secrets.NewId("sub");

    /// <summary>144 random bits: a media URL is a capability (an img tag cannot send a token), so its id must not be guessable.</summary>
    public static string NewMediaId() => "media_" + Secrets.NewToken(18);

    public async Task<NameClaim?> SlugAsync(string slug, CancellationToken cancellationToken) =>
        (await _names.FindAsync(SlugPartition, slug, cancellationToken))?.Value;

    /// <summary>The slug's claim: the caller's (new or existing), or another creator's (then the caller may not use it).</summary>
    public async Task<NameClaim> ClaimSlugAsync(string slug, string userId, CancellationToken cancellationToken)
    {
        if (await SlugAsync(slug, cancellationToken) is { } existing)
        {
            return existing;
        }

        var claim = new NameClaim(userId, NewListingId());
        return (await _names.InsertAsync(SlugPartition, slug, claim, cancellationToken)).Succeeded ? claim : (await SlugAsync(slug, cancellationToken))!;
    }

    public async Task<string?> UserOfUsernameAsync(string username, CancellationToken cancellationToken) =>
        (await _names.FindAsync(UsernamePartition, username, cancellationToken))?.Value.OwnerId;

    /// <summary>True when the username is (now) the user's.</summary>
    public async Task<bool> ClaimUsernameAsync(string username, string userId, CancellationToken cancellationToken)
    {
        if (await UserOfUsernameAsync(username, cancellationToken) is { } owner)
        {
            return owner == userId;
        }

        return (await _names.InsertAsync(UsernamePartition, username, new NameClaim(userId, null), cancellationToken)).Succeeded
            || await UserOfUsernameAsync(username, cancellationToken) == userId;
    }

    public Task ReleaseUsernameAsync(string username, CancellationToken cancellationToken) =>
        _names.DeleteAsync(UsernamePartition, username, null, cancellationToken);

    public async Task<ListingRecord?> FindListingAsync(string idOrSlug, CancellationToken cancellationToken)
    {
        var id = idOrSlug.StartsWith("lst_", StringComparison.Ordinal) ? idOrSlug : (await SlugAsync(idOrSlug, cancellationToken))?.ListingId;
        return id is null ? null : (await Listings.GetAsync(AllPartition, id, cancellationToken))?.Value;
    }

    /// <summary>A creator's listings, most recently updated first (the latest <see cref="MaxListingsPerCreatorPage"/>).</summary>
    public async Task<IReadOnlyList<ListingRecord>> ListingsOfAsync(string creatorId, CancellationToken cancellationToken) =>
        (await Listings.ListAsync(AllPartition,
            new IndexQuery<ListingRecord> { Order = "updatedAt", Descending = true, Limit = MaxListingsPerCreatorPage, Filter = ("creator", creatorId) },
            cancellationToken)).Items;

    public Task<WriteResult> InsertGraphAsync(string listingId, ListingGraphRecord graph, CancellationToken cancellationToken) =>
        _graphs.InsertAsync(listingId, VersionKey(graph.Version), graph, cancellationToken);

    public async Task<ListingGraphRecord?> GraphAsync(string listingId, int version, CancellationToken cancellationToken) =>
        (await _graphs.FindAsync(listingId, VersionKey(version), cancellationToken))?.Value;

    /// <summary>
    /// Changes a listing (or creates it when <paramref name="change"/> accepts null) in its source partition, then brings its
    /// category copies in line: written where it is listed now, removed where it no longer is.
    /// </summary>
    public async Task<ListingRecord?> ChangeListingAsync(string id, Func<ListingRecord?, ListingRecord?> change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var current = await Listings.GetAsync(AllPartition, id, cancellationToken);
            if (change(current?.Value) is not { } updated)
            {
                return current?.Value;
            }

            updated = updated with { Revision = (current?.Value.Revision ?? 0) + 1 };
            var written = current is null
                ? await Listings.InsertAsync(AllPartition, updated, cancellationToken)
                : await Listings.ReplaceAsync(AllPartition, current, updated, cancellationToken);
            if (!written.Succeeded)
            {
                continue;
            }

            foreach (var category in updated.Categories)
            {
                await CopyAsync(CategoryPartition(category), updated, cancellationToken);
            }

            foreach (var dropped in current?.Value.Categories.Except(updated.Categories, StringComparer.Ordinal) ?? [])
            {
                await Listings.DeleteAsync(CategoryPartition(dropped), id, null, cancellationToken);
            }

            return updated;
        }

        throw new InvalidOperationException($"Listing {id} kept changing under ten attempts to write it.");
    }

    /// <summary>Records that a run was counted; false when it already was (a run's end may be reported twice).</summary>
    public async Task<bool> MarkRunAsync(string listingId, string runId, CancellationToken cancellationToken) =>
        StoreKeys.IsValidKey(runId) && (await _runMarks.InsertAsync(listingId, runId, new RunMark(listingId), cancellationToken)).Succeeded;

    private async Task CopyAsync(string partition, ListingRecord listing, CancellationToken cancellationToken)
    {
        // An older revision never overwrites a newer one (two changes may copy out of order).
        if (await Listings.UpdateAsync(partition, listing.Id, copy => copy.Revision >= listing.Revision ? null : listing, cancellationToken) is null)
        {
            await Listings.InsertAsync(partition, listing, cancellationToken);
        }
    }

    private static string VersionKey(int version) => version.ToString("D10", CultureInfo.InvariantCulture);
}
