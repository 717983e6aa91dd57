using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.ApiKeys;

internal static class CreateApiKey
{
    internal sealed record Request(string? Name, IReadOnlyList<string>? Scopes, DateTimeOffset? ExpiresAt, int? RateLimitPerMinute);

    public static async Task<IResult> HandleAsync(
        Request request, Caller caller, WorkspaceContext workspace, ApiKeyStore keys, TimeProvider time, CancellationToken cancellationToken)
    {
        var scopes = request.Scopes?.Distinct(StringComparer.Ordinal).ToList() ?? [];
        var unknown = scopes.Where(s => !Platform.Security.Scopes.Names.Contains(s)).ToList();
        var check = new Validator()
            .Require("name", request.Name, 100)
            .When(scopes.Count == 0, "scopes", "Give at least one scope (see GET /api/v1/auth/scopes).")
            .When(unknown.Count > 0, "scopes", $"Unknown scopes: {string.Join(", ", unknown)}.")
            .When(request.ExpiresAt is { } at && at <= time.GetUtcNow(), "expiresAt", "expiresAt must be in the future.")
            .When(request.RateLimitPerMinute is < 1 or > 10_000_000, "rateLimitPerMinute", "rateLimitPerMinute must be from 1 to 10000000.");
        if (!check.IsValid)
        {
            return check.ToResult();
        }

        // A key may mint keys, but never one that can do more than itself.
        var beyond = scopes.Where(s => !caller.HasScope(s)).ToList();
        if (beyond.Count > 0)
        {
            return Api.Forbidden($"A key cannot grant scopes it does not hold: {string.Join(", ", beyond)}.");
        }

        var (record, secret) = await keys.CreateAsync(caller.UserId, workspace.WorkspaceId, request.Name!.Trim(), scopes,
            request.ExpiresAt, request.RateLimitPerMinute, cancellationToken);
        return Api.Created(new CreatedApiKeyDto(record.Id, record.Name, secret, record.Prefix, record.Scopes, record.WorkspaceId,
            record.ExpiresAt, record.RateLimitPerMinute, record.CreatedAt));
    }
}
