using System.Text.RegularExpressions;
using Serverless.Functions.Features.Library;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.Store;

internal sealed record CreatorDto(string Username, string? Name, string? Description, IReadOnlyList<string> Links, string? AvatarUrl, int ListingCount)
{
    public static CreatorDto From(CreatorRecord c) =>
        new(c.Username, c.Name, c.Description, c.Links, c.AvatarMediaId is { } avatar ? MediaDto.UrlOf(avatar) : null, c.ListingCount);
}

internal sealed record CreatorTotalsDto(int Listings, long Runs, double? AverageRating, long RatingCount);

internal sealed record CreatorDetailDto(CreatorDto Profile, IReadOnlyList<ListingCardDto> Listings, CreatorTotalsDto Totals);

/// <summary><c>GET /api/v1/store/creators</c>: creators with at least one listing, by username (or sortBy=listings).</summary>
internal static class ListStoreCreators
{
    public static async Task<IResult> HandleAsync(ListQuery query, StoreData data, CancellationToken cancellationToken)
    {
        var list = new IndexedList<CreatorRecord>(data.Creators, "username", DefaultDescending: false,
            Matches: (c, s) => c.Username.Contains(s, StringComparison.OrdinalIgnoreCase) || (c.Name ?? "").Contains(s, StringComparison.OrdinalIgnoreCase));
        return await LibraryItems.ListAsync(list, StoreData.AllPartition, query, new ListRequest<CreatorRecord> { Filters = [("listed", StoreData.Listed)] },
            CreatorDto.From, cancellationToken);
    }
}

/// <summary><c>GET /api/v1/store/creators/{username}</c>: the profile, the creator's listings (the latest 100) and their totals.</summary>
internal static class GetStoreCreator
{
    public static async Task<IResult> HandleAsync(string username, StoreData data, CancellationToken cancellationToken)
    {
        if (await data.UserOfUsernameAsync(username.ToLowerInvariant(), cancellationToken) is not { } userId
            || await data.Creators.GetAsync(StoreData.AllPartition, userId, cancellationToken) is not { } creator)
        {
            return Api.NotFound("The creator was not found.");
        }

        var listings = await data.ListingsOfAsync(userId, cancellationToken);
        var ratingSum = listings.Sum(l => l.RatingSum);
        var ratingCount = listings.Sum(l => l.RatingCount);
        var totals = new CreatorTotalsDto(listings.Count, listings.Sum(l => l.Runs), ratingCount == 0 ? null : Math.Round((double)ratingSum / ratingCount, 2), ratingCount);
        return Api.Ok(new CreatorDetailDto(CreatorDto.From(creator.Value), [.. listings.Select(ListingCardDto.From)], totals));
    }
}

/// <summary><c>PUT /api/v1/store/profile</c>: the caller's creator profile (created on first use). Usernames are unique.</summary>
internal static partial class UpdateStoreProfile
{
    internal sealed record Request(string? Username, string? Name, string? Description, IReadOnlyList<string>? Links, string? AvatarMediaId);

    public static async Task<IResult> HandleAsync(Request request, Caller caller, StoreData data, TimeProvider time, CancellationToken cancellationToken)
    {
        var current = (await data.Creators.GetAsync(StoreData.AllPartition, caller.UserId, cancellationToken))?.Value;
        var username = request.Username?.Trim().ToLowerInvariant() ?? current?.Username;
        var links = request.Links ?? current?.Links ?? [];
        var check = new Validator()
            .When(username is null, "username", "username is required for a new profile.")
            .When(username is not null && !UsernamePattern().IsMatch(username), "username", "username is 3-32 lowercase letters, digits, '-' or '_', starting with a letter or digit.")
            .MaxLength("name", request.Name, 100)
            .MaxLength("description", request.Description, 2000)
            .When(links.Count > 10, "links", "At most 10 links.")
            .When(links.Any(l => !Uri.TryCreate(l, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http") || l.Length > 500),
                "links", "Each link is an absolute http(s) URL of at most 500 characters.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        var avatar = request.AvatarMediaId ?? current?.AvatarMediaId;
        if (request.AvatarMediaId is { } mediaId
            && (await data.Media.GetAsync(mediaId, mediaId, cancellationToken) is not { } media || media.OwnerId != caller.UserId || !media.ContentType.StartsWith("image/", StringComparison.Ordinal)))
        {
            return Api.Validation("avatarMediaId", "avatarMediaId must be an image you uploaded (POST /api/v1/store/media).");
        }

        if (username != current?.Username && !await data.ClaimUsernameAsync(username!, caller.UserId, cancellationToken))
        {
            return Api.Conflict($"The username '{username}' is taken.");
        }

        var now = time.GetUtcNow();
        CreatorRecord Changed(CreatorRecord? c) => new(caller.UserId, username!, request.Name ?? c?.Name, request.Description ?? c?.Description, links, avatar,
            c?.ListingCount ?? 0, c?.CreatedAt ?? now, now);
        CreatorRecord profile;
        if (current is null)
        {
            profile = Changed(null);
            if (!(await data.Creators.InsertAsync(StoreData.AllPartition, profile, cancellationToken)).Succeeded)
            {
                return Api.Conflict("Your profile was being created at the same time; send it again.");
            }
        }
        else
        {
            // Applied to the stored record: what an approval changed meanwhile (the listing count) stays.
            profile = (await data.Creators.UpdateAsync(StoreData.AllPartition, caller.UserId, Changed, cancellationToken))?.Value ?? Changed(current);
        }

        if (current is not null && current.Username != username)
        {
            await data.ReleaseUsernameAsync(current.Username, cancellationToken);
            // Cards show the creator's username; a creator has few listings (the creator page shows at most 100).
            foreach (var listing in await data.ListingsOfAsync(caller.UserId, cancellationToken))
            {
                await data.ChangeListingAsync(listing.Id, l => l is null ? null : l with { CreatorUsername = username! }, cancellationToken);
            }
        }

        if (avatar is not null)
        {
            await data.Media.UpdateAsync(avatar, avatar, m => m.Listed ? null : m with { Listed = true }, cancellationToken);
        }

        return Api.Ok(CreatorDto.From(profile));
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{2,31}$")]
    private static partial Regex UsernamePattern();
}
