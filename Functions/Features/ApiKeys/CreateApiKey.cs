using Serverless.Functions.Platform.Ai;
using Serverless.Functions.Platform.Http;
using Serverless.Functions.Platform.Security;

namespace Serverless.Functions.Features.ApiKeys;

internal static class CreateApiKey
{
    internal sealed record Request(
        string? Name, IReadOnlyList<string>? Scopes, DateTimeOffset? ExpiresAt, int? RateLimitPerMinute,
        IReadOnlyList<string>? AllowedModels = null, int? ModelRequestsPerMinute = null, int? ModelTokensPerMinute = null, decimal? MonthlyBudgetUsd = null);

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
            .When(request.RateLimitPerMinute is < 1 or > 10_000_000, "rateLimitPerMinute", "rateLimitPerMinute must be from 1 to 10000000.")
            .When(request.AllowedModels is { } models && (models.Count > 200 || models.Any(m => string.IsNullOrWhiteSpace(m) || m.Length > 200)),
                "allowedModels", "allowedModels must list at most 200 non-empty model ids.")
            .When(request.ModelRequestsPerMinute is < 1 or > 10_000_000, "modelRequestsPerMinute", "modelRequestsPerMinute must be from 1 to 10000000.")
            .When(request.ModelTokensPerMinute is < 1 or > 1_000_000_000, "modelTokensPerMinute", "modelTokensPerMinute must be from 1 to 1000000000.")
            .When(request.MonthlyBudgetUsd is < 0 or > 10_000_000, "monthlyBudgetUsd", "monthlyBudgetUsd must be from 0 to 10000000.");
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

        // Limits bind one key: a limited key minting a model-using key would step around its own quota and budget.
        if (caller.ModelLimits is not null && scopes.Contains(Platform.Security.Scopes.ModelsUse))
        {
            return Api.Forbidden("A key with model limits cannot create keys that use models; create them from a user session.");
        }

        var (record, secret) = await keys.CreateAsync(caller.UserId, workspace.WorkspaceId, request.Name!.Trim(), scopes,
            request.ExpiresAt, request.RateLimitPerMinute, LimitsOf(request), cancellationToken);
        return Api.Created(new CreatedApiKeyDto(record.Id, record.Name, secret, record.Prefix, record.Scopes, record.WorkspaceId,
            record.ExpiresAt, record.RateLimitPerMinute, record.CreatedAt,
            record.AllowedModels, record.ModelRequestsPerMinute, record.ModelTokensPerMinute, record.MonthlyBudgetUsd));
    }

    private static ModelLimits? LimitsOf(Request request)
    {
        var models = request.AllowedModels?.Select(m => m.Trim()).Distinct(StringComparer.Ordinal).ToList();
        return models is null && request.ModelRequestsPerMinute is null && request.ModelTokensPerMinute is null && request.MonthlyBudgetUsd is null
            ? null
            : new ModelLimits(models, request.ModelRequestsPerMinute, request.ModelTokensPerMinute, request.MonthlyBudgetUsd);
    }
}
